"""Replies on email channels leave as real mail through Django's email backends.

The message goes out from the channel's address with our own Message-ID (stored on the message
before the first attempt, so a retry after a crash between the server's acceptance and our
database write re-sends the same Message-ID and the duplicate is recognisable), In-Reply-To and
References threading it under the customer's mail, and Reply-To set to the conversation's
unguessable plus address so the customer's answer finds its way back.

The backend is settings.EMAIL_BACKEND (SMTP; the file backend in embedded mode) unless the
channel names an ESP sent through django-anymail:

    Channel.config = {"esp": "postmark", "esp_settings": {"server_token": "..."}}

API base URLs always come from settings (ANYMAIL), never from a channel's config.
"""

import datetime as dt
import html
import re
import smtplib
from email.utils import formataddr, make_msgid

from anymail.exceptions import AnymailError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from inbox import languages
from inbox.models import Channel, Message
from inbox.outbound.senders import PermanentSendError, TransientSendError
from inbox.outbound.senders.media import attachments_of, content_of

ESP_BACKENDS = {
    "amazon_ses": "anymail.backends.amazon_ses.EmailBackend",
    "brevo": "anymail.backends.brevo.EmailBackend",
    "mailgun": "anymail.backends.mailgun.EmailBackend",
    "mailjet": "anymail.backends.mailjet.EmailBackend",
    "postmark": "anymail.backends.postmark.EmailBackend",
    "resend": "anymail.backends.resend.EmailBackend",
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
    "sparkpost": "anymail.backends.sparkpost.EmailBackend",
}
# RFC 5322 asks to keep the first id and the most recent ones when References grows long.
MAX_REFERENCES = 20
MAX_QUOTED_CHARS = 5000
REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
MESSAGE_ID = re.compile(r"^<?([^<>\s@]+@[^<>\s@]+)>?$")


def sending_channel(conversation) -> Channel | None:
    """The email channel a conversation's mail leaves from: its own, or for a live chat the
    mailbox its channel names in config["email_channel"] (offline visitors' replies)."""
    channel = conversation.channel
    if channel.kind == Channel.Kind.EMAIL:
        return channel
    slug = (channel.config or {}).get("email_channel")
    if not slug:
        return None
    return Channel.objects.filter(slug=str(slug), kind=Channel.Kind.EMAIL, is_active=True).first()


def _address_of(channel: Channel | None) -> str:
    address = channel.address.strip() if channel else ""
    return address if "@" in address else ""


def can_send(conversation) -> str | None:
    if not _address_of(sending_channel(conversation)):
        if conversation.channel.kind != Channel.Kind.EMAIL:
            return "This channel names no email channel to send mail from."
        return "This email channel has no address to send from."
    if not recipient_for(conversation):
        return "This contact has no email address, so the reply cannot be delivered."
    return None


def send(message: Message) -> str:
    conversation = message.conversation
    channel = sending_channel(conversation)
    if not _address_of(channel):
        raise PermanentSendError("there is no email channel address to send from")
    recipient = recipient_for(conversation)
    if not recipient:
        raise PermanentSendError("the contact has no email address")
    message_id = ensure_message_id(message)
    mail = build_email(message, message_id=message_id, recipient=recipient)
    try:
        with connection_for(channel) as connection:
            mail.connection = connection
            mail.send(fail_silently=False)
    # Anymail's API errors are OSErrors too (requests' HTTPError): they go first.
    except AnymailRecipientsRefused as exc:
        raise PermanentSendError(f"ESP refused the recipient: {exc}") from exc
    except AnymailRequestsAPIError as exc:
        status = exc.status_code
        if status is None or status == 429 or status >= 500:
            raise TransientSendError(f"ESP answered {status or 'nothing'}: {exc}") from exc
        raise PermanentSendError(f"ESP answered {status}: {exc}") from exc
    except AnymailError as exc:
        raise PermanentSendError(f"ESP error: {exc}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        reason = "; ".join(
            f"{address}: {code} {_text(answer)}"
            for address, (code, answer) in exc.recipients.items()
        )
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientSendError(f"recipient deferred: {reason}") from exc
        raise PermanentSendError(f"recipient refused: {reason}") from exc
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, auth, ...
        reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if 500 <= exc.smtp_code < 600 and not isinstance(exc, smtplib.SMTPAuthenticationError):
            raise PermanentSendError(f"mail server refused the message: {reason}") from exc
        raise TransientSendError(f"mail server answered {reason}") from exc
    except (smtplib.SMTPException, OSError) as exc:  # connection refused, dropped, timed out
        raise TransientSendError(f"{exc.__class__.__name__}: {exc}") from exc
    esp_id = getattr(getattr(mail, "anymail_status", None), "message_id", None)
    if esp_id:
        # The ESP's own id, for its delivery and bounce callbacks to find this message.
        Message.objects.filter(pk=message.pk).update(
            headers={**message.headers, "esp_message_id": str(esp_id)}
        )
    return message_id


