"""X (Twitter) direct messages through the Account Activity API.

CRC (GET ?crc_token=...): answer {"response_token": "sha256=" + base64(HMAC-SHA256(consumer
secret, crc_token))}. POST bodies carry x-twitter-webhooks-signature: sha256=BASE64 of
HMAC-SHA256(consumer secret, raw body). The consumer secret is Channel.secret.
https://docs.x.com/x-api/enterprise/account-activity-api/guides/securing-webhooks
Our own DMs come back as events too (sender_id == our account id): recognised, never stored as
the customer's messages.
"""

import base64
import hashlib
import hmac
import re

from django.http import JsonResponse

from inbox.intake.adapters import SignatureError, UnknownPayload, same_secret
from inbox.intake.adapters.common import from_unix, json_object, json_request
from inbox.normalized import AttachmentRef, Ignored, NormalizedMessage, SenderRef, StatusUpdate

OTHER_EVENTS = (
    "tweet_create_events",
    "favorite_events",
    "follow_events",
    "unfollow_events",
    "block_events",
    "unblock_events",
    "mute_events",
    "unmute_events",
    "user_event",
    "direct_message_indicate_typing_events",
    "tweet_delete_events",
)


# X's crc_token is a short random string of URL-safe (base64) characters. The handshake signs it
# with the same secret and the same HMAC as a message body, with no login: were any string
# signed, the answer to ?crc_token={"direct_message_events": ...} would be a valid signature for
# that body. A body X sends is a JSON object, so it always has a brace and a quote; a token of
# these characters never can be one.
CRC_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=.]{1,128}")


def digest(secret: str, data: bytes) -> str:
    mac = hmac.new(secret.encode(), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(mac).decode()


def verify(request, channel) -> None:
    given = request.headers.get("x-twitter-webhooks-signature", "")
    if not given.startswith("sha256="):
        raise SignatureError("x-twitter-webhooks-signature: sha256=BASE64 is required")
    if not channel.secret or not same_secret(digest(channel.secret, request.body), given):
        raise SignatureError("signature does not match")


def handshake(request, channel):
    token = request.GET.get("crc_token", "")
    if not token:
        return JsonResponse({"code": "malformed", "detail": "crc_token is required."}, status=400)
    if not CRC_TOKEN.fullmatch(token):
        return JsonResponse(
            {
                "code": "malformed",
                "detail": "crc_token must be 1 to 128 letters, digits or '-_+/=.'.",
            },
            status=400,
        )
    if not channel.secret:
        return JsonResponse(
            {"code": "not_configured", "detail": "This channel has no consumer secret."},
            status=403,
        )
    return JsonResponse({"response_token": digest(channel.secret, token.encode())})


def check(request) -> None:
    json_request(request)


def ack(request, event):
    return JsonResponse({"status": "accepted", "event": event.pk})


def parse(event) -> list:
    data = json_object(bytes(event.body))
    config = event.channel.config if event.channel else {}
    our_id = str(config.get("account_id") or data.get("for_user_id") or "")
    users = data.get("users") if isinstance(data.get("users"), dict) else {}
    items = []
    for raw in data.get("direct_message_events") or []:
        items.append(_dm(raw, our_id, users))
    for raw in data.get("direct_message_mark_read_events") or []:
        reader = str(raw.get("sender_id", ""))
        last_read = raw.get("last_read_event_id")
        if reader and reader != our_id and last_read:
            at = from_unix(raw.get("created_timestamp"), millis=True)
            items.append(StatusUpdate(external_id=str(last_read), status="read", at=at))
    others = [key for key in OTHER_EVENTS if key in data]
    if others:
        items.append(Ignored(f"x {', '.join(others)} not handled"))
    if not items:
        raise UnknownPayload("not an X Account Activity body we know")
    return items


def _dm(raw: dict, our_id: str, users: dict):
    if not isinstance(raw, dict) or raw.get("type") != "message_create":
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        return Ignored(f"x direct message event {kind!r} not handled")
    create = raw.get("message_create") or {}
    sender_id = str(create.get("sender_id") or "")
    dm_id = str(raw.get("id") or "")
    if not sender_id or not dm_id:
        raise UnknownPayload("x message_create without id or sender_id")
    if our_id and sender_id == our_id:
        return Ignored(f"x echo of our own direct message {dm_id}")
    data = create.get("message_data") or {}
    attachments = ()
    media = (data.get("attachment") or {}).get("media") or {}
    if media:
        content_types = {"photo": "image/jpeg", "video": "video/mp4", "animated_gif": "video/mp4"}
        attachments = (
            AttachmentRef(
                name=str(media.get("type") or "media"),
                content_type=content_types.get(media.get("type"), "application/octet-stream"),
                url=str(media.get("media_url_https") or media.get("media_url") or ""),
            ),
        )
    user = users.get(sender_id) or {}
    headers = {"recipient": sender_id}
    if attachments:
        headers["media"] = [a.url for a in attachments]
    return NormalizedMessage(
        channel_kind="x",
        external_id=dm_id,
        thread_key=None,
        # An X user id is not a phone or an email: it links nothing across channels.
        sender=SenderRef(kind="x", id=sender_id, name=str(user.get("name") or "")),
        text=str(data.get("text") or ""),
        html=None,
        attachments=attachments,
        sent_at=from_unix(raw.get("created_timestamp"), millis=True),
        headers=headers,
    )
