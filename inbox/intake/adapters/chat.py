"""The website live chat.

Visitor messages do not come through the webhook door: the chat door (inbox/chat.py) checks the
signed session token, the origin and the limits, then stores the body built by `encode()` as an
InboundEvent with provider "chat". Body: {"id", "session", "name", "email", "text"}.
The pre-chat email is whatever the visitor typed: never treated as verified, so it never links
the visitor to another contact.
"""

import json
from datetime import UTC, datetime

from core import safejson
from inbox.intake.adapters import MalformedError
from inbox.normalized import NormalizedMessage, SenderRef


def encode(*, message_id: str, session: str, name: str, email: str, text: str) -> bytes:
    return json.dumps(
        {"id": message_id, "session": session, "name": name, "email": email, "text": text},
        separators=(",", ":"),
    ).encode()


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
    return data


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
            ),
            text=data["text"],
            html=None,
            attachments=(),
            sent_at=event.received_at.astimezone(UTC) if event.received_at else datetime.now(UTC),
        )
    ]
