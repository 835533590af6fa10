"""The website live chat.

Visitor messages do not come through the webhook door: the chat door (inbox/chat.py) checks the
signed session token, the origin and the limits, then stores the body built by `encode()` as an
InboundEvent with provider "chat". Body: {"id", "session", "name", "email", "text"}, "language"
when the visitor's browser named one we serve, and
"files": [{"name", "content_type", "content_base64"}] when the visitor attached a file (the chat
door has already checked its size and sniffed type).
The pre-chat email is whatever the visitor typed: never treated as verified, so it never links
the visitor to another contact.
"""

import base64
import binascii
import json
from datetime import UTC, datetime

from core import safejson
from inbox.intake.adapters import MalformedError
from inbox.normalized import AttachmentRef, NormalizedMessage, SenderRef


def encode(
    *,
    message_id: str,
    session: str,
    name: str,
    email: str,
    text: str,
    files: list[tuple[str, str, bytes]] | None = None,
    language: str = "",
) -> bytes:
    data: dict = {"id": message_id, "session": session, "name": name, "email": email, "text": text}
    if language:
        data["language"] = language
    if files:
        data["files"] = [
            {
                "name": file_name,
                "content_type": content_type,
                "content_base64": base64.b64encode(content).decode(),
            }
            for file_name, content_type, content in files
        ]
    return json.dumps(data, separators=(",", ":")).encode()


def external_id(data: dict) -> str:
    # Scoped by session: a visitor choosing another session's message id gets a message of
    # their own, never someone else's.
    return f"chat-{data['session']}-{data['id']}"


def _payload(body: bytes) -> dict:
    try:
        data = safejson.loads(body)
    except safejson.UnsafeJson as exc:
        raise MalformedError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedError("body must be a JSON object")
    missing = [k for k in ("id", "session", "text") if not isinstance(data.get(k), str)]
    missing += [k for k in ("name", "email") if not isinstance(data.get(k, ""), str)]
    if missing or not data["id"] or not data["session"]:
        raise MalformedError(f"chat body needs strings: {', '.join(missing) or 'id, session'}")
    files = data.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise MalformedError("files: list of objects")
    return data


def _attachment(raw: dict) -> AttachmentRef:
    try:
        content = base64.b64decode(str(raw.get("content_base64") or ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedError("files[].content_base64 is not base64") from exc
    return AttachmentRef(
        name=str(raw.get("name") or "attachment"),
        content_type=str(raw.get("content_type") or "application/octet-stream"),
        content=content,
    )


def parse(event) -> list[NormalizedMessage]:
    data = _payload(bytes(event.body))
    return [
        NormalizedMessage(
            channel_kind="chat",
            external_id=external_id(data),
            thread_key=data["session"],
            sender=SenderRef(
                kind="chat",
                id=data["session"],
                name=data.get("name", ""),
                email=data.get("email", ""),
                verified=False,
                language=data["language"] if isinstance(data.get("language"), str) else "",
            ),
            text=data["text"],
            html=None,
            attachments=tuple(_attachment(f) for f in data.get("files", [])),
            sent_at=event.received_at.astimezone(UTC) if event.received_at else datetime.now(UTC),
        )
    ]
