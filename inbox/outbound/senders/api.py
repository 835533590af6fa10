"""Replies on the generic API channel are POSTed to the integration's `callback_url`
(Channel.config), signed like inbound: X-Signature: t=UNIX,v1=HMAC-SHA256(secret, "t.body").

The URL is typed by whoever set the channel up, so it goes through the same SSRF guard as
outbound webhooks (core.safe_http): never loopback, private, link-local or metadata addresses
unless WEBHOOK_ALLOWED_HOSTS names the host, checked again at connect time, no redirects.
"""

import json

from core import safe_http
from core.signing import sign
from inbox.outbound.files import public_url
from inbox.outbound.senders import PermanentSendError, TransientSendError
from inbox.outbound.senders.media import attachments_of


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
            # Signed URLs that expire (OUTBOUND_FILE_URL_MAX_AGE); no token needed to fetch.
            "files": [
                {
                    "name": attachment.name,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                    "url": public_url(attachment),
                }
                for attachment in attachments_of(message)
            ],
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
        safe_http.check(url)
    except safe_http.UnsafeURL as exc:
        raise PermanentSendError(f"callback_url refused: {exc}") from exc
    result = safe_http.post(url, body=body, headers=headers)
    if result.status_code is None:
        if result.error.startswith("Refused"):  # the name now resolves inward (rebinding)
            raise PermanentSendError(f"callback_url {result.error[0].lower()}{result.error[1:]}")
        raise TransientSendError(result.error)
    if result.status_code == 429 or result.status_code >= 500:
        raise TransientSendError(
            f"callback answered {result.status_code}", retry_after=result.retry_after
        )
    if result.status_code >= 300:
        text = result.body[:200].decode("utf-8", "replace")
        raise PermanentSendError(f"callback answered {result.status_code}: {text}")
    return f"switchboard-{message.pk}"
