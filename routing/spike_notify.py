"""Incident spike alerts for people: after commit, each `alert.spike` event becomes a bell
notification for every active lead and admin (with its live unread count) and a mail to each of
them with an address.

The mail goes at once to everyone, present or away: unlike mentions (routing.notification_mail,
batched for the away every ten minutes) a spike is what a senior must hear of on a Saturday. The
notification rows carry the claim (mailed_at), so a re-dispatched event mails nobody twice.
"""

import logging

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import languages
from inbox import events as outbox
from inbox import groups
from inbox.titles import one_line
from routing.models import Notification
from routing.notifications import push_unread

logger = logging.getLogger(__name__)

EVENT = "alert.spike"


def seniors() -> list[int]:
    """Active leads and admins (superusers count as admins)."""
    from accounts.models import User

    return list(
        User.objects.filter(is_active=True)
        .filter(Q(role__in=[User.Role.LEAD, User.Role.ADMIN]) | Q(is_superuser=True))
        .values_list("pk", flat=True)
    )


def describe(data: dict) -> str:
    """One line: how many, about what, against the usual."""
    what = (_("tagged %(watch)s") if data.get("kind") == "tag" else _('saying "%(watch)s"')) % {
        "watch": data.get("watch", "")
    }
    count = int(data.get("count") or 0)
    return ngettext(
        "%(count)d conversation %(what)s in %(minutes)d minutes (usually %(usual)s).",
        "%(count)d conversations %(what)s in %(minutes)d minutes (usually %(usual)s).",
        count,
    ) % {
        "count": count,
        "what": what,
        "minutes": int(data.get("window_minutes") or 0),
        "usual": f"{float(data.get('baseline') or 0):g}",
    }


def grouped_url(alert_id: int) -> str:
    """The inbox list of the spike's conversations, where a lead bulk-tags and assigns them."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('ui:inbox')}?alert={alert_id}&status=any"


def notify_dispatched(*, events) -> None:
    """Hook on events_dispatched: the batch's spike alerts as notifications of every lead and
    admin (one INSERT, unique per recipient and event), their counts pushed, then one task mails
    them."""
    spikes = [e for e in events if e.type == EVENT and (e.payload or {}).get("alert")]
    if not spikes:
        return
    recipients = seniors()
    if not recipients:
        return
    rows = [
        Notification(
            recipient_id=recipient,
            kind=Notification.Kind.SPIKE,
            alert_id=event.payload["alert"],
            text=one_line(describe(event.payload), 300),
            event_id=event.pk,
            created_at=event.created_at or timezone.now(),
        )
        for event in spikes
        for recipient in recipients
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    push_unread(set(recipients))
    push_spikes(recipients, spikes)
    from core.tasks import enqueue
    from routing.tasks import send_spike_mail

    enqueue(send_spike_mail, [e.pk for e in spikes])


def push_spikes(recipients: list[int], spikes) -> None:
    """To each senior's open pages: the `alert.spike` event itself (the feed's own frame; an admin
    who also hears it through feed.all gets it once, the consumer drops repeated ids), then a
    "spike" frame for people: a toast, and the banner on the inbox page. A layer that fails loses
    only this push: the next page load shows the banner."""
    layer = get_channel_layer()
    if layer is None:
        return
    frames: list[tuple[str, dict]] = [
        (
            groups.notifications(user_id),
            {"type": "feed.event", "event": outbox.feed_message(event)},
        )
        for event in spikes
        for user_id in sorted(recipients)
    ]
    frames += [
        (
            groups.notifications(user_id),
            {
                "type": "feed.transient",
                "signal": {
                    "type": "spike",
                    "alert": event.payload["alert"],
                    "title": _("Incident spike:"),
                    "text": describe(event.payload),
                    "url": f"{reverse('ui:inbox')}?alert={event.payload['alert']}&status=any",
                    "link": _("Open the spike's conversations"),
                    "region": _("Incident spikes"),
                },
            },
        )
        for event in spikes
        for user_id in sorted(recipients)
    ]
    try:
        outbox.send_frames(layer, frames)
    except Exception:
        logger.exception("could not push %s spike frames", len(frames))


def mail_spikes(event_ids: list[int]) -> int:
    """Mail each spike notification of these events not mailed yet, one mail per person and
    alert. Rows are claimed (mailed_at) before their mail goes and released when it fails.
    Returns how many mails went."""
    now = timezone.now()
    waiting = list(
        Notification.objects.filter(
            kind=Notification.Kind.SPIKE,
            event_id__in=event_ids,
            mailed_at__isnull=True,
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .select_related("recipient", "alert")
        .order_by("pk")
    )
    sent = 0
    connection = None
    try:
        for notification in waiting:
            claimed = Notification.objects.filter(
                pk=notification.pk, mailed_at__isnull=True
            ).update(mailed_at=now)
            if not claimed:
                continue
            if connection is None:
                connection = get_connection()
            message = _mail_for(notification)
            message.connection = connection
            try:
                sent += message.send()
            except Exception:
                logger.exception("could not mail spike alert %s", notification.alert_id)
                Notification.objects.filter(pk=notification.pk).update(mailed_at=None)
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:
                logger.exception("closing the mail connection failed")
    return sent


def _mail_for(notification: Notification) -> EmailMessage:
    """The spike mail, in the person's language and time zone (core.languages); the line about
    the spike is described again from the alert in that language, not copied from the bell's
    text (written in whichever language dispatched it)."""
    alert = notification.alert
    person = notification.recipient
    with languages.speaking_to(person):
        spike = {
            "kind": alert.kind,
            "watch": alert.watch,
            "count": alert.count,
            "window_minutes": alert.window_minutes,
            "baseline": alert.baseline,
        }
        lines = [
            _("Hello %(name)s,") % {"name": person.display_name},
            "",
            describe(spike),
            "",
            _("The conversations, to tag, set severity and assign together:"),
            grouped_url(alert.pk),
            "",
            _("Some of them:"),
        ]
        for pk in alert.samples:
            lines.append(
                f"- #{pk} {settings.PUBLIC_BASE_URL}{reverse('ui:conversation', args=[pk])}"
            )
        subject = _("[Switchboard] Incident spike: %(watch)s") % {"watch": alert.watch}
    return EmailMessage(subject, "\n".join(lines) + "\n", None, [person.email])
