"""SLA notifications: after commit, from the outbox, the batch's alerts are mailed by one task."""

import logging

from inbox.models import Conversation

logger = logging.getLogger(__name__)


SLA_EVENTS = ("sla.warning", "sla.breached", "sla.reminder")
SLA_WORDS = {
    "sla.warning": "due soon",
    "sla.breached": "breached",
    "sla.reminder": "still unanswered",
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
    and the others still go. Returns how many mails were sent."""
    from django.core.mail import EmailMessage, get_connection

    from accounts.models import Membership

    events = [e for e in events if e.type in SLA_EVENTS and e.conversation_id]
    if not events:
        return 0
    conversations = {
        c.pk: c
        for c in Conversation.objects.filter(pk__in={e.conversation_id for e in events})
        .select_related("assignee")
        .only("id", "subject", "team_id", "assignee_id", "assignee__email")
    }
    leads: dict = {}
    for team_id, email in (
        Membership.objects.filter(
            team_id__in={c.team_id for c in conversations.values() if c.team_id},
            role=Membership.Role.LEAD,
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("team_id", "user__email")
    ):
        leads.setdefault(team_id, set()).add(email)
    mails = []
    for event in events:
        conversation = conversations.get(event.conversation_id)
        if conversation is None:
            continue
        recipients = set()
        if conversation.assignee_id and conversation.assignee.email:
            recipients.add(conversation.assignee.email)
        if not conversation.assignee_id or event.type == "sla.breached":
            recipients.update(leads.get(conversation.team_id, ()))
        if not recipients:
            continue
        target = event.payload.get("target", "").replace("_", " ")
        word = SLA_WORDS[event.type]
        title = " ".join(conversation.subject.split())[:80]
        subject = f"[Switchboard] SLA {word}: {target} on #{conversation.pk} {title}"
        body = (
            f"The {target} target of conversation #{conversation.pk} is {word} "
            f"(due {event.payload.get('due_at')}).\n"
        )
        mails.append((event.pk, EmailMessage(subject, body, None, sorted(recipients))))
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
