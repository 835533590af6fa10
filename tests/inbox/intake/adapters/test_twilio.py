"""Twilio SMS, MMS and WhatsApp: form bodies -> normalized items, signatures as Twilio computes
them, status callbacks, and replies through the Messages API on a local server."""

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

import pytest

from inbox.intake.adapters import twilio
from inbox.models import Contact, InboundEvent, Message
from inbox.normalized import AttachmentRef, Ignored, NormalizedMessage, SenderRef, StatusUpdate
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.inbox.social import post_meta, post_twilio, provider_client

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "twilio-auth-token"
RECEIVED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

# The parameters Twilio posts for an incoming message:
# https://www.twilio.com/docs/messaging/guides/webhook-request
SMS = {
    "ToCountry": "US",
    "SmsMessageSid": "SM11111111111111111111111111111111",
    "NumMedia": "0",
    "SmsSid": "SM11111111111111111111111111111111",
    "SmsStatus": "received",
    "Body": "Is my order on its way?",
    "To": "+15005550006",
    "NumSegments": "1",
    "MessageSid": "SM11111111111111111111111111111111",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+972987654321",
    "ApiVersion": "2010-04-01",
}
MMS = {
    **SMS,
    "MessageSid": "MM22222222222222222222222222222222",
    "Body": "",
    "NumMedia": "2",
    "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM2/Media/ME1",
    "MediaContentType0": "image/jpeg",
    "MediaUrl1": "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM2/Media/ME2",
    "MediaContentType1": "application/pdf",
}
WHATSAPP = {
    **SMS,
    "MessageSid": "SM33333333333333333333333333333333",
    "From": "whatsapp:+972987654321",
    "To": "whatsapp:+15005550006",
    "ProfileName": "Test Name",
    "WaId": "972987654321",
    "Body": "Hello from WhatsApp",
}
DELIVERED = {
    "MessageSid": "SM44444444444444444444444444444444",
    "MessageStatus": "delivered",
    "SmsStatus": "delivered",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": "+15005550006",
    "To": "+972987654321",
    "ApiVersion": "2010-04-01",
}
UNDELIVERED = {
    **DELIVERED,
    "MessageStatus": "undelivered",
    "SmsStatus": "undelivered",
    "ErrorCode": "30003",
}

SMS_SENDER = SenderRef(kind="phone", id="+972987654321", phone="+972987654321", verified=True)


def event_for(params) -> InboundEvent:
    return InboundEvent(provider="twilio", body=urlencode(params).encode(), received_at=RECEIVED)


def sms(external_id, text, sender, attachments=(), **headers):
    return NormalizedMessage(
        channel_kind="twilio",
        external_id=external_id,
        thread_key=None,
        sender=sender,
        text=text,
        html=None,
        attachments=attachments,
        sent_at=RECEIVED,
        headers=headers,
    )