def recipient_for(conversation) -> str:
    contact = conversation.contact
    if contact.email:
        return contact.email
    return next(
        (i.external_id for i in contact.identities.all() if i.kind == "email"),
        "",
    )


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def reply_address(conversation) -> str:
    """The conversation's plus address: help+TOKEN@example.com."""
    local, _, domain = _address_of(sending_channel(conversation)).rpartition("@")
    local = local.split("+", 1)[0]
    return f"{local}+{conversation.reply_token}@{domain}"


def ensure_message_id(message: Message) -> str:
    """Our Message-ID for this message, generated once and stored before the first attempt.
    Stored bare (no angle brackets), as inbound mail stores the ids it names, so a customer's
    In-Reply-To and a bounce's original Message-ID find this message."""
    if message.external_id:
        return message.external_id
    sender = sending_channel(message.conversation)
    candidate = make_msgid(domain=domain_of(_address_of(sender) or "@localhost")).strip("<>")
    Message.objects.filter(pk=message.pk, external_id__isnull=True).update(external_id=candidate)
    message.external_id = Message.objects.values_list("external_id", flat=True).get(pk=message.pk)
    return message.external_id


def reply_subject(subject: str) -> str:
    base = REPLY_PREFIX.sub("", _one_line(subject))
    return f"Re: {base}" if base else _("Re: your message")


def build_email(message: Message, *, message_id: str, recipient: str) -> EmailMultiAlternatives:
    # Our own words in it (a subject when there is none, the quote's "On ..., ... wrote:") are
    # in the customer's language (inbox.languages); the text is whoever wrote it.
    conversation = message.conversation
    with translation.override(languages.for_customer(conversation.contact, conversation.channel)):
        return _build_email(message, message_id=message_id, recipient=recipient)


def _build_email(message: Message, *, message_id: str, recipient: str) -> EmailMultiAlternatives:
    conversation = message.conversation
    channel = sending_channel(conversation)
    thread = _thread_ids(message)
    # An automatic message never echoes the sender's words: that would relay spam to whoever
    # a forged From names.
    quoted = None if message.auto_kind else _quoted_message(message)
    custom_subject = _one_line(message.headers.get("subject", ""))
    headers = {
        "Message-ID": f"<{message_id.strip('<>')}>",
        "Auto-Submitted": "auto-replied" if message.auto_kind else "no",
    }
    if message.auto_kind:
        # Ask Exchange and friends not to answer an automatic answer (mail loops).
        headers["X-Auto-Response-Suppress"] = "All"
    if thread:
        headers["In-Reply-To"] = thread[-1]
        headers["References"] = " ".join(_bounded(thread))
    mail = EmailMultiAlternatives(
        subject=custom_subject or reply_subject(conversation.subject),
        body=_text_body(message.text, quoted),
        from_email=formataddr((_display_name(message), channel.address.strip())),
        to=[recipient],
        cc=[a for a in message.headers.get("cc", []) if a.lower() != recipient.lower()],
        reply_to=[reply_address(conversation)],
        headers=headers,
    )
    mail.attach_alternative(_html_body(message.text, quoted), "text/html")
    for attachment in attachments_of(message):  # real MIME parts, within LIMITS["email"]
        mail.attach(attachment.name, content_of(attachment), attachment.content_type)
    return mail


