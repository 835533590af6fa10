"""Replies on the generic API channel are POSTed to the integration's `callback_url`
(Channel.config), signed like inbound: X-Signature: t=UNIX,v1=HMAC-SHA256(secret, "t.body")."""

import json

import httpx

from inbox.adapters.api import sign
from inbox.senders import PermanentSendError, TransientSendError

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def can_send(conversation) -> str | None:
    if not conversation.channel.config.get("callback_url"):
        return "This API channel has no callback URL, so replies cannot be delivered."
    return None


def send(message) -> str | None:
    conversation = message.conversation
    url = conversation.channel.config.get("callback_url")
    if not url:
        raise PermanentSendError("no callback_url configured for this API channel")
    body = json.dumps(
        {
            "id": f"switchboard-{message.pk}",
            "conversation": conversation.pk,
            "thread": conversation.thread_key,
            "recipient": {
                "id": next(
                    (
                        i.external_id
                        for i in conversation.contact.identities.all()
                        if i.kind == "api"
                    ),
                    None,
                )
            },
            "text": message.text,
            "agent": message.sender_user.username if message.sender_user_id else None,
            "created_at": message.created_at.isoformat(),
        },
        separators=(",", ":"),
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": sign(conversation.channel.secret, body),
    }
    try:
        response = httpx.post(
            url, content=body, headers=headers, timeout=TIMEOUT, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        raise TransientSendError(f"{exc.__class__.__name__}: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = response.headers.get("Retry-After")
        raise TransientSendError(
            f"callback answered {response.status_code}",
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )
    if response.status_code >= 300:
        raise PermanentSendError(f"callback answered {response.status_code}: {response.text[:200]}")
    return f"switchboard-{message.pk}"
