"""Email: raw RFC 822 bytes in, one NormalizedMessage out (plus a StatusUpdate for a bounce of
one of our replies).

Every door (the raw webhook, `ingest_email`, ESP inbound through django-anymail, IMAP polling)
stores the raw bytes as an InboundEvent with provider "email"; this module is the one parser.
Message-IDs are stored without angle brackets (`abc@host`), in `external_id` and `references`.

Raw webhook signature: `X-Signature: sha256=HEX`, HEX = HMAC-SHA256(channel secret, body).
"""

import functools
import hashlib
import hmac
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime

from charset_normalizer import from_bytes
from django.conf import settings
from django.http import JsonResponse

from inbox.intake.adapters import MalformedError, SignatureError, UnsupportedMediaType, same_secret
from inbox.intake.adapters.mail_charsets import (
    charset_name,
    continued_filename,
    eight_bit,
    header_text,
    message_charset,
)
from inbox.normalized import AttachmentRef, NormalizedMessage, SenderRef, StatusUpdate
from inbox.sanitize import html_to_text, html_too_deep

CONTENT_TYPES = ("message/rfc822", "text/plain")  # text/plain: curl --data-binary @mail.eml


class UnparseableEmail(Exception):
    """The bytes are not a mail we can take apart; the event is quarantined with this error."""


def sign(secret: str, body: bytes) -> str:
    """The X-Signature value for a raw mail; used by our tests and benchmarks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(request, channel) -> None:
    given = request.headers.get("X-Signature", "")
    if not channel.secret or not same_secret(sign(channel.secret, request.body), given):
        raise SignatureError("X-Signature must be sha256=HMAC-SHA256(channel secret, body)")


def check(request) -> None:
    content_type = request.content_type or ""
    if content_type.lower() not in CONTENT_TYPES:
        raise UnsupportedMediaType(f"Content-Type must be message/rfc822, not {content_type!r}")
    if not request.body.strip():
        raise MalformedError("the body is empty")


def ack(request, event):
    return JsonResponse({"status": "accepted", "event": event.pk}, status=202)


def parse(event) -> list:
    channel = event.channel
    return parse_bytes(
        bytes(event.body),
        channel_address=channel.address if channel else "",
        received_at=event.received_at,
    )


# --- headers ------------------------------------------------------------------------------------

_MSGID = re.compile(r"<([^<>\s]+)>")


def clean_message_id(value: str) -> str:
    value = (value or "").strip()
    found = _MSGID.search(value)
    return found.group(1) if found else value.strip("<> \t")


def message_ids(value: str) -> list[str]:
    """Every Message-ID in an In-Reply-To or References header, in order."""
    value = value or ""
    found = _MSGID.findall(value)
    return found or [part.strip("<>") for part in value.split() if "@" in part]


def _header(msg, name: str) -> str:
    """A header as text, encoded words decoded; a header the strict parser chokes on is read
    as raw text rather than failing the whole mail."""
    try:
        value = msg.get(name)
    except Exception:  # policy.default raises on some malformed structured headers
        return _raw_header(msg, name)
    if value is None:
        return ""
    return " ".join(str(value).split())


def _raw_header(msg, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return " ".join(str(value).split())
    return ""


def external_id_for(raw: bytes) -> str:
    """The id a mail is stored under: its Message-ID, or a hash of its bytes without one."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    return _external_id(clean_message_id(str(headers.get("Message-ID") or "")), raw)


def _external_id(message_id: str, raw: bytes) -> str:
    if message_id and len(message_id) <= 900:
        return message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _addresses(msg, *names: str, charset: str | None = None) -> list[tuple[str, str]]:
    """(display name, address) pairs of address headers, read from their raw values: 8-bit
    bytes decoded in the message's `charset` (mail_charsets), encoded-words in names decoded."""
    wanted = {name.lower() for name in names}
    values = [eight_bit(str(v), charset) for k, v in msg.raw_items() if k.lower() in wanted]
    pairs = getaddresses([" ".join(value.split()) for value in values])
    return [(header_text(name), addr.strip()) for name, addr in pairs if "@" in addr]


