"""When an email channel may acknowledge a new conversation automatically.

    Channel.config = {"auto_ack": {"enabled": true, "text": "Thanks, we got your message.",
                                   "window_hours": 24}}

Mail loops are what this guards against: an acknowledgement never answers an auto-reply, a
bounce or list mail, an auto-responder's address, or one of our own channel addresses; and a
contact gets at most one per window (counted in the database by send_auto_acknowledgement), so
two auto-responders writing to each other stop after one message.
"""

import logging
import re
from email.utils import getaddresses

from inbox.models import Channel, Message

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
    if not options.get("enabled") or not str(options.get("text") or "").strip():
        return {}
    return options


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
        if _canonical(address) in ours:
            return "the sender is one of our own addresses"
        if AUTOMATIC_SENDER.match(address.rpartition("@")[0].split("+", 1)[0]):
            return "the sender address looks automatic"
    return None


def own_addresses() -> set[str]:
    return {
        _canonical(address)
        for address in Channel.objects.filter(kind=Channel.Kind.EMAIL).values_list(
            "address", flat=True
        )
        if "@" in address
    }


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


def _canonical(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _header_text(value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def acknowledge_new_conversations(*, arrivals) -> None:
    """Hook on "messages_received": queue an acknowledgement for each new email conversation.

    Runs inside the arrival's transaction; the service works in a savepoint, so a failure
    here is logged and never costs the customer's mail.
    """
    from inbox.services import send_auto_acknowledgement

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
