"""Replies by SMS or WhatsApp through Twilio's Messages API:
POST {api}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded, basic auth (account SID,
auth token). https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
The account SID is Channel.config["account_sid"]; the auth token is Channel.secret (Twilio signs
webhooks with it too). The reply goes from the number the customer wrote to."""

from django.conf import settings
from django.urls import reverse

from inbox.outbound.files import public_url
from inbox.outbound.senders import PermanentSendError
from inbox.outbound.senders.http import call, json_body, latest_inbound, path_segment
from inbox.outbound.senders.media import attachments_of
from inbox.outbound.senders.social import window_refusal

# Twilio refuses a message body over 1600 characters (error 21617).
MAX_TEXT = 1600


def can_send(conversation) -> str | None:
    if not conversation.channel.config.get("account_sid") or not conversation.channel.secret:
        return "This Twilio channel has no account SID or auth token, so replies cannot go out."
    last = latest_inbound(conversation)
    if last is not None and last.headers.get("platform") == "whatsapp":
        return window_refusal(conversation, provider="WhatsApp")
    return None


def send(message) -> str | None:
    conversation = message.conversation
    channel = conversation.channel
    refusal = can_send(conversation)
    if refusal:
        raise PermanentSendError(refusal)
    last = latest_inbound(conversation)
    headers = last.headers if last else {}
    to = headers.get("from") or conversation.contact.phone
    ours = headers.get("to") or channel.address
    if not to or not ours:
        raise PermanentSendError("no customer number or channel number to send with")
    if to.startswith("whatsapp:") and not ours.startswith("whatsapp:"):
        ours = f"whatsapp:{ours}"
    form: dict = {"To": to, "From": ours, "Body": message.text}
    files = attachments_of(message)
    if files:  # Twilio fetches each file from its signed URL (inbox.outbound.files)
        form["MediaUrl"] = [public_url(attachment) for attachment in files]
    if settings.TWILIO_WEBHOOK_BASE_URL:
        path = reverse("webhooks:twilio", kwargs={"channel": channel.slug})
        form["StatusCallback"] = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/") + path
    sid = path_segment(channel.config["account_sid"], what="account SID")
    url = f"{settings.TWILIO_API_BASE_URL.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    response = call("POST", url, provider="Twilio", data=form, auth=(sid, channel.secret))
    return str(json_body(response, provider="Twilio").get("sid") or "") or None
