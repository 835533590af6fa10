"""Replies on Meta channels through the Graph API Send endpoints.

Messenger and Instagram: POST {graph}/{version}/{page or Instagram id}/messages
https://developers.facebook.com/docs/messenger-platform/reference/send-api/
WhatsApp: POST {graph}/{version}/{phone number id}/messages
https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
Authorization: Bearer Channel.config["access_token"]. The reply goes back from the page or
number the customer wrote to (recorded on their message), else from the ids in Channel.config.
"""

from django.conf import settings

from inbox.outbound.senders import PermanentSendError
from inbox.outbound.senders.http import call, json_body, latest_inbound, path_segment
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
    conversation = message.conversation
    refusal = can_send(conversation)
    if refusal:
        raise PermanentSendError(refusal)
    token = conversation.channel.config.get("access_token")
    if not token:
        raise PermanentSendError("no access_token in the channel's config")
    platform, ours, customer = _route(conversation)
    if platform == "whatsapp":
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": customer,
            "type": "text",
            "text": {"preview_url": False, "body": message.text},
        }
    else:
        body = {
            "recipient": {"id": customer},
            "messaging_type": "RESPONSE",
            "message": {"text": message.text},
        }
    base = settings.META_GRAPH_BASE_URL.rstrip("/")
    ours = path_segment(ours, what=f"{platform} sender id")
    url = f"{base}/{settings.META_GRAPH_API_VERSION}/{ours}/messages"
    response = call(
        "POST",
        url,
        provider="Meta",
        throttled=_throttled,
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    data = json_body(response, provider="Meta")
    if platform == "whatsapp":
        sent = data.get("messages") or [{}]
        return str(sent[0].get("id") or "") or None
    return str(data.get("message_id") or "") or None


def _throttled(response) -> bool:
    try:
        return int(response.json()["error"]["code"]) in RATE_LIMITED
    except (ValueError, KeyError, TypeError):
        return False
