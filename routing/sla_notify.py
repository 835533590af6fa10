"""SLA notifications: after commit, from the outbox, the batch's alerts are mailed by one task."""

import logging
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import languages
from inbox.models import Conversation

logger = logging.getLogger(__name__)


SLA_EVENTS = ("sla.warning", "sla.breached", "sla.reminder")
# The words of the mail, translated when it is written (in each recipient's language).
SLA_WORDS = {
    "sla.warning": gettext_lazy("due soon"),
    "sla.breached": gettext_lazy("breached"),
    "sla.reminder": gettext_lazy("still unanswered"),
}
TARGET_WORDS = {
    "first_response": gettext_lazy("first response"),
    "next_response": gettext_lazy("next response"),
    "resolution": gettext_lazy("resolution"),
}


def notify_dispatched(*, events) -> None:
    """Hook on events_dispatched (after commit, once per fanned-out batch): the batch's SLA alerts
    are mailed by one task, so a sweep that raised a thousand sends one task, not a thousand."""
    ids = [e.pk for e in events if e.type in SLA_EVENTS and e.conversation_id]
    if ids:
        from core.tasks import enqueue
        from routing.tasks import send_sla_mail

        enqueue(send_sla_mail, ids)


def notify_by_email(*, event) -> None:
    """Mail one SLA event's people (see mail_sla_events)."""
    mail_sla_events([event])


def mail_sla_events(events) -> int:
    """Mail the assignee (or the team's leads when unassigned) about SLA warnings and reminders;
    breaches also go to the team's leads. Two queries for any number of events (conversations
    with assignees, leads of their teams) and one mail connection; a mail that fails is logged
    and the others still go. Each event goes out as one mail per language and time zone among
    its recipients, written in that language with times on that clock. Returns how many mails
    were sent."""
    from django.core.mail import EmailMessage, get_connection

    from accounts.models import Membership

    events = [e for e in events if e.type in SLA_EVENTS and e.conversation_id]
    if not events:
        return 0
    conversations = {
        c.pk: c
        for c in Conversation.objects.filter(pk__in={e.conversation_id for e in events})
        .select_related("assignee")
        .only(
            "id",
            "subject",
            "team_id",
            "assignee_id",
            "assignee__email",
            "assignee__language",
            "assignee__time_zone",
        )
    }
    leads: dict = {}
    for team_id, email, language, zone in (
        Membership.objects.filter(
            team_id__in={c.team_id for c in conversations.values() if c.team_id},
            role=Membership.Role.LEAD,
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("team_id", "user__email", "user__language", "user__time_zone")
    ):
        leads.setdefault(team_id, {})[email] = _Reader(language, zone)
    mails = []
    for event in events:
        conversation = conversations.get(event.conversation_id)
        if conversation is None:
            continue
        recipients: dict[str, _Reader] = {}
        assignee = conversation.assignee if conversation.assignee_id else None
        if assignee is not None and assignee.email:
            recipients[assignee.email] = _Reader(assignee.language, assignee.time_zone)
        if assignee is None or event.type == "sla.breached":
            for email, reader in leads.get(conversation.team_id, {}).items():
                recipients.setdefault(email, reader)
        # One mail per language and time zone, each written the way its readers read.
        by_reading: dict[tuple[str, str], list[str]] = {}
        for email, reader in recipients.items():
            key = (languages.of_person(reader), languages.zone_of_person(reader))
            by_reading.setdefault(key, []).append(email)
        for (language, zone), addresses in sorted(by_reading.items()):
            with languages.speaking(language, zone):
                subject, body = _written(event, conversation, zone)
            mails.append((event.pk, EmailMessage(subject, body, None, sorted(addresses))))
    if not mails:
        return 0
    sent = 0
    connection = get_connection()
    try:
        connection.open()
        for event_id, message in mails:
            message.connection = connection
            try:
                sent += message.send()
            except Exception:
                logger.exception("could not mail SLA notification for event %s", event_id)
    except Exception:
        logger.exception("could not open the mail connection for %s SLA notifications", len(mails))
    finally:
        try:
            connection.close()
        except Exception:
            logger.exception("closing the mail connection failed")
    return sent


class _Reader:
    """The two things of a person an SLA mail is written for (core.languages reads them)."""

    def __init__(self, language: str, time_zone: str):
        self.language, self.time_zone = language or "", time_zone or ""


def _written(event, conversation, zone: str) -> tuple[str, str]:
    """The subject and body of one SLA mail, in the active language, times in `zone`."""
    target_key = event.payload.get("target", "")
    target = str(TARGET_WORDS.get(target_key) or target_key.replace("_", " "))
    word = str(SLA_WORDS[event.type])
    title = " ".join(conversation.subject.split())[:80]
    values = {"word": word, "target": target, "number": conversation.pk, "title": title}
    subject = _("[Switchboard] SLA %(word)s: %(target)s on #%(number)s %(title)s") % values
    due = _due(event.payload.get("due_at"))
    if due is None:
        body = _("The %(target)s target of conversation #%(number)s is %(word)s.") % values
    else:
        values["due"] = f"{date_format(timezone.localtime(due), 'DATETIME_FORMAT')} {zone}"
        body = (
            _("The %(target)s target of conversation #%(number)s is %(word)s (due %(due)s).")
            % values
        )
    return subject, body + "\n"


def _due(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        due = datetime.fromisoformat(value)
    except ValueError:
        return None
    return due if timezone.is_aware(due) else due.replace(tzinfo=UTC)
