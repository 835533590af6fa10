"""Meta (WhatsApp Cloud API, Messenger, Instagram): fixtures -> normalized items, the webhook end
to end, and replies through the Graph API played by a local HTTP server."""

import datetime as dt
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.utils import timezone

from core.errors import ActionRefused
from inbox.intake.adapters import meta
from inbox.models import InboundEvent, Message
from inbox.normalized import (
    AttachmentRef,
    Ignored,
    MessageEdit,
    NormalizedMessage,
    SenderRef,
    StatusUpdate,
)
from inbox.outbound.delivery import deliver
from inbox.outbound.replies import send_reply
from tests.inbox.factories import (
    ChannelFactory,
    ContactIdentityFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.inbox.social import post_meta, provider_client

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "webhooks" / "whatsapp"
SECRET = "meta-app-secret"

pytestmark = pytest.mark.django_db

WA = SenderRef(
    kind="whatsapp", id="972987654321", name="Test Name", phone="+972987654321", verified=True
)


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def wa(external_id, text, ts, *attachments, **headers) -> NormalizedMessage:
    return NormalizedMessage(
        channel_kind="meta",
        external_id=external_id,
        thread_key=None,
        sender=WA,
        text=text,
        html=None,
        attachments=attachments,
        sent_at=at(ts),
        headers={
            "platform": "whatsapp",
            "from": "972987654321",
            "recipient": "1122334455667",
            **({"media": [a.url for a in attachments]} if attachments else {}),
            **headers,
        },
    )


def media(name, content_type, url) -> AttachmentRef:
    return AttachmentRef(name=name, content_type=content_type, url=url)


LOOKASIDE = (
    "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
    "?mid=65463453&source=webhook&ext=487r9re&hash=heiwchueowbcew-dnedcw"
)
OPUS = "audio/ogg; codecs=opus"
MEDIA_ID = "whatsapp-media:1234567890987654321"
FAILED = (
    "130472 User's number is part of an experiment: Failed to send message because this "
    "user's phone number is part of an experiment"
)

# (file, example name) -> the exact items parsed from it.
CASES = {
    ("SH-W-007", "button"): [
        wa("wamid.xyzxyz", "title", 1698266730, reply_to="wamid.xyzxyz", payload="callback_data")
    ],
    ("SH-W-007", "quick_reply"): [
        wa("wamid.xsidjw", "title", 1698269027, reply_to="wamid.xyzxyz==", payload="callback_data")
    ],
    ("SH-W-007", "quick_reply_without_context"): [
        wa("wamid.xsidjx", "title", 1698269027, payload="callback_data")
    ],
    ("SH-W-008", "image"): [
        MessageEdit(
            external_id="wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=",
            text="Updated image caption",
            edited_at=at(1749854575),
        )
    ],
    ("SH-W-009", "text"): [wa("wamid.xyzxyz", "Body Text", 1697043223)],
    ("SH-W-009", "image"): [
        wa(
            "wamid.xyzxyz",
            "",
            1697043379,
            media("image-65463453.jpg", "image/jpeg", "whatsapp-media:65463453"),
        )
    ],
    ("SH-W-009", "media_with_url"): [
        wa("wamid.xyzxyz", "", 1697043379, media("image-65463453.jpg", "image/jpeg", LOOKASIDE))
    ],
    ("SH-W-009", "video"): [
        wa(
            "wamid.xyzxyz",
            "caption",
            1697044362,
            media("video-765756756.mp4", "video/mp4", "whatsapp-media:765756756"),
            forwarded=True,
        )
    ],
    ("SH-W-009", "document"): [
        wa(
            "wamid.xyzxyz",
            "caption",
            1697043666,
            media("filename.pdf", "application/pdf", MEDIA_ID),
            forwarded=True,
        )
    ],
    ("SH-W-009", "audio"): [
        wa(
            "wamid.xyzxyz",
            "",
            1697043509,
            media("audio-1234567890987654321.ogg", OPUS, MEDIA_ID),
            forwarded=True,
        )
    ],
    ("SH-W-009", "voice"): [
        wa("wamid.xyzxyz", "", 1697043473, media("voice-1234567890987654321.ogg", OPUS, MEDIA_ID))
    ],
    ("SH-W-009", "static_sticker"): [
        wa(
            "wamid.xyzxyz",
            "",
            1697043760,
            media("sticker-1234567890987654321.webp", "image/webp", MEDIA_ID),
        )
    ],
    ("SH-W-009", "animated_sticker"): [
        wa(
            "wamid.xyzxyz",
            "",
            1697043785,
            media("sticker-1234567890987654321.webp", "image/webp", MEDIA_ID),
        )
    ],
    ("SH-W-009", "reaction"): [Ignored("whatsapp reaction to wamid.yzxyzx=")],
    ("SH-W-009", "unreaction_empty"): [Ignored("whatsapp reaction to wamid.yzxyzx=")],
    ("SH-W-009", "unreaction_no_emoji"): [Ignored("whatsapp reaction to wamid.yzxyzx=")],
    ("SH-W-009", "current_location"): [
        wa("wamid.xyzxyz", "Location: (12.25089, 43.90539)", 1697044557, forwarded=True)
    ],
    ("SH-W-009", "chosen_location"): [
        wa(
            "wamid.xyzxyz",
            "Location: Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025 "
            "(37.4611978, -122.2164385) https://maps.google.com/?cid=2000000000000000000",
            1697044557,
            forwarded=True,
        )
    ],
    ("SH-W-009", "contacts"): [
        wa(
            "wamid.xyzxyz",
            "Shared contacts: Chandler Bing +1 555-555-5555; Monica +1 666-666-6666; "
            "Rachel Green +1 777-777-7777",
            1697044621,
        )
    ],
    ("SH-W-009", "order"): [
        wa(
            "wamid.xyzxyz",
            "Order from catalog 354160437058781: 3 x HAMBURGER (30 ILS), "
            "2 x FRENCH_FRIES (35 ILS), 2 x SODA (10 ILS)",
            1697044668,
        )
    ],
    ("SH-W-009", "unsupported"): [
        Ignored("whatsapp message wamid.xyzxyz of a type WhatsApp does not support")
    ],
    ("SH-W-009", "unsupported_with_type"): [
        Ignored("whatsapp message wamid.xyzxyz of a type WhatsApp does not support")
    ],
    ("SH-W-009", "reply"): [
        wa("wamid.xyzxyz", "replied text", 1697044746, reply_to="wamid.xyzxyz==")
    ],
    ("SH-W-009", "forwarded"): [wa("wamid.xyzxyz", "forwarded text", 1697044815, forwarded=True)],
    ("SH-W-009", "forwarded_many_times"): [
        wa("wamid.xyzxyz", "text forwarded many times", 1697044968, forwarded=True)
    ],
    ("SH-W-009", "interactive_message_with_err"): [
        Ignored("whatsapp interactive message wamid.wegrchytvwcggt= arrived without content")
    ],
    ("SH-W-009", "referral"): [
        wa(
            "wamid.ID",
            "BODY",
            1697045000,
            referral={
                "source_url": "AD_OR_POST_FB_URL",
                "source_id": "ADID",
                "source_type": "ad or post",
                "headline": "AD_TITLE",
                "body": "AD_DESCRIPTION",
                "media_type": "image or video",
                "image_url": "RAW_IMAGE_URL",
                "video_url": "RAW_VIDEO_URL",
                "thumbnail_url": "RAW_THUMBNAIL_URL",
                "ctwa_clid": "CTWA_CLID",
            },
        )
    ],
    ("SH-W-010", "sent"): [StatusUpdate("wamid.xyzxyz", "sent", at(1698266945))],
    ("SH-W-010", "delivered"): [StatusUpdate("wamid.xyzxyz", "delivered", at(1698266945))],
    ("SH-W-010", "read"): [StatusUpdate("wamid.xyzxyz", "read", at(1689380458))],
    ("SH-W-010", "played"): [StatusUpdate("wamid.xyzxyz", "read", at(1689380458))],
    ("SH-W-010", "failed"): [StatusUpdate("wamid.xyzxyz", "failed", at(1689380458), FAILED)],
    ("SH-W-010", "with_tracker"): [StatusUpdate("wamid.xyzxyz", "sent", at(1698266945))],
    ("SH-W-010", "group"): [StatusUpdate("<WHATSAPP_MESSAGE_ID>", "read", at(1698266945))],
}


def fixture(case: str, name: str) -> dict:
    return json.loads((FIXTURES / f"{case}.json").read_text())[name]


def event_for(body, channel=None) -> InboundEvent:
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundEvent(
        channel=channel, provider="meta", body=body, received_at=datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_every_fixture_example_has_a_case():
    names = {
        (path.stem, name)
        for path in FIXTURES.glob("*.json")
        for name in json.loads(path.read_text())
    }
    assert names == set(CASES)


@pytest.mark.parametrize(("case", "name"), sorted(CASES), ids=lambda v: v)
def test_whatsapp_fixture_parses_to_the_exact_items(case, name):
    assert meta.parse(event_for(fixture(case, name))) == CASES[(case, name)]


# Messenger's documented webhook events, batched as Meta batches them:
# https://developers.facebook.com/docs/messenger-platform/reference/webhook-events
MESSENGER_BATCH = {
    "object": "page",
    "entry": [
        {
            "id": "PAGE-1",
            "time": 1700000000000,
            "messaging": [
                {
                    "sender": {"id": "PSID-7"},
                    "recipient": {"id": "PAGE-1"},
                    "timestamp": 1700000000000,
                    "message": {
                        "mid": "m_text",
                        "text": "Red, size M",
                        "quick_reply": {"payload": "SIZE_M"},
                    },
                },
                {
                    "sender": {"id": "PSID-7"},
                    "recipient": {"id": "PAGE-1"},
                    "timestamp": 1700000001000,
                    "message": {
                        "mid": "m_photo",
                        "attachments": [
                            {"type": "image", "payload": {"url": "https://cdn.example/p.jpg"}}
                        ],
                    },
                },
            ],
        },
        {
            "id": "PAGE-1",
            "time": 1700000002000,
            "messaging": [
                {
                    "sender": {"id": "PSID-7"},
                    "recipient": {"id": "PAGE-1"},
                    "timestamp": 1700000002000,
                    "postback": {"title": "Talk to a human", "payload": "HUMAN", "mid": "m_pb"},
                },
                {
                    "sender": {"id": "PSID-7"},
                    "recipient": {"id": "PAGE-1"},
                    "delivery": {"mids": ["m_out_1", "m_out_2"], "watermark": 1700000003000},
                },
                {
                    "sender": {"id": "PSID-7"},
                    "recipient": {"id": "PAGE-1"},
                    "timestamp": 1700000004000,
                    "reaction": {"mid": "m_out_1", "action": "react", "emoji": "\u2764"},
                },
                {
                    "sender": {"id": "PAGE-1"},
                    "recipient": {"id": "PSID-7"},
                    "timestamp": 1700000005000,
                    "message": {"mid": "m_out_3", "is_echo": True, "text": "Hi!"},
                },
            ],
        },
    ],
}


def messenger(external_id, text, ms, attachments=(), **headers):
    return NormalizedMessage(
        channel_kind="meta",
        external_id=external_id,
        thread_key=None,
        sender=SenderRef(kind="messenger", id="PSID-7"),
        text=text,
        html=None,
        attachments=attachments,
        sent_at=datetime.fromtimestamp(ms / 1000, UTC),
        headers={"platform": "messenger", "from": "PSID-7", "recipient": "PAGE-1", **headers},
    )


def test_a_messenger_batch_parses_every_event_in_order():
    photo = AttachmentRef(name="image", content_type="image/*", url="https://cdn.example/p.jpg")
    assert meta.parse(event_for(MESSENGER_BATCH)) == [
        messenger("m_text", "Red, size M", 1700000000000, payload="SIZE_M"),
        messenger("m_photo", "", 1700000001000, (photo,), media=["https://cdn.example/p.jpg"]),
        messenger("m_pb", "Talk to a human", 1700000002000, payload="HUMAN"),
        StatusUpdate("m_out_1", "delivered", datetime.fromtimestamp(1700000003, UTC)),
        StatusUpdate("m_out_2", "delivered", datetime.fromtimestamp(1700000003, UTC)),
        Ignored("messenger event reaction not handled"),
        Ignored("messenger echo of our own message m_out_3"),
    ]


def test_an_instagram_read_receipt_is_a_status_update():
    body = {
        "object": "instagram",
        "entry": [
            {
                "id": "IG-1",
                "time": 1700000000000,
                "messaging": [
                    {
                        "sender": {"id": "IGSID-3"},
                        "recipient": {"id": "IG-1"},
                        "timestamp": 1700000000000,
                        "read": {"mid": "ig_out_1"},
                    }
                ],
            }
        ],
    }
    assert meta.parse(event_for(body)) == [
        StatusUpdate("ig_out_1", "read", datetime.fromtimestamp(1700000000, UTC))
    ]


# --- Through the webhook ----------------------------------------------------------------------


@pytest.fixture
def channel(team, http_server, settings):
    settings.META_GRAPH_BASE_URL = http_server.url
    return ChannelFactory(
        slug="meta",
        kind="meta",
        secret=SECRET,
        default_team=team,
        config={"verify_token": "let-me-in", "access_token": "EAAG-token"},
    )


def test_meta_verification_echoes_the_challenge(channel):
    response = provider_client().get(
        "/webhooks/meta/meta/",
        {"hub.mode": "subscribe", "hub.verify_token": "let-me-in", "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "let-me-in", "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
def test_meta_verification_with_a_wrong_token_is_403(channel, params):
    response = provider_client().get("/webhooks/meta/meta/", params)
    assert response.status_code == 403
    assert response.content != b"1" and response.json()["code"] == "bad_verify_token"


def test_meta_verification_of_an_unknown_channel_is_404(channel):
    response = provider_client().get(
        "/webhooks/meta/nope/",
        {"hub.mode": "subscribe", "hub.verify_token": "let-me-in", "hub.challenge": "1"},
    )
    assert response.status_code == 404


def test_a_batched_whatsapp_post_stores_each_message(channel, django_capture_on_commit_callbacks):
    body = fixture("SH-W-009", "text")
    second = fixture("SH-W-009", "referral")["entry"][0]["changes"][0]
    body["entry"][0]["changes"].append(second)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_meta(provider_client(), "meta", body, secret=SECRET)
    assert response.status_code == 200
    messages = Message.objects.filter(channel=channel).order_by("created_at")
    assert [m.text for m in messages] == ["Body Text", "BODY"]
    assert messages[0].conversation_id == messages[1].conversation_id
    contact = messages[0].conversation.contact
    assert (contact.name, contact.phone) == ("Test Name", "+972987654321")
    assert InboundEvent.objects.get().status == "processed"


def test_a_reaction_is_acknowledged_and_recorded_without_a_message(
    channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_meta(
            provider_client(), "meta", fixture("SH-W-009", "reaction"), secret=SECRET
        )
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == "processed" and "reaction" in event.error
    assert not Message.objects.exists()


def test_a_whatsapp_edit_updates_the_text_and_keeps_the_original(
    channel, django_capture_on_commit_callbacks
):
    edit = fixture("SH-W-008", "image")
    original_id = edit["entry"][0]["changes"][0]["value"]["messages"][0]["edit"][
        "original_message_id"
    ]
    original = MessageFactory(
        conversation=ConversationFactory(channel=channel),
        external_id=original_id,
        text="Old image caption",
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(provider_client(), "meta", edit, secret=SECRET)
    original.refresh_from_db()
    assert original.text == "Updated image caption"
    assert original.original_text == "Old image caption"


def outbound(conversation, external_id, status):
    return MessageFactory(
        conversation=conversation,
        direction="out",
        sender_contact=None,
        external_id=external_id,
        delivery_status=status,
    )


def test_status_updates_move_the_outbound_message_forward_only(
    channel, django_capture_on_commit_callbacks
):
    reply = outbound(ConversationFactory(channel=channel), "wamid.xyzxyz", "sent")
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(provider_client(), "meta", fixture("SH-W-010", "read"), secret=SECRET)
        post_meta(provider_client(), "meta", fixture("SH-W-010", "delivered"), secret=SECRET)
    reply.refresh_from_db()
    assert reply.delivery_status == "read"
    assert Message.objects.count() == 1


def test_a_failed_status_records_whatsapps_reason(channel, django_capture_on_commit_callbacks):
    reply = outbound(ConversationFactory(channel=channel), "wamid.xyzxyz", "sent")
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(provider_client(), "meta", fixture("SH-W-010", "failed"), secret=SECRET)
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert "part of an experiment" in reply.delivery_error


# --- Replies ------------------------------------------------------------------------------------


@pytest.fixture
def whatsapp_conversation(channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(provider_client(), "meta", fixture("SH-W-009", "text"), secret=SECRET)
    conversation = Message.objects.get(external_id="wamid.xyzxyz").conversation
    # The fixture is from 2023; the customer wrote again just now.
    conversation.last_inbound_at = timezone.now()
    conversation.save(update_fields=["last_inbound_at"])
    return conversation


def test_a_whatsapp_reply_goes_to_the_cloud_api_from_the_number_written_to(
    whatsapp_conversation, agent, http_server, django_capture_on_commit_callbacks
):
    http_server.respond(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "972987654321", "wa_id": "972987654321"}],
            "messages": [{"id": "wamid.reply-1"}],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=whatsapp_conversation.pk, actor=agent, text="Hello!")
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.external_id) == ("sent", "wamid.reply-1")
    [request] = http_server.requests
    assert request.path == "/v21.0/1122334455667/messages"
    assert request.headers["authorization"] == "Bearer EAAG-token"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "972987654321",
        "type": "text",
        "text": {"preview_url": False, "body": "Hello!"},
    }


def test_a_messenger_reply_goes_to_the_page_send_api(
    channel, agent, http_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_meta(provider_client(), "meta", MESSENGER_BATCH, secret=SECRET)
    conversation = Message.objects.get(external_id="m_text").conversation
    conversation.last_inbound_at = timezone.now()
    conversation.save(update_fields=["last_inbound_at"])
    http_server.respond(200, {"recipient_id": "PSID-7", "message_id": "m_reply"})
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="On it")
    reply.refresh_from_db()
    assert reply.external_id == "m_reply"
    [request] = http_server.requests
    assert request.path == "/v21.0/PAGE-1/messages"
    assert request.json() == {
        "recipient": {"id": "PSID-7"},
        "messaging_type": "RESPONSE",
        "message": {"text": "On it"},
    }


def test_a_reply_outside_the_24_hour_window_is_refused_with_a_reason(
    whatsapp_conversation, agent, http_server
):
    whatsapp_conversation.last_inbound_at = timezone.now() - dt.timedelta(hours=25)
    whatsapp_conversation.save(update_fields=["last_inbound_at"])
    with pytest.raises(ActionRefused, match="24-hour customer-service window is closed"):
        send_reply(conversation_id=whatsapp_conversation.pk, actor=agent, text="Too late?")
    assert not http_server.requests
    assert not Message.objects.filter(direction="out").exists()


def test_graph_rate_limiting_is_retried_later(
    whatsapp_conversation, agent, http_server, django_capture_on_commit_callbacks
):
    http_server.respond(
        400, {"error": {"message": "(#4) Application request limit reached", "code": 4}}
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=whatsapp_conversation.pk, actor=agent, text="Hi")
    reply.refresh_from_db()
    assert reply.delivery_status == "queued" and "request limit" in reply.delivery_error


def test_a_graph_4xx_fails_for_good(
    whatsapp_conversation, agent, http_server, django_capture_on_commit_callbacks
):
    http_server.respond(400, {"error": {"message": "(#100) Invalid parameter", "code": 100}})
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=whatsapp_conversation.pk, actor=agent, text="Hi")
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "Invalid parameter" in reply.delivery_error


def test_a_reply_queued_before_the_window_closed_is_not_sent_after(
    whatsapp_conversation, agent, http_server, django_capture_on_commit_callbacks
):
    http_server.respond(503)
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=whatsapp_conversation.pk, actor=agent, text="Hi")
    whatsapp_conversation.last_inbound_at = timezone.now() - dt.timedelta(hours=25)
    whatsapp_conversation.save(update_fields=["last_inbound_at"])
    Message.objects.filter(pk=reply.pk).update(next_attempt_at=timezone.now())
    reply = deliver(message_id=reply.pk)
    assert reply.delivery_status == "failed" and "window is closed" in reply.delivery_error
    assert len(http_server.requests) == 1


def test_a_contact_without_a_meta_identity_cannot_be_routed(channel):
    conversation = ConversationFactory(channel=channel)
    ContactIdentityFactory(contact=conversation.contact)
    message = MessageFactory(conversation=conversation, direction="out", sender_contact=None)
    from inbox.outbound.senders import PermanentSendError
    from inbox.outbound.senders import meta as meta_sender

    with pytest.raises(PermanentSendError, match="no Messenger, Instagram or WhatsApp id"):
        meta_sender.send(message)
