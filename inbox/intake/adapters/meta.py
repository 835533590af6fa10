"""Meta: Messenger, Instagram messaging and the WhatsApp Cloud API, one webhook per app.

Verification (GET): hub.mode=subscribe, hub.verify_token equal to Channel.config["verify_token"],
answered with hub.challenge. https://developers.facebook.com/docs/graph-api/webhooks/getting-started
Signature (POST): X-Hub-Signature-256: sha256=HEX, HMAC-SHA256 of the raw body with the app
secret (Channel.secret).
Bodies are batched: `entry[]` holds `messaging[]` (Messenger, Instagram) or `changes[].value`
(WhatsApp), and one POST may carry several messages and status updates; each becomes one item.
"""

import hashlib
import hmac

from django.http import HttpResponse, JsonResponse

from inbox.intake.adapters import SignatureError, UnknownPayload, same_secret
from inbox.intake.adapters.common import e164, from_unix, json_object, json_request
from inbox.normalized import (
    AttachmentRef,
    Ignored,
    MessageEdit,
    NormalizedMessage,
    SenderRef,
    StatusUpdate,
)

OBJECTS = {"page": "messenger", "instagram": "instagram", "whatsapp_business_account": "whatsapp"}

# WhatsApp's "played" is a voice message listened to: as good as read for us.
WHATSAPP_STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "played": "read",
    "failed": "failed",
}

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "application/pdf": ".pdf",
}

WHATSAPP_MEDIA = ("image", "video", "audio", "document", "sticker")


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(request, channel) -> None:
    header = request.headers.get("X-Hub-Signature-256", "")
    if not header.startswith("sha256="):
        raise SignatureError("X-Hub-Signature-256: sha256=HEX is required")
    if not channel.secret or not same_secret(sign(channel.secret, request.body), header):
        raise SignatureError("signature does not match")


