"""The one shape every provider adapter produces and `receive_message` consumes."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SenderRef:
    kind: str  # identity kind: email, phone, meta, telegram, x, chat, api
    id: str  # the provider's handle for the sender within `kind`
    name: str = ""
    email: str = ""
    phone: str = ""  # E.164
    # Whether the provider vouches for email/phone (a WhatsApp number, a mailbox we received
    # from); verified handles link the same person across channels.
    verified: bool = False


@dataclass(frozen=True)
class AttachmentRef:
    name: str
    content_type: str
    content: bytes = b""
    url: str = ""  # a provider media reference, fetched later when content is empty
    content_id: str = ""
    is_inline: bool = False


@dataclass(frozen=True)
class NormalizedMessage:
    channel_kind: str
    external_id: str  # the provider's id; (channel, external_id) is unique
    thread_key: str | None
    sender: SenderRef
    text: str
    html: str | None  # raw here; sanitised once in receive_message
    attachments: tuple[AttachmentRef, ...]
    sent_at: datetime  # timezone-aware, UTC
    subject: str = ""
    # Email threading: Message-IDs this message answers, and the token of our reply address.
    references: tuple[str, ...] = ()
    reply_token: str | None = None
    auto_kind: str = ""  # "", auto_reply, bounce, list
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's news about one of our outbound messages (sent, delivered, read, failed)."""

    external_id: str
    status: str  # Message.DeliveryStatus value
    at: datetime
    error: str = ""


@dataclass(frozen=True)
class MessageEdit:
    """The customer edited a message they sent earlier; the original text is kept."""

    external_id: str
    text: str
    edited_at: datetime


@dataclass(frozen=True)
class Ignored:
    """Something the provider sent that is not a message (a reaction, a typing signal, an event
    kind we do not handle yet). Recorded on the inbound event, never an error."""

    reason: str


InboundItem = NormalizedMessage | StatusUpdate | MessageEdit | Ignored
