"""When an email channel may acknowledge a new conversation automatically.

    Channel.config = {"auto_ack": {"enabled": true, "text": "Thanks, we got your message.",
                                   "window_hours": 24}}

Without a "text", the product's own acknowledgement goes, in the customer's language.

Mail loops are what this guards against: an acknowledgement never answers an auto-reply, a
bounce or list mail, an auto-responder's address, or one of our own channel addresses; and a
contact gets at most one per window (counted in the database by send_auto_acknowledgement), so
two auto-responders writing to each other stop after one message.
"""

import logging
import re
from datetime import timedelta
from email.utils import getaddresses

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from inbox import activity, languages
from inbox.contacts import canonical_address, own_addresses
from inbox.models import (
    Channel,
    Contact,
    Conversation,
    Message,
)
from inbox.outbound.replies import queue_system_message

logger = logging.getLogger(__name__)

AUTOMATIC_SENDER = re.compile(
    r"^(?:mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|"
    r"auto-?reply|auto-?responder|autoresponse|listserv|majordomo|owner-.+|.+-request|"
    r".+-bounces?|noreply-.+)$",
    re.IGNORECASE,
)
BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


def settings_for(channel: Channel) -> dict:
    """The channel's auto-acknowledgement settings, or {} when it has none switched on."""
    options = (channel.config or {}).get("auto_ack") or {}
    if channel.kind != Channel.Kind.EMAIL or not isinstance(options, dict):
        return {}
    if not options.get("enabled"):
        return {}
    return options


def acknowledgement_text(options: dict, conversation: Conversation) -> str:
    """The channel's own text as its admin wrote it; without one, the product's, in the
    customer's language (inbox.languages)."""
    own = str(options.get("text") or "").strip()
    if own:
        return own
    with translation.override(languages.for_customer(conversation.contact, conversation.channel)):
        return _("Thank you for writing to us. We have received your message and will answer soon.")


def refusal(channel: Channel, message: Message) -> str | None:
    """Why `message` (inbound) must not be acknowledged automatically; None when it may."""
    if message.direction != Message.Direction.IN or message.kind != Message.Kind.MESSAGE:
        return "not an inbound customer message"
    if message.auto_kind:
        return f"the message is an automatic one ({message.auto_kind})"
    headers = {str(k).lower(): _header_text(v) for k, v in (message.headers or {}).items()}
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "Auto-Submitted says it was sent automatically"
    if any(key in headers for key in ("x-autoreply", "x-autorespond", "x-auto-reply")):
        return "the sender is an auto-responder"
    if headers.get("precedence", "").strip().lower() in BULK_PRECEDENCE:
        return "bulk, list or auto-reply precedence"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "list mail"
    if headers.get("return-path", "").strip() == "<>":
        return "a null return path (a bounce)"
    if headers.get("content-type", "").strip().lower().startswith("multipart/report"):
        return "a delivery report"
    suppress = headers.get("x-auto-response-suppress", "").lower()
    if "all" in suppress or "autoreply" in suppress or "oof" in suppress:
        return "the sender asked for no automatic answers"

    addresses = _sender_addresses(message, headers)
    if not addresses:
        return "no sender address"
    ours = own_addresses()
    for address in addresses:
        if canonical_address(address) in ours:
            return "the sender is one of our own addresses"
        if AUTOMATIC_SENDER.match(address.rpartition("@")[0].split("+", 1)[0]):
            return "the sender address looks automatic"
    return None


def _sender_addresses(message: Message, headers: dict) -> list[str]:
    found = [
        address.strip()
        for _, address in getaddresses(
            [headers.get("from", ""), headers.get("sender", ""), headers.get("reply-to", "")]
        )
        if "@" in address
    ]
    contact = message.sender_contact
    if contact is not None and contact.email:
        found.append(contact.email.strip())
    return list(dict.fromkeys(found))


def _header_text(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def acknowledge_new_conversations(*, arrivals) -> None:
    """Hook on "messages_received": queue an acknowledgement for each new email conversation.

    Runs inside the arrival's transaction; the service works in a savepoint, so a failure
    here is logged and never costs the customer's mail.
    """
    from inbox.outbound.auto_ack import send_auto_acknowledgement

    for arrival in arrivals:
        conversation = arrival.conversation
        if not arrival.conversation_created or not settings_for(conversation.channel):
            continue
        try:
            send_auto_acknowledgement(
                conversation_id=conversation.pk, inbound_message_id=arrival.message.pk
            )
        except Exception:
            logger.exception("auto-acknowledgement for conversation %s failed", conversation.pk)


@transaction.atomic
def send_auto_acknowledgement(*, conversation_id: int, inbound_message_id: int) -> Message | None:
    """Queue the channel's automatic acknowledgement of a customer's new email conversation.

    Returns None (and writes nothing) when the channel has none switched on, when the inbound
    message is automatic or from an auto-responder or from our own address (inbox.outbound.auto_ack), or
    when the contact already had one within the window: the check runs under a lock on the
    contact row, so concurrent mail from one person yields one acknowledgement. The message is
    sent by the system (no sender_user), marked auto_kind=auto_reply; it is not a first
    response and stops no SLA clock (no `agent_replied` hook). Emits message.created.
    """
    from inbox.outbound import auto_ack

    conversation = (
        Conversation.objects.select_for_update()
        .select_related("channel", "contact")
        .get(pk=conversation_id)
    )
    options = auto_ack.settings_for(conversation.channel)
    if not options:
        return None
    inbound = Message.objects.select_related("sender_contact").get(
        pk=inbound_message_id, conversation=conversation
    )
    reason = auto_ack.refusal(conversation.channel, inbound)
    if reason:
        logger.info("no auto-acknowledgement on conversation %s: %s", conversation.pk, reason)
        return None
    contact = Contact.objects.select_for_update().get(pk=conversation.contact_id)
    now = timezone.now()
    hours = options.get("window_hours") or getattr(settings, "AUTO_ACK_WINDOW_HOURS", 24)
    already = Message.objects.filter(
        conversation__contact=contact,
        direction=Message.Direction.OUT,
        auto_kind=Message.AutoKind.AUTO_REPLY,
        created_at__gte=now - timedelta(hours=float(hours)),
    ).exists()
    if already:
        logger.info(
            "no auto-acknowledgement on conversation %s: one sent recently", conversation.pk
        )
        return None
    message = queue_system_message(
        conversation=conversation,
        text=acknowledgement_text(options, conversation),
        auto_kind=Message.AutoKind.AUTO_REPLY,
        now=now,
    )
    activity.record(
        conversation=conversation,
        actor=None,
        verb="auto_acknowledged",
        to_value=message.pk,
        reason="automatic acknowledgement of a new conversation",
    )
    return message