CASES = {
    "sms": (
        SMS,
        [
            sms(
                "SM11111111111111111111111111111111",
                "Is my order on its way?",
                SMS_SENDER,
                **{"from": "+972987654321", "to": "+15005550006", "platform": "sms"},
            )
        ],
    ),
    "mms": (
        MMS,
        [
            sms(
                "MM22222222222222222222222222222222",
                "",
                SMS_SENDER,
                (
                    AttachmentRef("media-1", "image/jpeg", url=MMS["MediaUrl0"]),
                    AttachmentRef("media-2", "application/pdf", url=MMS["MediaUrl1"]),
                ),
                **{
                    "from": "+972987654321",
                    "to": "+15005550006",
                    "platform": "sms",
                    "media": [MMS["MediaUrl0"], MMS["MediaUrl1"]],
                },
            )
        ],
    ),
    "whatsapp": (
        WHATSAPP,
        [
            sms(
                "SM33333333333333333333333333333333",
                "Hello from WhatsApp",
                SenderRef(
                    kind="whatsapp",
                    id="972987654321",
                    name="Test Name",
                    phone="+972987654321",
                    verified=True,
                ),
                **{
                    "from": "whatsapp:+972987654321",
                    "to": "whatsapp:+15005550006",
                    "platform": "whatsapp",
                },
            )
        ],
    ),
    "delivered": (
        DELIVERED,
        [StatusUpdate("SM44444444444444444444444444444444", "delivered", RECEIVED)],
    ),
    "undelivered": (
        UNDELIVERED,
        [
            StatusUpdate(
                "SM44444444444444444444444444444444", "failed", RECEIVED, "Twilio error 30003"
            )
        ],
    ),
    "sending": (
        {**DELIVERED, "MessageStatus": "sending"},
        [Ignored("twilio status sending for SM44444444444444444444444444444444")],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_twilio_body_parses_to_the_exact_items(case):
    params, expected = CASES[case]
    assert twilio.parse(event_for(params)) == expected


def test_the_signature_matches_twilios_documented_example():
    # https://www.twilio.com/docs/usage/security#explore-the-algorithm-yourself
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio.sign("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@pytest.fixture
def channel(team):
    return ChannelFactory(
        slug="sms",
        kind="twilio",
        secret=AUTH_TOKEN,
        address="+15005550006",
        default_team=team,
        config={"account_sid": "AC0123456789abcdef0123456789abcdef"},
    )


def test_an_sms_is_acknowledged_with_empty_twiml_and_stored(
    channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_twilio(provider_client(), "sms", SMS, secret=AUTH_TOKEN)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content == b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
    message = Message.objects.get(channel=channel)
    assert message.text == "Is my order on its way?"
    assert message.conversation.contact.phone == "+972987654321"


def test_behind_a_proxy_the_public_url_is_what_twilio_signed(channel, settings):
    settings.TWILIO_WEBHOOK_BASE_URL = "https://inbox.example.com"
    public = post_twilio(
        provider_client(), "sms", SMS, secret=AUTH_TOKEN, url_base="https://inbox.example.com"
    )
    internal = post_twilio(provider_client(), "sms", SMS, secret=AUTH_TOKEN)
    assert public.status_code == 200
    assert internal.status_code == 401


def test_a_status_callback_updates_the_reply_and_never_moves_it_back(
    channel, django_capture_on_commit_callbacks
):
    reply = MessageFactory(
        conversation=ConversationFactory(channel=channel),
        direction="out",
        sender_contact=None,
        external_id="SM44444444444444444444444444444444",
        delivery_status="sent",
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(provider_client(), "sms", DELIVERED, secret=AUTH_TOKEN)
        post_twilio(
            provider_client(),
            "sms",
            {**DELIVERED, "MessageStatus": "sent", "SmsStatus": "sent"},
            secret=AUTH_TOKEN,
        )
    reply.refresh_from_db()
    assert reply.delivery_status == "delivered"
    assert Message.objects.count() == 1


def test_a_reply_goes_through_the_messages_api_with_basic_auth(
    channel, agent, http_server, settings, django_capture_on_commit_callbacks
):
    settings.TWILIO_API_BASE_URL = http_server.url
    settings.TWILIO_WEBHOOK_BASE_URL = "https://inbox.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(
            provider_client(), "sms", SMS, secret=AUTH_TOKEN, url_base="https://inbox.example.com"
        )
    conversation = Message.objects.get(channel=channel).conversation
    http_server.respond(201, {"sid": "SM55555555555555555555555555555555", "status": "queued"})
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Yes, tomorrow.")
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.external_id) == (
        "sent",
        "SM55555555555555555555555555555555",
    )
    [request] = http_server.requests
    assert request.path == "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
    credentials = base64.b64encode(f"{channel.config['account_sid']}:{AUTH_TOKEN}".encode())
    assert request.headers["authorization"] == f"Basic {credentials.decode()}"
    assert parse_qs(request.body.decode()) == {
        "To": ["+972987654321"],
        "From": ["+15005550006"],
        "Body": ["Yes, tomorrow."],
        "StatusCallback": ["https://inbox.example.com/webhooks/twilio/sms/"],
    }


def test_a_whatsapp_reply_via_twilio_goes_from_the_whatsapp_number(
    channel, agent, http_server, settings, django_capture_on_commit_callbacks
):
    settings.TWILIO_API_BASE_URL = http_server.url
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(provider_client(), "sms", WHATSAPP, secret=AUTH_TOKEN)
    conversation = Message.objects.get(channel=channel).conversation
    http_server.respond(201, {"sid": "SM6"})
    with django_capture_on_commit_callbacks(execute=True):
        send_reply(conversation_id=conversation.pk, actor=agent, text="Hi!")
    form = parse_qs(http_server.requests[0].body.decode())
    assert (form["To"], form["From"]) == (["whatsapp:+972987654321"], ["whatsapp:+15005550006"])


@pytest.mark.parametrize(
    ("status", "headers", "outcome"),
    [
        (503, {}, "queued"),
        (429, {"Retry-After": "120"}, "queued"),
        (400, {}, "failed"),
    ],
)
def test_messages_api_errors_are_transient_or_permanent(
    channel,
    agent,
    http_server,
    settings,
    django_capture_on_commit_callbacks,
    status,
    headers,
    outcome,
):
    settings.TWILIO_API_BASE_URL = http_server.url
    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(provider_client(), "sms", SMS, secret=AUTH_TOKEN)
    conversation = Message.objects.get(channel=channel).conversation
    http_server.respond(
        status,
        {"code": 21211, "message": "The 'To' number is not a valid phone number."},
        headers={"Content-Type": "application/json", **headers},
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Hi")
    reply.refresh_from_db()
    assert reply.delivery_status == outcome and str(status) in reply.delivery_error


def test_the_same_number_on_whatsapp_and_sms_is_one_contact(
    channel, team, django_capture_on_commit_callbacks
):
    import json
    from pathlib import Path

    ChannelFactory(slug="meta", kind="meta", secret="meta-secret", default_team=team)
    whatsapp = json.loads(
        (
            Path(__file__).resolve().parents[3] / "fixtures/webhooks/whatsapp/SH-W-009.json"
        ).read_text()
    )["text"]
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(provider_client(), "meta", whatsapp, secret="meta-secret")
        post_twilio(provider_client(), "sms", SMS, secret=AUTH_TOKEN)
    contact = Contact.objects.get()
    assert {(i.kind, i.external_id, i.verified) for i in contact.identities.all()} == {
        ("whatsapp", "972987654321", True),
        ("phone", "+972987654321", True),
    }
    assert sorted(contact.conversations.values_list("channel__kind", flat=True)) == [
        "meta",
        "twilio",
    ]


def test_a_whatsapp_reply_via_twilio_respects_the_24_hour_window(
    channel, agent, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    from core.errors import ActionRefused

    with django_capture_on_commit_callbacks(execute=True):
        post_twilio(provider_client(), "sms", WHATSAPP, secret=AUTH_TOKEN)
    conversation = Message.objects.get(channel=channel).conversation
    conversation.last_inbound_at = timezone.now() - dt.timedelta(hours=30)
    conversation.save(update_fields=["last_inbound_at"])
    with pytest.raises(ActionRefused, match="WhatsApp only accepts replies within 24 hours"):
        send_reply(conversation_id=conversation.pk, actor=agent, text="Hi")
