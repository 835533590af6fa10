"""Text no database takes (NUL bytes, lone surrogates) arriving on every channel: stored as a
readable message, never a delivery acknowledged and then failed forever (issue 21, "Every
input stored, none crashing"). Each provider's request is sent the way it sends it, through
the real door; the JSON escapes are the ones a provider's serializer emits."""

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client

from inbox.intake.adapters import api as api_adapter
from inbox.intake.adapters import email as email_adapter
from inbox.models import Contact, InboundEvent, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import post_meta, post_telegram, post_twilio, post_x, provider_client

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks"
SECRET = "the-channel-secret"
# As JSON escapes: what json.dumps (or any provider's serializer) sends for these characters.
NUL_TEXT = "Ciao\u0000 there"
LONE_TEXT = "broken \ud83d emoji"


def _api(text, name):
    body = json.dumps(
        {"id": f"evt-{len(text)}", "sender": {"id": "crm-1", "name": name}, "text": text}
    ).encode()
    return provider_client().post(
        "/webhooks/api/door/",
        data=body,
        content_type="application/json",
        HTTP_X_SIGNATURE=api_adapter.sign(SECRET, body),
    )


def _telegram(text, name):
    update = json.loads((FIXTURES / "telegram" / "SH-W-014.json").read_text())
    update["message"]["text"] = text
    update["message"]["from"]["first_name"] = name
    return post_telegram(provider_client(), "door", json.dumps(update).encode(), secret=SECRET)


def _whatsapp(text, name):
    body = json.loads((FIXTURES / "whatsapp" / "SH-W-009.json").read_text())["text"]
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"][0]["text"]["body"] = text
    value["contacts"][0]["profile"]["name"] = name
    return post_meta(provider_client(), "door", json.dumps(body).encode(), secret=SECRET)


def _twilio(text, name):
    # Form-encoded UTF-8: a NUL is %00; a lone surrogate cannot be UTF-8, so Twilio never sends
    # one (its bytes would arrive as U+FFFD).
    sms = {"MessageSid": "SM1", "From": "+15551230000", "To": "+15005550006", "Body": text}
    return post_twilio(provider_client(), "door", urlencode(sms).encode(), secret=SECRET)


def _x(text, name):
    dm = {
        "for_user_id": "1",
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "dm-1",
                "created_timestamp": "1515446554565",
                "message_create": {
                    "target": {"recipient_id": "1"},
                    "sender_id": "2",
                    "message_data": {"text": text},
                },
            }
        ],
        "users": {"2": {"id": "2", "name": name, "screen_name": "someone"}},
    }
    return post_x(provider_client(), "door", json.dumps(dm).encode(), secret=SECRET)


def _email(text, name):
    raw = (
        f"From: {name} <ann@example.com>\r\nTo: door@support.example.com\r\n"
        "Subject: Hello\x00 there\r\nMessage-ID: <nul@example.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode("utf-8", "surrogatepass") + text.encode("utf-8", "surrogatepass")
    return provider_client().post(
        "/webhooks/email/door/raw",
        data=raw,
        content_type="message/rfc822",
        HTTP_X_SIGNATURE=email_adapter.sign(SECRET, raw),
    )


def _chat(text, name):
    channel = ChannelFactory(kind="chat", slug="chat", config={"allowed_origins": ["https://a.b"]})
    widget = Client(headers={"Origin": "https://a.b"})
    start = widget.post(
        f"/chat/{channel.public_key}/session/",
        json.dumps({"name": name}),
        content_type="application/json",
    ).json()
    return widget.post(
        f"/chat/{channel.public_key}/messages/",
        json.dumps({"text": text}),
        content_type="application/json",
        headers={"X-Chat-Token": start["token"]},
    )


SENDERS = {
    "api": _api,
    "telegram": _telegram,
    "meta": _whatsapp,
    "twilio": _twilio,
    "x": _x,
    "email": _email,
    "chat": _chat,
}


@pytest.mark.parametrize("kind", sorted(SENDERS))
@pytest.mark.parametrize(
    "text, readable",
    [(NUL_TEXT, "Ciao there"), (LONE_TEXT, "broken \ufffd emoji")],
    ids=["nul", "lone-surrogate"],
)
def test_unstorable_characters_are_cleaned_and_the_message_is_stored(
    kind, text, readable, team, django_capture_on_commit_callbacks
):
    if kind in ("twilio", "email") and "\ud83d" in text:
        # Neither a form nor a mail can carry a lone surrogate as UTF-8: the bytes a broken
        # client would send instead are 8-bit garbage, covered by the mail charset tests.
        text = text.replace("\ud83d", "\ufffd")
    if kind != "chat":
        ChannelFactory(slug="door", kind=kind, secret=SECRET, default_team=team)
    with django_capture_on_commit_callbacks(execute=True):
        response = SENDERS[kind](text, "Mar\u0000io \udcff")
    assert response.status_code in (200, 201, 202), response.content
    assert not InboundEvent.objects.filter(status="failed").exists(), list(
        InboundEvent.objects.values_list("error", flat=True)
    )
    message = Message.objects.get()
    assert message.text == readable
    if kind == "email":
        assert message.conversation.subject == "Hello there"
    contact = Contact.objects.get(pk=message.sender_contact_id)
    assert "\x00" not in contact.name
    assert not any("\ud800" <= ch <= "\udfff" for ch in contact.name)
