"""Agents' replies and the messages the product sends by itself: validated, stored `queued`
and handed to delivery (inbox.outbound.delivery) after commit."""

import logging
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from core.errors import ActionRefused
from inbox import events, hooks, search
from inbox.drafts import MAX_TEXT, too_long
from inbox.models import (
    Channel,
    Conversation,
    Message,
)
from inbox.outbound.files import Outgoing, attach, checked
from inbox.sanitize import sanitize_html
from inbox.services import lock_for_change, snippet

logger = logging.getLogger(__name__)


def _touch_for_outbound(
    conversation: Conversation, message: Message, files: Sequence[str] = ()
) -> list[str]:
    conversation.last_message_at = message.created_at
    # A reply of files alone is listed by their names.
    conversation.snippet = snippet(message.text or " ".join(f"📎 {name}" for name in files))
    conversation.message_count += 1
    return ["last_message_at", "snippet", "message_count", "updated_at"]


MAX_CC = 20


def reply_limit(conversation: Conversation) -> int:
    """The most characters a reply on this conversation's channel may have: a sender module
    may declare a smaller MAX_TEXT (an SMS, a Telegram message)."""
    from inbox.outbound.senders import get_sender

    sender = get_sender(conversation.channel.kind)
    return min(MAX_TEXT, getattr(sender, "MAX_TEXT", MAX_TEXT))


def _reply_options(channel: Channel, cc: Sequence[str], subject: str) -> dict:
    """Cc and subject of an email reply, validated; stored in Message.headers."""
    cc = list(dict.fromkeys(address.strip() for address in cc if address and address.strip()))
    subject = " ".join((subject or "").split())
    if (cc or subject) and channel.kind != Channel.Kind.EMAIL:
        raise ActionRefused("Cc and subject can only be set on email replies.")
    if len(cc) > MAX_CC:
        raise ActionRefused(f"A reply can copy at most {MAX_CC} addresses.")
    for address in cc:
        try:
            validate_email(address)
        except ValidationError:
            raise ActionRefused(f"{address!r} is not a valid email address for cc.") from None
    if len(subject) > 998:
        raise ActionRefused("The subject is too long (998 characters at most).")
    options = {}
    if cc:
        options["cc"] = cc
    if subject:
        options["subject"] = subject
    return options


@transaction.atomic
def send_reply(
    *,
    conversation_id: int,
    actor,
    text: str,
    html: str = "",
    cc: Sequence[str] = (),
    subject: str = "",
    files: Sequence[Outgoing] = (),
) -> Message:
    """Queue an agent's reply to the customer on the conversation's channel.

    Locks the conversation. Refuses (ActionRefused) when the channel's sender says the reply
    cannot go out now (e.g. Meta's 24-hour window), or when `cc` holds an invalid address or
    `cc`/`subject` are given on a channel that is not email. The message is stored `queued`
    (cc and subject in its headers) and sent by a task after commit. `files` are checked against
    the channel's limits (inbox.outbound.files.LIMITS; FileRefused names the file and the limit)
    before anything is stored, then stored as the message's attachments. Emits message.created
    (direction out); runs the `agent_replied` hook (SLA clocks stop).
    """
    from inbox.outbound.senders import get_sender

    conversation = lock_for_change(
        conversation_id=conversation_id,
        actor=actor,
        refusal="You may not reply to this conversation.",
        related=("channel", "contact"),
    )
    text = text.strip()
    if not text and not files:
        raise ActionRefused("A reply needs some text.")
    refusal = too_long(text, reply_limit(conversation), what="The reply")
    if refusal:  # refused whole, never cut: the agent shortens it and sends again
        raise ActionRefused(refusal)
    options = _reply_options(conversation.channel, cc, subject)
    sender = get_sender(conversation.channel.kind)
    refusal = getattr(sender, "can_send", lambda c: None)(conversation) if sender else None
    if refusal:
        raise ActionRefused(refusal)
    accepted = checked(conversation, files)
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Message.Direction.OUT,
        kind=Message.Kind.MESSAGE,
        sender_user=actor,
        text=text,
        html=sanitize_html(html),
        headers=options,
        delivery_status=Message.DeliveryStatus.QUEUED,
        next_attempt_at=now,
        created_at=now,
    )
    stored = attach(message, accepted)
    fields = _touch_for_outbound(conversation, message, [a.name for a in stored])
    conversation.last_outbound_at = now
    fields.append("last_outbound_at")
    if conversation.first_response_at is None:
        conversation.first_response_at = now
        fields.append("first_response_at")
    conversation.save(update_fields=fields)
    search.index_text(conversation_id=conversation.pk, text=text)
    hooks.run("agent_replied", conversation=conversation, message=message)
    events.publish(
        "message.created",
        conversation=conversation,
        actor=actor,
        data={"message": message.pk, "direction": message.direction, "kind": message.kind},
    )
    from inbox.outbound.delivery import enqueue_delivery

    transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message


def queue_system_message(
    *, conversation: Conversation, text: str, auto_kind: str = "", headers=None, now=None
):
    """A message the system sends on the conversation's channel (no agent, so no first response
    and no SLA clock stopped): stored queued, counted, announced as message.created and handed
    to outbound delivery after commit. The caller holds the conversation's row lock and writes
    its own audit row. `headers` are stored with it (e.g. "shown_to_agents":
    Message.text_for_agents)."""
    from inbox.outbound.delivery import enqueue_delivery

    now = now or timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Message.Direction.OUT,
        kind=Message.Kind.MESSAGE,
        sender_user=None,
        text=text,
        auto_kind=auto_kind,
        headers=headers or {},
        delivery_status=Message.DeliveryStatus.QUEUED,
        next_attempt_at=now,
        created_at=now,
    )
    conversation.message_count += 1
    conversation.save(update_fields=["message_count", "updated_at"])
    events.publish(
        "message.created",
        conversation=conversation,
        data={"message": message.pk, "direction": message.direction, "kind": message.kind},
    )
    transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message
