"""WhatsApp template messages through the Cloud API: POST {graph}/{version}/{phone number id}/messages
with "type": "template" (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#template-object).
Not bound by the 24-hour customer-service window, unlike free-form replies (senders.meta.send).
The template and its values are in Message.headers["template"] (inbox.outbound.whatsapp_templates)."""

from django.conf import settings

from inbox.outbound.senders import PermanentSendError
from inbox.outbound.senders.http import call, json_body, path_segment
from inbox.outbound.senders.meta import _route, _throttled


def body_for(template: dict, customer: str) -> dict:
    """The Cloud API request body for one template message to `customer`."""
    names = template.get("parameter_names") or []
    parameters = []
    for index, value in enumerate(template.get("parameters") or []):
        parameter = {"type": "text", "text": str(value)}
        if names:  # named parameters ({{customer}}) are matched by name, not position
            parameter["parameter_name"] = str(names[index])
        parameters.append(parameter)
    payload: dict = {"name": template["name"], "language": {"code": template["language"]}}
    if parameters:
        payload["components"] = [{"type": "body", "parameters": parameters}]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": customer,
        "type": "template",
        "template": payload,
    }


def send_template(message) -> str | None:
    conversation = message.conversation
    template = (message.headers or {}).get("template")
    if conversation.channel.kind != "meta" or not isinstance(template, dict):
        raise PermanentSendError("Templates are sent on WhatsApp (Cloud API) channels only.")
    token = conversation.channel.config.get("access_token")
    if not token:
        raise PermanentSendError("no access_token in the channel's config")
    platform, ours, customer = _route(conversation)
    if platform != "whatsapp":
        raise PermanentSendError(f"Templates are sent on WhatsApp only, not {platform}.")
    base = settings.META_GRAPH_BASE_URL.rstrip("/")
    ours = path_segment(ours, what="whatsapp sender id")
    response = call(
        "POST",
        f"{base}/{settings.META_GRAPH_API_VERSION}/{ours}/messages",
        provider="Meta",
        throttled=_throttled,
        json=body_for(template, customer),
        headers={"Authorization": f"Bearer {token}"},
    )
    sent = json_body(response, provider="Meta").get("messages") or [{}]
    return str(sent[0].get("id") or "") or None
