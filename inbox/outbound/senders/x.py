"""Replies as X direct messages through the v2 DM API:
POST {api}/2/dm_conversations/with/{participant id}/messages {"text"}, with the account's user
access token (Channel.config["access_token"]) as bearer.
https://docs.x.com/x-api/direct-messages/manage/introduction
The event id it returns is the id of the echo X sends back to our webhook."""

from django.conf import settings

from inbox.outbound.senders import PermanentSendError
from inbox.outbound.senders.http import call, json_body, latest_inbound, path_segment
from inbox.outbound.senders.media import attachments_of, upload


def can_send(conversation) -> str | None:
    if not conversation.channel.config.get("access_token"):
        return "This X channel has no access token, so direct messages cannot be sent."
    return None


def send(message) -> str | None:
    conversation = message.conversation
    token = conversation.channel.config.get("access_token")
    if not token:
        raise PermanentSendError("no access_token in the channel's config")
    last = latest_inbound(conversation)
    participant = (last.headers if last else {}).get("recipient")
    if not participant:
        identity = conversation.contact.identities.filter(kind="x").first()
        if identity is None:
            raise PermanentSendError("the contact has no X account")
        participant = identity.external_id
    participant = path_segment(participant, what="X participant id")
    base = settings.X_API_BASE_URL.rstrip("/")
    auth = {"Authorization": f"Bearer {token}"}
    body: dict = {"text": message.text} if message.text.strip() else {}
    files = attachments_of(message)  # one at most (inbox.outbound.files.LIMITS)
    if files:
        body["attachments"] = [{"media_id": _uploaded(base, auth, files[0])}]
    url = f"{base}/2/dm_conversations/with/{participant}/messages"
    response = call("POST", url, provider="X", json=body, headers=auth)
    data = json_body(response, provider="X").get("data") or {}
    return str(data.get("dm_event_id") or "") or None


def _uploaded(base: str, auth: dict, attachment) -> str:
    """Upload an image for a DM (POST /2/media/upload, media_category dm_image or dm_gif) and
    return its media id. https://docs.x.com/x-api/media/upload-media"""
    category = "dm_gif" if attachment.content_type == "image/gif" else "dm_image"
    with upload(attachment) as part:
        response = call(
            "POST",
            f"{base}/2/media/upload",
            provider="X",
            data={"media_category": category, "media_type": attachment.content_type},
            files={"media": part},
            headers=auth,
        )
    data = json_body(response, provider="X").get("data") or {}
    media_id = str(data.get("id") or "")
    if not media_id:
        raise PermanentSendError("X answered the media upload without an id")
    return media_id
