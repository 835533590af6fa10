"""The generic API channel, for custom integrations.

Body: {"id", "sender": {"id", "name", "email"?, "phone"?}, "text", "thread"?, "attachments"?}
Signature: X-Signature: t=UNIX,v1=HEX where HEX = HMAC-SHA256(channel secret, f"{t}.{body}"),
accepted within five minutes of our clock (replays outside the window are refused).
"""

import base64
import binascii
import time
from datetime import UTC, datetime

from django.http import JsonResponse

from core import safejson
from core.signing import sign
from inbox.intake.adapters import MalformedError, SignatureError, same_secret
from inbox.normalized import AttachmentRef, NormalizedMessage, SenderRef

TOLERANCE_SECONDS = 300


def verify(request, channel) -> None:
    header = request.headers.get("X-Signature", "")
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError as exc:
        raise SignatureError("X-Signature needs t=UNIX,v1=HEX") from exc
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("signature timestamp outside the five-minute window")
    expected = sign(channel.secret, request.body, timestamp).split("v1=", 1)[1]
    if not channel.secret or not same_secret(expected, parts.get("v1", "")):
        raise SignatureError("signature does not match")


def _payload(body: bytes) -> dict:
    try:
        data = safejson.loads(body)
    except safejson.UnsafeJson as exc:
        raise MalformedError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedError("body must be a JSON object")
    problems = []
    if not isinstance(data.get("id"), str | int) or str(data.get("id")) == "":
        problems.append("id: required string")
    sender = data.get("sender")
    if (
        not isinstance(sender, dict)
        or not isinstance(sender.get("id"), str | int)
        or sender.get("id") == ""
    ):
        problems.append("sender.id: required")
    elif not all(isinstance(sender.get(k, ""), str) for k in ("name", "email", "phone")):
        problems.append("sender.name, sender.email, sender.phone: strings")
    if not isinstance(data.get("text"), str):
        problems.append("text: required string")
    if "thread" in data and not isinstance(data["thread"], str | int | None):
        problems.append("thread: string")
    attachments = data.get("attachments", [])
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        problems.append("attachments: list of objects")
    if problems:
        raise MalformedError("; ".join(problems))
    return data


def check(request) -> None:
    from inbox.intake.adapters.common import json_request

    json_request(request)  # 415 for a form or text body
    _payload(request.body)


def _attachment(raw: dict) -> AttachmentRef:
    content = b""
    if raw.get("content_base64"):
        try:
            content = base64.b64decode(raw["content_base64"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedError("attachments[].content_base64 is not base64") from exc
    return AttachmentRef(
        name=str(raw.get("name") or "attachment"),
        content_type=str(raw.get("content_type") or "application/octet-stream"),
        content=content,
        url=str(raw.get("url") or ""),
    )


def parse(event) -> list[NormalizedMessage]:
    data = _payload(bytes(event.body))
    sender = data["sender"]
    thread = data.get("thread")
    return [
        NormalizedMessage(
            channel_kind="api",
            external_id=str(data["id"]),
            thread_key=str(thread) if thread not in (None, "") else None,
            sender=SenderRef(
                kind="api",
                id=str(sender["id"]),
                name=sender.get("name", ""),
                email=sender.get("email", ""),
                phone=sender.get("phone", ""),
            ),
            text=data["text"],
            html=None,
            attachments=tuple(_attachment(a) for a in data.get("attachments", [])),
            sent_at=event.received_at.astimezone(UTC) if event.received_at else datetime.now(UTC),
            subject=str(data.get("subject") or "")[:998],
        )
    ]


def ack(request, event):
    return JsonResponse({"status": "accepted", "event": event.pk}, status=202)