def connection_for(channel):
    esp = (channel.config or {}).get("esp")
    if not esp:
        return get_connection(fail_silently=False)
    backend = ESP_BACKENDS.get(str(esp).lower())
    if backend is None:
        raise PermanentSendError(f"unknown ESP {esp!r} in the channel's config")
    options = {
        key: value
        for key, value in (channel.config.get("esp_settings") or {}).items()
        if not key.lower().endswith("url")  # base URLs come from settings only
    }
    return get_connection(backend, fail_silently=False, **options)


def _display_name(message: Message) -> str:
    channel_name = _one_line(message.conversation.channel.name)
    user = message.sender_user
    if user is None:
        return channel_name
    agent = _one_line(user.get_full_name() or user.get_username())
    return f"{agent} via {channel_name}" if channel_name else agent


def _thread_ids(message: Message) -> list[str]:
    """Message-IDs of the conversation's mail before this one, oldest first; the latest
    inbound message's id last, since it is what this reply answers."""
    earlier = (
        Message.objects.filter(
            conversation_id=message.conversation_id,
            kind=Message.Kind.MESSAGE,
            external_id__isnull=False,
        )
        .exclude(pk=message.pk)
        .filter(created_at__lte=message.created_at)
        .order_by("created_at", "id")
        .values_list("external_id", "direction")
    )
    ids, answered = [], None
    for external_id, direction in earlier:
        match = MESSAGE_ID.match(external_id.strip())
        if not match:
            continue
        normalized = f"<{match.group(1)}>"
        if normalized not in ids:
            ids.append(normalized)
        if direction == Message.Direction.IN:
            answered = normalized
    if answered:
        ids.remove(answered)
        ids.append(answered)
    return ids


def _bounded(ids: list[str]) -> list[str]:
    if len(ids) <= MAX_REFERENCES:
        return ids
    return [ids[0], *ids[-(MAX_REFERENCES - 1) :]]


def _quoted_message(message: Message) -> tuple[str, str] | None:
    """(attribution line, text) of the customer's message this reply answers."""
    previous = (
        Message.objects.filter(
            conversation_id=message.conversation_id,
            direction=Message.Direction.IN,
            kind=Message.Kind.MESSAGE,
            created_at__lte=message.created_at,
        )
        .select_related("sender_contact")
        .order_by("-created_at", "-id")
        .first()
    )
    if previous is None or not previous.text.strip():
        return None
    contact = previous.sender_contact
    who = (contact.name or contact.email) if contact else _("You")
    at = previous.created_at.astimezone(dt.UTC)
    when = _("%(date)s at %(time)s UTC") % {
        "date": date_format(at, "D, d M Y"),
        "time": date_format(at, pgettext("time of day, a date format", "H:i")),
    }
    words = _("On %(when)s, %(who)s wrote:") % {"when": when, "who": _one_line(who)}
    return words, previous.text.strip()[:MAX_QUOTED_CHARS]


def _text_body(text: str, quoted: tuple[str, str] | None) -> str:
    body = text.strip() + "\n"
    if quoted:
        attribution, original = quoted
        lines = "\n".join(f"> {line}" if line else ">" for line in original.splitlines())
        body += f"\n{attribution}\n{lines}\n"
    return body


def _html_body(text: str, quoted: tuple[str, str] | None) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
        for block in re.split(r"\n\s*\n", text.strip())
        if block.strip()
    )
    parts = [f"<div>{paragraphs}</div>"]
    if quoted:
        attribution, original = quoted
        parts.append(
            f"<p>{html.escape(attribution)}</p>"
            '<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">'
            f"{html.escape(original).replace(chr(10), '<br>')}</blockquote>"
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        + "".join(parts)
        + "</body></html>"
    )


def _one_line(value: str) -> str:
    return " ".join(str(value or "").split())


def _text(answer) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
