"""Twilio Programmable Messaging: SMS, MMS and WhatsApp, form-encoded.

X-Twilio-Signature = base64(HMAC-SHA1(auth token, URL + each parameter name and value, sorted by
name)); https://www.twilio.com/docs/usage/security#validating-requests. The URL is the one
Twilio called: behind a proxy or TLS terminator set TWILIO_WEBHOOK_BASE_URL (e.g.
https://inbox.example.com) so we sign the public URL, not the internal one.
The same URL gets inbound messages and the status callbacks of our replies (MessageStatus).
"""

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from django.conf import settings
from django.http import HttpResponse

from inbox.intake.adapters import (
    MalformedError,
    SignatureError,
    UnknownPayload,
    UnsupportedMediaType,
    same_secret,
)
from inbox.intake.adapters.common import e164, received_at
from inbox.normalized import AttachmentRef, Ignored, NormalizedMessage, SenderRef, StatusUpdate

STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
PENDING = ("accepted", "scheduled", "queued", "sending", "receiving")
MAX_MEDIA = 10  # Twilio's own limit per message


def form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise MalformedError("form body is not UTF-8") from exc


def sign(auth_token: str, url: str, params: list[tuple[str, str]], digest=hashlib.sha1) -> str:
    """The X-Twilio-Signature for a request to `url` with form `params` (as Twilio's SDK)."""
    payload = url
    for name in sorted({name for name, _ in params}):
        for value in sorted({v for n, v in params if n == name}):
            payload += name + value
    mac = hmac.new(auth_token.encode(), payload.encode(), digest).digest()
    return base64.b64encode(mac).decode()


# A Webhooks Rule matching the URL makes Twilio sign the same string with the rule's SharedKey
# and the algorithm this header names ("key=KS...,algorithm=HMAC_SHA256"); without it, HMAC-SHA1
# with the auth token. https://www.twilio.com/docs/usage/webhooks/webhook-rules
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
ALGORITHMS = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}


def signing_key(request, channel):
    """(secret, digest) Twilio signed this request with; SignatureError for an unknown one."""
    declared = request.headers.get(SETTINGS_HEADER, "")
    if not declared:
        return channel.secret, hashlib.sha1
    fields = dict(part.strip().split("=", 1) for part in declared.split(",") if "=" in part)
    digest = ALGORITHMS.get(fields.get("algorithm", "").strip().upper())
    if digest is None:
        raise SignatureError(f"unsupported signature algorithm in {SETTINGS_HEADER}")
    return (channel.config or {}).get("webhook_shared_key") or channel.secret, digest


def signed_urls(request) -> list[str]:
    """The URLs Twilio may have signed: the public one, with and without an explicit port."""
    base = getattr(settings, "TWILIO_WEBHOOK_BASE_URL", "")
    url = base.rstrip("/") + request.get_full_path() if base else request.build_absolute_uri()
    parts = urlsplit(url)
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    with_port = f"{host}:{parts.port or default_port}"
    return list(
        dict.fromkeys(
            [
                url,
                urlunsplit(parts._replace(netloc=host)),
                urlunsplit(parts._replace(netloc=with_port)),
            ]
        )
    )


def verify(request, channel) -> None:
    given = request.headers.get("X-Twilio-Signature", "")
    if not given:
        raise SignatureError("X-Twilio-Signature is required")
    if not channel.secret:
        raise SignatureError("this channel has no auth token to check signatures with")
    secret, digest = signing_key(request, channel)
    try:
        params = form(request.body)
    except MalformedError as exc:
        raise SignatureError("the body is not a form Twilio could have signed") from exc
    if not any(
        same_secret(sign(str(secret), url, params, digest), given) for url in signed_urls(request)
    ):
        raise SignatureError("signature does not match")


def check(request) -> None:
    content_type = request.content_type or ""
    if content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("Twilio posts application/x-www-form-urlencoded")
    form(request.body)


def ack(request, event):
    # An empty TwiML document: store it, answer nothing now (replies go out via the API).
    return HttpResponse(
        '<?xml version="1.0" encoding="UTF-8"?><Response/>', content_type="text/xml"
    )


def parse(event) -> list:
    params = dict(form(bytes(event.body)))
    sid = params.get("MessageSid") or params.get("SmsSid")
    if not sid:
        raise UnknownPayload("not a Twilio message webhook (no MessageSid)")
    status = params.get("MessageStatus") or ""
    if status and status != "received":
        if status in PENDING:
            return [Ignored(f"twilio status {status} for {sid}")]
        if status not in STATUSES:
            return [Ignored(f"twilio status {status!r} not handled")]
        error = " ".join(p for p in (params.get("ErrorCode"), params.get("ErrorMessage")) if p)
        return [
            StatusUpdate(
                external_id=sid,
                status=STATUSES[status],
                at=received_at(event),
                error=f"Twilio error {error}" if error else "",
            )
        ]
    if not params.get("From") or ("Body" not in params and "NumMedia" not in params):
        raise UnknownPayload("twilio message webhook without From, Body or NumMedia")
    return [_message(sid, params, event)]


def _message(sid: str, params: dict, event) -> NormalizedMessage:
    sender = params["From"]
    phone = e164(sender)
    headers = {"from": sender, "to": params.get("To", "")}
    try:
        count = min(int(params.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError as exc:
        raise UnknownPayload("NumMedia is not a number") from exc
    attachments = tuple(
        AttachmentRef(
            name=f"media-{n + 1}",
            content_type=params.get(f"MediaContentType{n}") or "application/octet-stream",
            url=params.get(f"MediaUrl{n}", ""),
        )
        for n in range(count)
        if params.get(f"MediaUrl{n}")
    )
    if attachments:
        headers["media"] = [a.url for a in attachments]
    if sender.startswith("whatsapp:"):
        headers["platform"] = "whatsapp"
        # The same WhatsApp identity as on the Meta Cloud API: wa_id is E.164 without "+".
        ref = SenderRef(
            kind="whatsapp",
            id=params.get("WaId") or phone.lstrip("+"),
            name=params.get("ProfileName", ""),
            phone=phone,
            verified=True,
        )
    else:
        headers["platform"] = "sms"
        # The carrier delivered it from this number: the phone is the identity itself.
        ref = SenderRef(kind="phone", id=phone, phone=phone, verified=True)
    return NormalizedMessage(
        channel_kind="twilio",
        external_id=sid,
        thread_key=None,
        sender=ref,
        text=params.get("Body", ""),
        html=None,
        attachments=attachments,
        sent_at=received_at(event),
        headers=headers,
    )
