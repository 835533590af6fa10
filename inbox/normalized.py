"""The one shape every provider adapter produces and `receive_message` consumes.

Every text field is made storable here, once for all channels (storable()): a NUL byte (which
PostgreSQL refuses in text and JSON) is dropped and a lone surrogate (which no database can
encode, as JSON escapes like "\\ud83d" and 8-bit mail can carry) becomes U+FFFD."""

import re
from dataclasses import dataclass, field, fields
from datetime import datetime

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable_char(found: re.Match) -> str:
    return "" if found.group() == "\x00" else "\ufffd"


def storable(value):
    """`value` (a str, or dicts, lists and tuples of them) without NUL bytes or lone surrogates;
    anything else as it is."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(_storable_char, value) if _UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(storable(v) for v in value)
    return value


class _Storable:
    """Frozen dataclasses whose text fields are cleaned with storable() as they are built."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, str | dict | list | tuple):
                cleaned = storable(value)
                if cleaned is not value:
                    object.__setattr__(self, f.name, cleaned)


@dataclass(frozen=True)
class SenderRef(_Storable):
    kind: str  # identity kind: email, phone, meta, telegram, x, chat, api
    id: str  # the provider's handle for the sender within `kind`
    name: str = ""
    email: str = ""
    phone: str = ""  # E.164
    # Whether the provider vouches for email/phone (a WhatsApp number, a mailbox we received
    # from); verified handles link the same person across channels.
    verified: bool = False
    # The language the provider or the visitor's browser reports ("id", "en-US"), if any; it
    # fills the contact's language when unknown (inbox.languages).
    language: str = ""


@dataclass(frozen=True)
class AttachmentRef(_Storable):
    name: str
    content_type: str
    content: bytes = b""
    url: str = ""  # a provider media reference, fetched later when content is empty
    content_id: str = ""
    is_inline: bool = False


@dataclass(frozen=True)
class NormalizedMessage(_Storable):
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

    @property
    def preview(self) -> str:
        """The text, or the files' names when the message is files alone (a list row's preview)."""
        return self.text or " ".join(f"📎 {a.name}" for a in self.attachments)


@dataclass(frozen=True)
class StatusUpdate(_Storable):
    """A provider's news about one of our outbound messages (sent, delivered, read, failed)."""

    external_id: str
    status: str  # Message.DeliveryStatus value
    at: datetime
    error: str = ""


@dataclass(frozen=True)
class MessageEdit(_Storable):
    """The customer edited a message they sent earlier; the original text is kept."""

    external_id: str
    text: str
    edited_at: datetime
    # The message as it now reads, stored as a new one when we never saw the original.
    unseen: NormalizedMessage | None = None


@dataclass(frozen=True)
class Ignored(_Storable):
    """Something the provider sent that is not a message (a reaction, a typing signal, an event
    kind we do not handle yet). Recorded on the inbound event, never an error."""

    reason: str


InboundItem = NormalizedMessage | StatusUpdate | MessageEdit | Ignored
