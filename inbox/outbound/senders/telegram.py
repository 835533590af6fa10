"""Replies on Telegram through the Bot API's sendMessage, with the bot token from
Channel.config["bot_token"]. https://core.telegram.org/bots/api#sendmessage"""

from django.conf import settings

from inbox.outbound.senders import PermanentSendError
from inbox.outbound.senders.http import call, json_body, latest_inbound, path_segment
from inbox.outbound.senders.media import attachments_of, in_parts, upload

# sendMessage takes at most 4096 characters of text.
MAX_TEXT = 4096


def _chat(conversation) -> tuple[str, str]:
    last = latest_inbound(conversation)
    headers = last.headers if last else {}
    chat_id = headers.get("chat_id")
    if chat_id is None:
        # Private chats have the user's id as chat id.
        identity = conversation.contact.identities.filter(kind="telegram").first()
        if identity is None:
            raise PermanentSendError("the contact has no Telegram chat")
        chat_id = identity.external_id
    return str(chat_id), str(headers.get("business_connection_id") or "")


def can_send(conversation) -> str | None:
    if not conversation.channel.config.get("bot_token"):
        return "This Telegram channel has no bot token, so replies cannot be delivered."
    return None


# sendPhoto takes photos up to 10 MB; larger images and other files go as documents.
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_PHOTO = 10 * 1024 * 1024


def send(message) -> str | None:
    """The text (sendMessage), then each file uploaded with sendPhoto or sendDocument."""
    conversation = message.conversation
    token = conversation.channel.config.get("bot_token")
    if not token:
        raise PermanentSendError("no bot_token in the channel's config")
    chat_id, business_connection = _chat(conversation)
    target = {"chat_id": chat_id}
    if business_connection:
        target["business_connection_id"] = business_connection
    token = path_segment(token, what="bot token")
    base = f"{settings.TELEGRAM_API_BASE_URL.rstrip('/')}/bot{token}"

    def text() -> str:
        return _sent(
            call(
                "POST",
                f"{base}/sendMessage",
                provider="Telegram",
                json={**target, "text": message.text},
            ),
            chat_id,
        )

    def file(attachment) -> str:
        photo = attachment.content_type in PHOTO_TYPES and attachment.size <= MAX_PHOTO
        method, field = ("sendPhoto", "photo") if photo else ("sendDocument", "document")
        with upload(attachment) as part:
            response = call(
                "POST", f"{base}/{method}", provider="Telegram", data=target, files={field: part}
            )
        return _sent(response, chat_id)

    parts = [("text", text)] if message.text.strip() else []
    for attachment in attachments_of(message):
        parts.append((f"file-{attachment.pk}", lambda a=attachment: file(a)))
    return in_parts(message, parts)


def _sent(response, chat_id: str) -> str:
    data = json_body(response, provider="Telegram")
    result = data.get("result") or {}
    if not data.get("ok") or "message_id" not in result:
        raise PermanentSendError(f"Telegram refused the message: {data.get('description', '')}")
    return f"{(result.get('chat') or {}).get('id', chat_id)}:{result['message_id']}"
