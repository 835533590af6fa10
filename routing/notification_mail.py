"""Mentions and assignments mailed to people who are away, batched: one mail lists everything
waiting for a person, and nobody gets more than one such mail per MAIL_EVERY.

Run every minute by the beat (routing.tasks.mail_notifications). Away: no open workspace page
(no agent feed socket) and none opened or closed for AWAY_AFTER (core.online).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core import languages, online
from routing.models import Notification
from routing.notifications import Kind, recent_for

logger = logging.getLogger(__name__)

MAIL_EVERY = timedelta(minutes=10)
AWAY_AFTER = timedelta(minutes=2)
MAILED_KINDS = (Kind.MENTION, Kind.ASSIGNED)
WAITING_FOR = timedelta(days=1)  # older unread ones are not worth a mail any more
BATCH = 1000


def mail_waiting(*, now=None) -> int:
    """Mail each away person their unread, unmailed mentions and assignments, unless they were
    mailed within MAIL_EVERY. Rows are claimed (mailed_at set) before the mail goes and released
    when it fails, so two runs never mail the same notification. Returns how many mails went."""
    now = now or timezone.now()
    waiting = list(
        Notification.objects.filter(
            kind__in=MAILED_KINDS,
            read_at__isnull=True,
            mailed_at__isnull=True,
            created_at__gte=now - WAITING_FOR,
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .order_by("recipient_id", "created_at")
        .values_list("recipient_id", "pk")[:BATCH]
    )
    by_person: dict[int, list[int]] = {}
    for person, pk in waiting:
        by_person.setdefault(person, []).append(pk)
    if not by_person:
        return 0
    mailed_lately = set(
        Notification.objects.filter(
            recipient_id__in=by_person, mailed_at__gt=now - MAIL_EVERY
        ).values_list("recipient_id", flat=True)
    )
    candidates = [p for p in by_person if p not in mailed_lately]
    away = online.away(candidates, quiet_seconds=AWAY_AFTER.total_seconds())
    sent = 0
    connection = None
    try:
        for person in sorted(away):
            ids = by_person[person]
            claimed = Notification.objects.filter(pk__in=ids, mailed_at__isnull=True).update(
                mailed_at=now
            )
            if claimed != len(ids):  # another run took some: let it mail them
                Notification.objects.filter(pk__in=ids, mailed_at=now).update(mailed_at=None)
                continue
            if connection is None:
                connection = get_connection()
            message = _mail_for(person, set(ids))
            message.connection = connection
            try:
                sent += message.send()
            except Exception:
                logger.exception("could not mail notifications to user %s", person)
                Notification.objects.filter(pk__in=ids).update(mailed_at=None)
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:
                logger.exception("closing the mail connection failed")
    return sent


def _mail_for(person_id: int, ids: set[int]) -> EmailMessage:
    """The away mail, written in the person's language (core.languages)."""
    from accounts.models import User

    person = User.objects.get(pk=person_id)
    items = recent_for(person, limit=len(ids), only=ids)[::-1]  # oldest first
    with languages.speaking_to(person):
        lines = []
        for item in items:
            n = item.notification
            url = settings.PUBLIC_BASE_URL + reverse("ui:conversation", args=[n.conversation_id])
            values = {
                "who": n.actor.display_name if n.actor else "Switchboard",
                "number": n.conversation_id,
                "title": item.title,
            }
            if n.kind == Kind.MENTION:
                line = _("- %(who)s mentioned you on #%(number)s %(title)s") % values
            else:
                line = _("- %(who)s assigned you #%(number)s %(title)s") % values
            lines.append(f"{line}\n  {url}")
            if n.text:
                lines.append(f"  {n.text}")
        count = len(items)
        subject = ngettext(
            "[Switchboard] %(count)d notification while you were away",
            "[Switchboard] %(count)d notifications while you were away",
            count,
        ) % {"count": count}
        body = (
            _("Hello %(name)s,") % {"name": person.display_name}
            + "\n\n"
            + "\n".join(lines)
            + "\n\n"
            + _(
                "At most one such mail goes out every ten minutes; the bell in the workspace "
                "lists them all."
            )
            + "\n"
        )
    return EmailMessage(subject, body, None, [person.email])
