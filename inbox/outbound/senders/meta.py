"""Replies on Meta channels through the Graph API Send endpoints.

Messenger and Instagram: POST {graph}/{version}/{page or Instagram id}/messages
https://developers.facebook.com/docs/messenger-platform/reference/send-api/
WhatsApp: POST {graph}/{version}/{phone number id}/messages
https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
Authorization: Bearer Channel.config["access_token"]. The reply goes back from the page or
number the customer wrote to (recorded on their message), else from the ids in Channel.config.
"""

import json

from django.conf import settings

from inbox.outbound.files import public_url
from inbox.outbound.senders import PermanentSendError
from inbox.outbound.senders.http import call, json_body, latest_inbound, path_segment
from inbox.outbound.senders.media import attachments_of, in_parts, upload
from inbox.outbound.senders.social import window_refusal

# Graph error codes that mean "slow down", though answered with a 400.
RATE_LIMITED = {4, 17, 32, 613, 80006, 80007, 130429, 131048, 131056}


def _route(conversation) -> tuple[str, str, str]:
    """(platform, our id, the customer's id) for a reply in this conversation."""
    config = conversation.channel.config
    last = latest_inbound(conversation)
    headers = last.headers if last else {}
    platform = headers.get("platform")
    customer = headers.get("from")
    if not platform or not customer:
        identity = (
            conversation.contact.identities.filter(kind__in=("whatsapp", "messenger", "instagram"))
            .order_by("-created_at")
            .first()
        )
        if identity is None:
            raise PermanentSendError("the contact has no Messenger, Instagram or WhatsApp id")
        platform, customer = identity.kind, identity.external_id
    if platform == "whatsapp":
        ours = headers.get("recipient") or config.get("phone_number_id")
    elif platform == "instagram":
        ours = headers.get("recipient") or config.get("instagram_id") or config.get("page_id")
    else:
        ours = headers.get("recipient") or config.get("page_id")
    if not ours:
        raise PermanentSendError(f"no {platform} sender id in the channel's config")
    return platform, str(ours), str(customer)


def can_send(conversation) -> str | None:
    return window_refusal(conversation, provider="Meta")


def send(message) -> str | None:
    """The text, then each file as its own message: WhatsApp files are uploaded to the number's
    media endpoint and sent by id, Messenger files are uploaded with the message (filedata),
    Instagram files are fetched by Meta from their signed URL (inbox.outbound.files)."""
    conversation = message.conversation
    refusal = can_send(conversation)
    if refusal:
        raise PermanentSendError(refusal)
    token = conversation.channel.config.get("access_token")
    if not token:
        raise PermanentSendError("no access_token in the channel's config")
    platform, ours, customer = _route(conversation)
    base = settings.META_GRAPH_BASE_URL.rstrip("/")
    ours = path_segment(ours, what=f"{platform} sender id")
    graph = Graph(f"{base}/{settings.META_GRAPH_API_VERSION}/{ours}", token, platform, customer)
    parts = [("text", lambda: graph.text(message.text))] if message.text.strip() else []
    for attachment in attachments_of(message):
        parts.append((f"file-{attachment.pk}", lambda a=attachment: graph.file(a)))
    return in_parts(message, parts)


class Graph:
    """One reply's calls to the Graph API, from our page or number to the customer."""

    def __init__(self, url: str, token: str, platform: str, customer: str):
        self.url, self.platform, self.customer = url, platform, customer
        self.auth = {"Authorization": f"Bearer {token}"}

    def _post(self, path: str, **kwargs) -> dict:
        response = call(
            "POST",
            f"{self.url}/{path}",
            provider="Meta",
            throttled=_throttled,
            headers=self.auth,
            **kwargs,
        )
        return json_body(response, provider="Meta")

    def _sent_id(self, data: dict) -> str | None:
        if self.platform == "whatsapp":
            sent = data.get("messages") or [{}]
            return str(sent[0].get("id") or "") or None
        return str(data.get("message_id") or "") or None

    def _whatsapp(self, kind: str, content: dict) -> dict:
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": self.customer,
            "type": kind,
            kind: content,
        }

    def text(self, text: str) -> str | None:
        if self.platform == "whatsapp":
            body = self._whatsapp("text", {"preview_url": False, "body": text})
        else:
            body = {
                "recipient": {"id": self.customer},
                "messaging_type": "RESPONSE",
                "message": {"text": text},
            }
        return self._sent_id(self._post("messages", json=body))

    def file(self, attachment) -> str | None:
        kind = _kind(attachment.content_type, self.platform)
        if self.platform == "whatsapp":
            with upload(attachment) as part:
                uploaded = self._post(
                    "media",
                    data={"messaging_product": "whatsapp", "type": attachment.content_type},
                    files={"file": part},
                )
            media_id = uploaded.get("id")
            if not media_id:
                raise PermanentSendError("Meta answered the media upload without an id")
            content = {"id": str(media_id)}
            if kind == "document":
                content["filename"] = attachment.name
            return self._sent_id(self._post("messages", json=self._whatsapp(kind, content)))
        recipient = json.dumps({"id": self.customer})
        if self.platform == "instagram":  # Instagram takes attachments by URL only
            payload = {"url": public_url(attachment)}
            body = {
                "recipient": {"id": self.customer},
                "message": {"attachment": {"type": kind, "payload": payload}},
            }
            return self._sent_id(self._post("messages", json=body))
        message = {"attachment": {"type": kind, "payload": {"is_reusable": False}}}
        with upload(attachment) as part:
            data = self._post(
                "messages",
                data={
                    "recipient": recipient,
                    "messaging_type": "RESPONSE",
                    "message": json.dumps(message),
                },
                files={"filedata": part},
            )
        return self._sent_id(data)


def _kind(content_type: str, platform: str) -> str:
    """The attachment type a Send API call names for a file of this type."""
    major = content_type.split("/", 1)[0]
    if platform == "whatsapp":
        if content_type in ("image/jpeg", "image/png"):
            return "image"
        if content_type in ("video/mp4", "video/3gpp"):
            return "video"
        return "audio" if major == "audio" else "document"
    if major in ("image", "video", "audio"):
        return major
    return "file"


def _throttled(response) -> bool:
    try:
        return int(response.json()["error"]["code"]) in RATE_LIMITED
    except (ValueError, KeyError, TypeError):
        return False
