"""Spam and blocked contacts: the writes that block a contact, and where a blocked contact's
messages are kept.

A conversation an agent marks as spam (status "spam", through inbox.services.set_status, which
keeps Contact.spam) marks its contact too: the contact's next messages are filed as spam until
an agent marks one of its conversations as not spam. A blocked contact's messages are stored
(nothing is lost) in a conversation with status "blocked", which no view lists and on which no
hook runs: no tags, routing, SLA clocks or acknowledgement. They show on the contact's page.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from inbox import events
from inbox.models import Channel, Contact, Conversation, Message, Status
from inbox.normalized import NormalizedMessage
from inbox.services import snippet

BLOCKED_SHOWN = 50  # a blocked contact's latest messages shown on its page


def is_screened(contact: Contact) -> bool:
    """A contact whose messages skip the usual arrival (blocked, or marked as spam): the set-wise
    drain (inbox.intake.receive_many) leaves them to receive_message()."""
    return bool(contact.blocked_at or contact.spam)


def blocked_conversation(
    channel: Channel, contact: Contact, message: NormalizedMessage, *, now, sent_at
) -> tuple[Conversation, bool]:
    """The conversation holding what blocked `contact` sends on `channel`, locked, and whether it
    was opened now (saved, with the message counted)."""
    conversation = (
        Conversation.objects.select_for_update()
        .defer("search_vector")
        .filter(channel=channel, contact=contact, status=Status.BLOCKED)
        .order_by("-last_message_at")
        .first()
    )
    if conversation is not None:
        return conversation, False
    conversation = Conversation(
        channel=channel,
        contact=contact,
        subject=(message.subject or "")[:998],
        status=Status.BLOCKED,
        team_id=channel.default_team_id,  # who may see it on the contact's page
        created_at=now,
        last_message_at=sent_at,
        last_inbound_at=sent_at,
        snippet=snippet(message.text),
        message_count=1,
    )
    conversation.save(force_insert=True)
    return conversation, True


def _check_may_block(actor) -> None:
    from accounts.permissions import can_block_contacts

    if not can_block_contacts(actor):
        raise PermissionDenied("Only admins and leads may block or unblock contacts.")


@transaction.atomic
def block_contact(*, contact_id: int, actor) -> Contact:
    """Block a contact (admins and leads; PermissionDenied otherwise): their new messages are
    stored but open nothing any view lists. Locks the contact row; a repeat changes nothing.
    Emits contact.blocked."""
    _check_may_block(actor)
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if contact.blocked_at:
        return contact
    contact.blocked_at, contact.blocked_by = timezone.now(), actor
    contact.save(update_fields=["blocked_at", "blocked_by"])
    events.publish("contact.blocked", actor=actor, data={"contact": contact.pk})
    return contact


@transaction.atomic
def unblock_contact(*, contact_id: int, actor) -> Contact:
    """Unblock a contact (admins and leads): their next message opens a conversation as usual
    (what they sent while blocked stays where it was). Emits contact.unblocked."""
    _check_may_block(actor)
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    if not contact.blocked_at:
        return contact
    contact.blocked_at, contact.blocked_by = None, None
    contact.save(update_fields=["blocked_at", "blocked_by"])
    events.publish("contact.unblocked", actor=actor, data={"contact": contact.pk})
    return contact


def blocked_messages_for(contact: Contact) -> list[Message]:
    """The latest messages `contact` sent while blocked, newest first, for its page."""
    return list(
        Message.objects.filter(conversation__contact=contact, conversation__status=Status.BLOCKED)
        .select_related("channel")
        .order_by("-created_at", "-id")[:BLOCKED_SHOWN]
    )