def handshake(request, channel):
    """Meta's subscription check: echo hub.challenge when the verify token is ours."""
    params = request.GET
    expected = str(channel.config.get("verify_token") or "")
    given = params.get("hub.verify_token", "")
    if (
        params.get("hub.mode") != "subscribe"
        or not expected
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        return JsonResponse(
            {"code": "bad_verify_token", "detail": "hub.mode or hub.verify_token is wrong."},
            status=403,
        )
    return HttpResponse(params.get("hub.challenge", ""), content_type="text/plain")


def check(request) -> None:
    json_request(request)


def ack(request, event):
    return JsonResponse({"status": "accepted", "event": event.pk})


def parse(event) -> list:
    data = json_object(bytes(event.body))
    platform = OBJECTS.get(data.get("object"))
    entries = data.get("entry")
    if platform is None or not isinstance(entries, list):
        raise UnknownPayload(f"not a Meta webhook body we know (object={data.get('object')!r})")
    items = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise UnknownPayload("entry[] must hold objects")
        if platform == "whatsapp":
            for change in entry.get("changes") or []:
                items += _whatsapp_change(change)
        else:
            for messaging in entry.get("messaging") or []:
                items += _messaging(platform, messaging)
            for change in entry.get("changes") or []:
                items.append(Ignored(f"{platform} change {change.get('field')!r} not handled"))
    return items


# --- WhatsApp Cloud API ---------------------------------------------------------------------
# https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components


def _whatsapp_change(change: dict) -> list:
    value = change.get("value") if isinstance(change, dict) else None
    if not isinstance(value, dict):
        raise UnknownPayload("changes[].value must be an object")
    if change.get("field") != "messages":
        return [Ignored(f"whatsapp change {change.get('field')!r} not handled")]
    names = {
        str(c.get("wa_id")): (c.get("profile") or {}).get("name", "")
        for c in value.get("contacts") or []
    }
    our_id = str((value.get("metadata") or {}).get("phone_number_id", ""))
    items = [_whatsapp_message(m, names, our_id) for m in value.get("messages") or []]
    items += [_whatsapp_status(s) for s in value.get("statuses") or []]
    if not items:
        return [Ignored("whatsapp change without messages or statuses")]
    return items


def _whatsapp_media(kind: str, media: dict) -> AttachmentRef:
    content_type = str(media.get("mime_type") or "application/octet-stream")
    bare_type = content_type.split(";")[0].strip()
    if kind == "audio" and media.get("voice"):
        kind = "voice"
    name = media.get("filename") or f"{kind}-{media.get('id')}{EXTENSIONS.get(bare_type, '')}"
    # Cloud API media are fetched by id with the access token; the id is the durable reference.
    return AttachmentRef(
        name=str(name),
        content_type=content_type,
        url=str(media.get("url") or f"whatsapp-media:{media.get('id')}"),
    )


def _location_text(location: dict) -> str:
    where = ", ".join(str(location[k]) for k in ("name", "address") if location.get(k))
    point = f"({location.get('latitude')}, {location.get('longitude')})"
    parts = ["Location:", where, point, str(location.get("url") or "")]
    return " ".join(p for p in parts if p)


def _contacts_text(cards: list) -> str:
    shared = []
    for card in cards:
        name = (card.get("name") or {}).get("formatted_name", "")
        phones = ", ".join(p.get("phone", "") for p in card.get("phones") or [])
        shared.append(f"{name} {phones}".strip())
    return "Shared contacts: " + "; ".join(shared)


def _order_text(order: dict) -> str:
    lines = [
        f"{item.get('quantity')} x {item.get('product_retailer_id')} "
        f"({item.get('item_price')} {item.get('currency')})"
        for item in order.get("product_items") or []
    ]
    text = f"Order from catalog {order.get('catalog_id')}: " + ", ".join(lines)
    return f"{text}\n{order['text']}" if order.get("text") else text


def _whatsapp_message(raw: dict, names: dict, our_id: str):
    kind = raw.get("type")
    message_id = str(raw.get("id") or "")
    sent_at = from_unix(raw.get("timestamp"))
    if not message_id or not raw.get("from"):
        raise UnknownPayload("whatsapp message without id or from")
    if kind == "edit":
        edit = raw.get("edit") or {}
        edited = edit.get("message") or {}
        body = edited.get(edited.get("type")) or {}
        return MessageEdit(
            external_id=str(edit.get("original_message_id") or ""),
            text=str(body.get("body") or body.get("caption") or ""),
            edited_at=sent_at,
        )
    if kind == "reaction":
        return Ignored(f"whatsapp reaction to {(raw.get('reaction') or {}).get('message_id')}")
    if kind == "unsupported":
        return Ignored(f"whatsapp message {message_id} of a type WhatsApp does not support")
    headers = {"platform": "whatsapp", "from": str(raw["from"]), "recipient": our_id}
    context = raw.get("context") or {}
    if context.get("id"):
        headers["reply_to"] = str(context["id"])
    if context.get("forwarded") or context.get("frequently_forwarded"):
        headers["forwarded"] = True
    if raw.get("referral"):
        headers["referral"] = raw["referral"]
    text, attachments = "", ()
    if kind == "text":
        text = str((raw.get("text") or {}).get("body", ""))
    elif kind in WHATSAPP_MEDIA:
        media = raw.get(kind) or {}
        text = str(media.get("caption") or "")
        attachments = (_whatsapp_media(kind, media),)
    elif kind == "button":
        button = raw.get("button") or {}
        text, headers["payload"] = str(button.get("text", "")), str(button.get("payload", ""))
    elif kind == "interactive":
        interactive = raw.get("interactive") or {}
        reply = interactive.get(interactive.get("type")) or {}
        if not reply:
            return Ignored(f"whatsapp interactive message {message_id} arrived without content")
        text = str(reply.get("title") or reply.get("body") or "")
        headers["payload"] = str(reply.get("id") or reply.get("response_json") or "")
    elif kind == "location":
        text = _location_text(raw.get("location") or {})
    elif kind == "contacts":
        text = _contacts_text(raw.get("contacts") or [])
    elif kind == "order":
        text = _order_text(raw.get("order") or {})
    else:
        return Ignored(f"whatsapp message type {kind!r} not handled")
    if attachments:
        headers["media"] = [a.url for a in attachments]
    wa_id = str(raw["from"])
    return NormalizedMessage(
        channel_kind="meta",
        external_id=message_id,
        thread_key=None,
        # A WhatsApp number is an identity WhatsApp has verified (by SMS) for its owner.
        sender=SenderRef(
            kind="whatsapp", id=wa_id, name=names.get(wa_id, ""), phone=e164(wa_id), verified=True
        ),
        text=text,
        html=None,
        attachments=attachments,
        sent_at=sent_at,
        headers=headers,
    )


def _whatsapp_status(raw: dict):
    status = WHATSAPP_STATUSES.get(raw.get("status"))
    if status is None or not raw.get("id"):
        return Ignored(f"whatsapp status {raw.get('status')!r} not handled")
    error = "; ".join(
        f"{e.get('code')} {e.get('title')}: {(e.get('error_data') or {}).get('details', '')}"
        for e in raw.get("errors") or []
    )
    return StatusUpdate(
        external_id=str(raw["id"]), status=status, at=from_unix(raw.get("timestamp")), error=error
    )


# --- Messenger and Instagram ----------------------------------------------------------------
# https://developers.facebook.com/docs/messenger-platform/reference/webhook-events


def _attachment(raw: dict) -> AttachmentRef:
    kind = str(raw.get("type") or "file")
    payload = raw.get("payload") or {}
    content_types = {"image": "image/*", "video": "video/*", "audio": "audio/*"}
    return AttachmentRef(
        name=kind,
        content_type=content_types.get(kind, "application/octet-stream"),
        url=str(payload.get("url") or ""),
    )


def _messaging(platform: str, raw: dict) -> list:
    if isinstance(raw, dict) and "delivery" in raw:
        at = from_unix(
            raw.get("timestamp") or (raw["delivery"] or {}).get("watermark"), millis=True
        )
        mids = (raw["delivery"] or {}).get("mids") or []
        if not mids:
            return [Ignored(f"{platform} delivery watermark without message ids")]
        return [StatusUpdate(external_id=str(mid), status="delivered", at=at) for mid in mids]
    return [_messaging_one(platform, raw)]


def _messaging_one(platform: str, raw: dict):
    if not isinstance(raw, dict):
        raise UnknownPayload("messaging[] must hold objects")
    sender_id = str((raw.get("sender") or {}).get("id", ""))
    our_id = str((raw.get("recipient") or {}).get("id", ""))
    at = from_unix(raw.get("timestamp"), millis=True)
    headers = {"platform": platform, "from": sender_id, "recipient": our_id}
    sender = SenderRef(kind=platform, id=sender_id)
    if "message" in raw:
        message = raw["message"] or {}
        if message.get("is_echo"):
            return Ignored(f"{platform} echo of our own message {message.get('mid')}")
        if message.get("is_deleted"):
            return Ignored(f"{platform} message {message.get('mid')} deleted by the sender")
        attachments = tuple(_attachment(a) for a in message.get("attachments") or [])
        if attachments:
            headers["media"] = [a.url for a in attachments]
        if message.get("quick_reply"):
            headers["payload"] = str(message["quick_reply"].get("payload", ""))
        if (message.get("reply_to") or {}).get("mid"):
            headers["reply_to"] = str(message["reply_to"]["mid"])
        if not message.get("mid") or not sender_id:
            raise UnknownPayload(f"{platform} message without mid or sender")
        return NormalizedMessage(
            channel_kind="meta",
            external_id=str(message["mid"]),
            thread_key=None,
            sender=sender,
            text=str(message.get("text") or ""),
            html=None,
            attachments=attachments,
            sent_at=at,
            headers=headers,
        )
    if "postback" in raw:
        postback = raw["postback"] or {}
        headers["payload"] = str(postback.get("payload", ""))
        return NormalizedMessage(
            channel_kind="meta",
            external_id=str(postback.get("mid") or f"postback:{sender_id}:{raw.get('timestamp')}"),
            thread_key=None,
            sender=sender,
            text=str(postback.get("title") or postback.get("payload") or ""),
            html=None,
            attachments=(),
            sent_at=at,
            headers=headers,
        )
    if "message_edit" in raw:
        edit = raw["message_edit"] or {}
        return MessageEdit(
            external_id=str(edit.get("mid", "")), text=str(edit.get("text", "")), edited_at=at
        )
    if "read" in raw:
        mid = (raw["read"] or {}).get("mid")
        if mid:
            return StatusUpdate(external_id=str(mid), status="read", at=at)
        return Ignored(f"{platform} read watermark without a message id")
    known = sorted(set(raw) - {"sender", "recipient", "timestamp"})
    return Ignored(f"{platform} event {', '.join(known) or 'empty'} not handled")
