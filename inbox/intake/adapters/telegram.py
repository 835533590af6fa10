"""Telegram bots: one Update object per POST.

Authenticity: the secret_token given to setWebhook comes back in X-Telegram-Bot-Api-Secret-Token
(Channel.secret). https://core.telegram.org/bots/api#setwebhook
Message ids are unique per chat only, so our external id is "<chat id>:<message id>".
"""

import hmac

from django.http import JsonResponse

from inbox.intake.adapters import SignatureError, UnknownPayload
from inbox.intake.adapters.common import from_unix, json_object, json_request, received_at
from inbox.normalized import AttachmentRef, Ignored, MessageEdit, NormalizedMessage, SenderRef

MESSAGES = ("message", "business_message")
EDITS = ("edited_message", "edited_business_message")


def verify(request, channel) -> None:
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not given:
        raise SignatureError("X-Telegram-Bot-Api-Secret-Token is required")
    if not channel.secret or not hmac.compare_digest(channel.secret.encode(), given.encode()):
        raise SignatureError("secret token does not match")


def check(request) -> None:
    json_request(request)


def ack(request, event):
    return JsonResponse({"status": "accepted", "event": event.pk})


def external_id(message: dict) -> str:
    return f"{(message.get('chat') or {}).get('id')}:{message.get('message_id')}"


def _name(user: dict) -> str:
    name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
    return name or str(user.get("username") or "")


def _attachments(message: dict) -> tuple[AttachmentRef, ...]:
    # Files are fetched later through getFile with the bot token; the file_id is the reference.
    refs = []
    if message.get("photo"):
        largest = max(message["photo"], key=lambda size: size.get("file_size") or 0)
        refs.append(
            AttachmentRef(
                name="photo.jpg",
                content_type="image/jpeg",
                url=f"telegram-file:{largest.get('file_id')}",
            )
        )
    # An animation is also sent as `document`; taking both would store the file twice.
    for kind in ("document", "video", "audio", "voice", "video_note"):
        media = message.get(kind)
        if media:
            refs.append(
                AttachmentRef(
                    name=str(media.get("file_name") or kind),
                    content_type=str(media.get("mime_type") or "application/octet-stream"),
                    url=f"telegram-file:{media.get('file_id')}",
                )
            )
    return tuple(refs)


def _text(message: dict) -> str:
    if message.get("text") or message.get("caption"):
        return str(message.get("text") or message.get("caption"))
    if message.get("venue"):
        venue, point = message["venue"], message["venue"].get("location") or {}
        return (
            f"Location: {venue.get('title')}, {venue.get('address')} "
            f"({point.get('latitude')}, {point.get('longitude')})"
        )
    if message.get("location"):
        point = message["location"]
        return f"Location: ({point.get('latitude')}, {point.get('longitude')})"
    if message.get("dice"):
        return f"{message['dice'].get('emoji')} {message['dice'].get('value')}"
    if message.get("sticker"):
        return str(message["sticker"].get("emoji") or "")
    if message.get("contact"):
        contact = message["contact"]
        return f"Shared contact: {_name(contact)} {contact.get('phone_number', '')}".strip()
    return ""


def parse(event) -> list:
    data = json_object(bytes(event.body))
    if not isinstance(data.get("update_id"), int):
        raise UnknownPayload("not a Telegram Update (no update_id)")
    for kind in MESSAGES:
        if isinstance(data.get(kind), dict):
            return [_message(kind, data[kind])]
    for kind in EDITS:
        if isinstance(data.get(kind), dict):
            edited = data[kind]
            unseen = _message(kind, edited)
            return [
                MessageEdit(
                    external_id=external_id(edited),
                    text=_text(edited),
                    edited_at=from_unix(edited.get("edit_date") or edited.get("date")),
                    unseen=unseen if isinstance(unseen, NormalizedMessage) else None,
                )
            ]
    if isinstance(data.get("callback_query"), dict):
        return [_button_pressed(data["callback_query"], received_at(event))]
    kinds = sorted(set(data) - {"update_id"})
    return [Ignored(f"telegram update {', '.join(kinds) or 'empty'} not handled")]


def _button_pressed(query: dict, at) -> NormalizedMessage | Ignored:
    """A customer pressed an inline button under one of our messages: a message whose text is
    the button's data (or the game asked for), in the chat the button was in."""
    user = query.get("from") or {}
    chat = (query.get("message") or {}).get("chat") or {}
    text = str(query.get("data") or query.get("game_short_name") or "")
    if not query.get("id") or not user.get("id") or not text:
        return Ignored("telegram callback_query without id, from or data")
    return NormalizedMessage(
        channel_kind="telegram",
        external_id=f"callback:{query['id']}",
        thread_key=None,
        sender=_sender(user),
        text=text,
        html=None,
        attachments=(),
        sent_at=at,  # a button press carries no time of its own
        # Replies go to the chat of the message the button was under (a private chat's id is
        # the user's).
        headers={"chat_id": chat.get("id") or user["id"], "callback_query_id": query["id"]},
    )


def _sender(user: dict) -> SenderRef:
    # language_code: the IETF tag of the user's Telegram app language, when Telegram sends it.
    language = user.get("language_code")
    return SenderRef(
        kind="telegram",
        id=str(user["id"]),
        name=_name(user),
        language=language if isinstance(language, str) else "",
    )


def _message(kind: str, message: dict):
    user, chat = message.get("from") or {}, message.get("chat") or {}
    if not user.get("id") or not chat.get("id") or not message.get("message_id"):
        raise UnknownPayload(f"telegram {kind} without from, chat or message_id")
    text, attachments = _text(message), _attachments(message)
    if not text and not attachments:
        return Ignored(f"telegram {kind} {external_id(message)} has no content we handle")
    headers = {"chat_id": chat["id"]}
    if message.get("business_connection_id"):
        headers["business_connection_id"] = message["business_connection_id"]
    if attachments:
        headers["media"] = [a.url for a in attachments]
    return NormalizedMessage(
        channel_kind="telegram",
        external_id=external_id(message),
        thread_key=None,
        # A Telegram user id is not a phone number: it links nothing across channels.
        sender=_sender(user),
        text=text,
        html=None,
        attachments=attachments,
        sent_at=from_unix(message.get("date")),
        headers=headers,
    )