def _sender(msg, charset: str | None = None) -> SenderRef:
    for header in ("From", "Sender", "Reply-To", "Return-Path"):
        found = _addresses(msg, header, charset=charset)
        if found:
            name, address = found[0]
            return SenderRef(kind="email", id=address.lower(), name=name, email=address)
    raise UnparseableEmail("no sender address (From, Sender, Reply-To, Return-Path)")


def _reply_token(msg, channel_address: str) -> str | None:
    if "@" not in channel_address:
        return None
    local, _, domain = channel_address.lower().rpartition("@")
    for _name, address in _addresses(msg, "To", "Cc", "Delivered-To", "X-Original-To"):
        addr_local, _, addr_domain = address.lower().rpartition("@")
        base, plus, token = addr_local.partition("+")
        if plus and base == local and addr_domain == domain and re.fullmatch(r"[a-z0-9]+", token):
            return token
    return None


def _sent_at(msg, received_at) -> datetime:
    fallback = received_at or datetime.now(UTC)
    try:
        value = parsedate_to_datetime(_raw_header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return fallback
    if value is None:
        return fallback
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _auto_kind(msg, sender: SenderRef) -> str:
    content_type = msg.get_content_type()
    return_path = _raw_header(msg, "Return-Path")
    local = sender.email.lower().partition("@")[0]
    if (
        content_type == "multipart/report"
        or local in ("mailer-daemon", "postmaster")
        or return_path.strip() == "<>"
    ):
        return "bounce"
    auto_submitted = _raw_header(msg, "Auto-Submitted").lower()
    precedence = _raw_header(msg, "Precedence").lower()
    if (
        (auto_submitted and not auto_submitted.startswith("no"))
        or _raw_header(msg, "X-Autoreply")
        or _raw_header(msg, "X-Autorespond")
        or precedence == "auto_reply"
    ):
        return "auto_reply"
    if precedence in ("bulk", "junk", "list") or (
        _raw_header(msg, "List-Id") or _raw_header(msg, "List-Unsubscribe")
    ):
        return "list"
    return ""


# --- bodies -------------------------------------------------------------------------------------


def _charset(part) -> str | None:
    try:
        return charset_name(part.get_param("charset"))
    except Exception:  # a Content-Type the strict parser cannot read
        return None


def decode_text(data: bytes, declared: str | None) -> str:
    """Bytes of a text part as str: the declared charset when it fits, else UTF-8, else what
    charset-normalizer finds; never an exception (a last resort decodes with replacements)."""
    candidates = [c for c in (declared, "utf-8") if c]
    if declared == "ascii":
        candidates = ["ascii", "utf-8"]  # 8-bit text wrongly declared us-ascii is common
    for charset in candidates:
        try:
            text = data.decode(charset)
            return text if charset == "utf-8" else _windows_if_c1(data, text)
        except (UnicodeDecodeError, LookupError):
            continue
    best = from_bytes(data[:200_000]).best()
    if best is not None:
        return _windows_if_c1(data, data.decode(best.encoding, errors="replace"))
    return data.decode(declared or "latin-1", errors="replace")


_C1 = re.compile("[\x80-\x9f]")


def _windows_if_c1(data: bytes, text: str) -> str:
    # Latin-1 C1 controls in mail are almost always Windows-1252 (the euro sign, curly quotes),
    # as browsers assume too.
    if _C1.search(text):
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return text
    return text


def _payload_bytes(part) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    return data


_VALID_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Walk:
    """One pass over the MIME tree, bounded in depth and part count."""

    def __init__(self):
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.attachments: list[AttachmentRef] = []
        self.dsn_blocks: list[str] = []
        self.returned_ids: list[str] = []
        self.parts = 0
        self.max_depth = getattr(settings, "EMAIL_MAX_DEPTH", 20)
        self.max_parts = getattr(settings, "EMAIL_MAX_PARTS", 500)

    def visit(self, part, depth: int = 0) -> None:
        self.parts += 1
        if depth > self.max_depth:
            raise UnparseableEmail(f"MIME nesting deeper than {self.max_depth}")
        if self.parts > self.max_parts:
            raise UnparseableEmail(f"more than {self.max_parts} MIME parts")
        content_type = part.get_content_type()
        if content_type == "message/rfc822" or content_type == "text/rfc822-headers":
            self._returned(part, content_type, depth)
            return
        if content_type == "message/delivery-status":
            self.dsn_blocks.append(_delivery_status_text(part))
            return
        if part.is_multipart():
            for child in part.get_payload():
                self.visit(child, depth + 1)
            return
        if part.get_content_maintype() == "multipart":  # no boundary: read it as text
            self.texts.append(_lines(decode_text(_payload_bytes(part), _charset(part))))
            return
        disposition = (part.get_content_disposition() or "").lower()
        filename = self._filename(part)
        is_body = not filename or (disposition == "inline" and depth == 0)
        if content_type in ("text/plain", "text/html") and disposition != "attachment" and is_body:
            text = _lines(decode_text(_payload_bytes(part), _charset(part)))
            (self.texts if content_type == "text/plain" else self.htmls).append(text)
            return
        self._attach(part, content_type, filename, disposition)

    @staticmethod
    def _filename(part) -> str:
        try:
            name = continued_filename(part) or part.get_filename()
        except Exception:
            name = None
        if not name:
            name = part.get_param("name")
        return str(name or "")

    def _attach(self, part, content_type, filename, disposition) -> None:
        content_id = clean_message_id(_header(part, "Content-ID"))
        content_type = _VALID_TYPE.match(content_type)
        content_type = content_type.group(0) if content_type else "application/octet-stream"
        extension = content_type.partition("/")[2].split("+")[0] or "bin"
        self.attachments.append(
            AttachmentRef(
                name=filename or f"attachment.{extension}",
                content_type=content_type,
                content=_payload_bytes(part),
                content_id=content_id,
                is_inline=bool(content_id) and disposition != "attachment",
            )
        )

    def _returned(self, part, content_type, depth) -> None:
        """A forwarded or bounced mail: kept whole as an .eml attachment (its ids noted for
        bounce matching), never merged into this mail's body."""
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if inner is not None and hasattr(inner, "as_bytes"):
            try:
                data = inner.as_bytes(policy=policy.default.clone(linesep="\r\n"))
            except Exception:
                data = _payload_bytes(part)
            message_id = clean_message_id(_raw_header(inner, "Message-ID"))
        else:
            data = _payload_bytes(part)
            headers = BytesHeaderParser(policy=policy.compat32).parsebytes(data)
            message_id = clean_message_id(str(headers.get("Message-ID") or ""))
        if message_id:
            self.returned_ids.append(message_id)
        self.attachments.append(
            AttachmentRef(
                name="returned-message.eml" if depth else "message.eml",
                content_type="message/rfc822" if content_type == "message/rfc822" else "text/plain",
                content=data,
            )
        )


def _delivery_status_text(part) -> str:
    """The stdlib reads a delivery-status body as a list of header blocks; give it back as
    text (blocks separated by blank lines) so one reader handles both shapes."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n\n".join(
            "\n".join(f"{key}: {value}" for key, value in block.raw_items()) for block in payload
        )
    return decode_text(_payload_bytes(part), "utf-8")


def _diagnostic(blocks: list[str]) -> str:
    """The first failed recipient's diagnostic from a delivery-status report."""
    for block in blocks:
        for group in re.split(r"\n\s*\n", block):
            fields: dict[str, str] = {}
            key = None
            for line in group.splitlines():
                if line[:1] in (" ", "\t") and key:
                    fields[key] += " " + line.strip()
                elif ":" in line:
                    key, _, value = line.partition(":")
                    key = key.strip().lower()
                    fields[key] = value.strip()
            if fields.get("action", "").lower() == "failed":
                recipient = fields.get("final-recipient", "").partition(";")[2].strip()
                detail = fields.get("diagnostic-code") or fields.get("status", "")
                return f"{recipient}: {detail}".strip(": ")
    return ""


_BOUNDARY_LINE = re.compile(rb"^--[^\r\n]", re.MULTILINE)


class _ParsedOncePolicy(EmailPolicy):
    """policy.default, with each header value parsed once. The stdlib parses a header anew at
    every read, and the walk reads a part's Content-Type for its type, charset, name and
    disposition (about 30 parses of a few values per mail, most of the parsing time). Header
    objects are immutable strings, so equal values share one."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        return _header_object(name, value)


@functools.lru_cache(maxsize=4096)
def _header_object(name: str, value: str):
    return policy.default.header_fetch_parse(name, value)


_POLICY = _ParsedOncePolicy()


def parse_bytes(raw: bytes, *, channel_address: str = "", received_at=None) -> list:
    """Raw RFC 822 bytes -> [NormalizedMessage, StatusUpdate...]. Pure; raises
    UnparseableEmail for what cannot be a mail (the caller quarantines it)."""
    if not raw or not raw.strip():
        raise UnparseableEmail("empty message")
    if len(raw) > settings.INBOUND_MAX_BYTES:
        raise UnparseableEmail(f"message over {settings.INBOUND_MAX_BYTES} bytes")
    max_parts = getattr(settings, "EMAIL_MAX_PARTS", 500)
    # The stdlib parser takes seconds for tens of thousands of parts: count boundary lines
    # first (a cheap upper bound) so a hostile mail cannot hold a worker.
    if len(_BOUNDARY_LINE.findall(raw)) > 2 * max_parts + 10:
        raise UnparseableEmail(f"more than {max_parts} MIME parts")
    try:
        msg: EmailMessage = BytesParser(policy=_POLICY).parsebytes(raw)
    except RecursionError as exc:
        raise UnparseableEmail("MIME structure nested too deeply") from exc
    if not msg.keys():
        raise UnparseableEmail("no headers")
    charset = message_charset(msg)
    sender = _sender(msg, charset)
    walk = _Walk()
    try:
        walk.visit(msg)
    except RecursionError as exc:
        raise UnparseableEmail("MIME structure nested too deeply") from exc

    html = "\n".join(walk.htmls) or None
    text = "\n\n".join(t.strip("\n") for t in walk.texts if t.strip())
    if not text and html:
        text = html_to_text(html)
    html_dropped = bool(html) and html_too_deep(html)
    if html_dropped:  # shown as its text: rendering it would hold the worker for minutes
        html = None
    message_id = clean_message_id(_raw_header(msg, "Message-ID"))
    auto_kind = _auto_kind(msg, sender)
    references = list(
        dict.fromkeys(  # a bounce joins the conversation of the mail of ours it returns
            (walk.returned_ids if auto_kind == "bounce" else [])
            + message_ids(_raw_header(msg, "In-Reply-To"))
            + message_ids(_raw_header(msg, "References"))
        )
    )
    sent_at = _sent_at(msg, received_at)
    headers = {
        key: value
        for key, value in (
            ("message-id", message_id),
            ("from", eight_bit(_raw_header(msg, "From"), charset)),
            ("to", eight_bit(_raw_header(msg, "To"), charset)),
            ("cc", eight_bit(_raw_header(msg, "Cc"), charset)),
            ("date", _raw_header(msg, "Date")),
            ("auto-submitted", _raw_header(msg, "Auto-Submitted")),
            ("list-id", _raw_header(msg, "List-Id")),
            # Read by inbox.outbound.auto_ack: a sender that asks for no automatic answers gets none.
            ("x-auto-response-suppress", _raw_header(msg, "X-Auto-Response-Suppress")),
        )
        if value
    }
    defects = {type(d).__name__ for d in msg.defects}
    if html_dropped:
        defects.add("HtmlNestedTooDeep")
    if defects:
        headers["x-switchboard-defects"] = sorted(defects)
    items: list = [
        NormalizedMessage(
            channel_kind="email",
            external_id=_external_id(message_id, raw),
            thread_key=None,
            sender=sender,
            text=text,
            html=html,
            attachments=tuple(walk.attachments),
            sent_at=sent_at,
            subject=header_text(_raw_header(msg, "Subject"), charset)[:998],
            references=tuple(references[:100]),
            reply_token=_reply_token(msg, channel_address),
            auto_kind=auto_kind,
            headers=headers,
        )
    ]
    if auto_kind == "bounce":
        error = _diagnostic(walk.dsn_blocks)
        if error:  # a delay report is news, not a failure
            for returned in dict.fromkeys(walk.returned_ids + references):
                items.append(
                    StatusUpdate(
                        external_id=returned,
                        status="failed",
                        at=sent_at,
                        error=error,
                    )
                )
    return items
