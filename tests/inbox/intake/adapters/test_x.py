"""X direct messages: the CRC check, Account Activity bodies -> normalized items, our own DMs
echoed back, and replies through the DM API on a local server."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from inbox.intake.adapters import UnknownPayload, x
from inbox.models import Channel, InboundEvent, Message
from inbox.normalized import AttachmentRef, Ignored, NormalizedMessage, SenderRef, StatusUpdate
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import post_x, provider_client

pytestmark = pytest.mark.django_db

CONSUMER_SECRET = "x-consumer-secret"
OUR_ID = "4337869213"

# https://docs.x.com/x-api/enterprise/account-activity-api/guides/account-activity-data-objects
DM = {
    "for_user_id": OUR_ID,
    "direct_message_events": [
        {
            "type": "message_create",
            "id": "954491830116155396",
            "created_timestamp": "1515446554565",
            "message_create": {
                "target": {"recipient_id": OUR_ID},
                "sender_id": "3001969357",
                "source_app_id": "13090192",
                "message_data": {
                    "text": "My order never arrived https://t.co/abc",
                    "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
                    "attachment": {
                        "type": "media",
                        "media": {
                            "id": 951,
                            "media_url_https": "https://ton.twitter.com/1.1/ton/data/dm/951.jpg",
                            "type": "photo",
                        },
                    },
                },
            },
        }
    ],
    "users": {
        "3001969357": {"id": "3001969357", "name": "Jordan Brinks", "screen_name": "furiouscamper"},
        OUR_ID: {"id": OUR_ID, "name": "Switchboard Support", "screen_name": "sbsupport"},
    },
}
ECHO = {
    "for_user_id": OUR_ID,
    "direct_message_events": [
        {
            "type": "message_create",
            "id": "954491830116155999",
            "created_timestamp": "1515446600000",
            "message_create": {
                "target": {"recipient_id": "3001969357"},
                "sender_id": OUR_ID,
                "message_data": {"text": "Sorry about that, on it."},
            },
        }
    ],
}
READ = {
    "for_user_id": OUR_ID,
    "direct_message_mark_read_events": [
        {
            "created_timestamp": "1515446700000",
            "sender_id": "3001969357",
            "target": {"recipient_id": OUR_ID},
            "last_read_event_id": "954491830116155999",
        }
    ],
}


def event_for(body, channel=None) -> InboundEvent:
    return InboundEvent(
        channel=channel,
        provider="x",
        body=json.dumps(body).encode(),
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_a_direct_message_parses_to_the_exact_message():
    photo = "https://ton.twitter.com/1.1/ton/data/dm/951.jpg"
    assert x.parse(event_for(DM)) == [
        NormalizedMessage(
            channel_kind="x",
            external_id="954491830116155396",
            thread_key=None,
            sender=SenderRef(kind="x", id="3001969357", name="Jordan Brinks"),
            text="My order never arrived https://t.co/abc",
            html=None,
            attachments=(AttachmentRef(name="photo", content_type="image/jpeg", url=photo),),
            sent_at=datetime.fromtimestamp(1515446554.565, UTC),
            headers={"recipient": "3001969357", "media": [photo]},
        )
    ]


def test_our_own_direct_message_echoed_back_is_recognised():
    assert x.parse(event_for(ECHO)) == [
        Ignored("x echo of our own direct message 954491830116155999")
    ]


def test_the_channels_configured_account_id_marks_echoes():
    channel = Channel(kind="x", config={"account_id": "3001969357"})
    assert x.parse(event_for({**DM, "for_user_id": "other"}, channel)) == [
        Ignored("x echo of our own direct message 954491830116155396")
    ]


def test_a_mark_read_event_is_a_read_status():
    assert x.parse(event_for(READ)) == [
        StatusUpdate("954491830116155999", "read", datetime.fromtimestamp(1515446700, UTC))
    ]


def test_other_activity_is_ignored_and_unknown_bodies_are_unknown():
    assert x.parse(event_for({"for_user_id": OUR_ID, "favorite_events": [{}]})) == [
        Ignored("x favorite_events not handled")
    ]
    with pytest.raises(UnknownPayload):
        x.parse(event_for({"something": "else"}))


@pytest.fixture
def channel(team):
    return ChannelFactory(
        slug="x",
        kind="x",
        secret=CONSUMER_SECRET,
        default_team=team,
        config={"account_id": OUR_ID, "access_token": "user-access-token"},
    )


def test_the_crc_challenge_is_answered_with_the_consumer_secret(channel):
    response = provider_client().get("/webhooks/x/x/", {"crc_token": "challenge-123"})
    assert response.status_code == 200
    expected = hmac.new(CONSUMER_SECRET.encode(), b"challenge-123", hashlib.sha256).digest()
    assert response.json() == {"response_token": "sha256=" + base64.b64encode(expected).decode()}


def test_a_crc_without_a_token_is_400_and_an_unknown_channel_404(channel):
    assert provider_client().get("/webhooks/x/x/").status_code == 400
    assert provider_client().get("/webhooks/x/nope/", {"crc_token": "t"}).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(DM),
        json.dumps(DM, separators=(",", ":")),
        '{"direct_message_events":[]}',
        '{"a":1}',
    ],
)
def test_a_signature_from_the_crc_handshake_never_validates_a_post(
    channel, body, django_capture_on_commit_callbacks
):
    # An attacker asks the handshake (no login) to sign a body of their own...
    answer = provider_client().get("/webhooks/x/x/", {"crc_token": body})
    # ...and posts that body with the signature the handshake gave, if it gave one.
    stolen = answer.json().get("response_token", x.digest("a guess", body.encode()))
    with django_capture_on_commit_callbacks(execute=True):
        forged = provider_client().post(
            "/webhooks/x/x/",
            data=body.encode(),
            content_type="application/json",
            HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=stolen,
        )
    assert forged.status_code == 401
    assert not InboundEvent.objects.exists() and not Message.objects.exists()
    assert answer.status_code == 400 and "response_token" not in answer.json()


@pytest.mark.parametrize(
    "token",
    [
        "NDIzMTg3ODMtNzhmNi00NzA5LThhMjgtMjAxNGJlNGYxMWMx",  # base64 of a UUID
        "bW9yZSByYW5kb20gYnl0ZXMgaGVyZQ==",
        "aB3-_x.9+/",
    ],
)
def test_a_token_shaped_like_x_s_is_still_answered(channel, token):
    response = provider_client().get("/webhooks/x/x/", {"crc_token": token})
    expected = hmac.new(CONSUMER_SECRET.encode(), token.encode(), hashlib.sha256).digest()
    assert response.json() == {"response_token": "sha256=" + base64.b64encode(expected).decode()}


@pytest.mark.parametrize("token", ["a b", "a" * 129, '"quoted"', "{}", "tab\t", "ünï"])
def test_a_token_x_would_never_send_is_refused(channel, token):
    response = provider_client().get("/webhooks/x/x/", {"crc_token": token})
    assert response.status_code == 400 and response.json()["code"] == "malformed"


def test_a_dm_is_stored_and_its_echo_is_not(channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_x(provider_client(), "x", DM, secret=CONSUMER_SECRET).status_code == 200
        assert post_x(provider_client(), "x", ECHO, secret=CONSUMER_SECRET).status_code == 200
    assert list(Message.objects.values_list("external_id", flat=True)) == ["954491830116155396"]
    echo_event = InboundEvent.objects.order_by("pk").last()
    assert echo_event.status == "processed" and "echo" in echo_event.error


def test_a_reply_is_sent_with_the_dm_api_and_its_echo_then_read(
    channel, agent, http_server, settings, django_capture_on_commit_callbacks
):
    settings.X_API_BASE_URL = http_server.url
    with django_capture_on_commit_callbacks(execute=True):
        post_x(provider_client(), "x", DM, secret=CONSUMER_SECRET)
    conversation = Message.objects.get().conversation
    http_server.respond(
        201,
        {
            "data": {
                "dm_conversation_id": "3001969357-4337869213",
                "dm_event_id": "954491830116155999",
            }
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(
            conversation_id=conversation.pk, actor=agent, text="Sorry about that, on it."
        )
    [request] = http_server.requests
    assert request.path == "/2/dm_conversations/with/3001969357/messages"
    assert request.headers["authorization"] == "Bearer user-access-token"
    assert request.json() == {"text": "Sorry about that, on it."}
    with django_capture_on_commit_callbacks(execute=True):
        post_x(provider_client(), "x", ECHO, secret=CONSUMER_SECRET)
        post_x(provider_client(), "x", READ, secret=CONSUMER_SECRET)
    reply.refresh_from_db()
    assert (reply.external_id, reply.delivery_status) == ("954491830116155999", "read")
    assert Message.objects.count() == 2


def test_a_participant_id_that_is_not_an_id_never_reaches_the_api(
    channel, agent, http_server, settings, django_capture_on_commit_callbacks
):
    settings.X_API_BASE_URL = http_server.url
    hostile = json.loads(json.dumps(DM))
    hostile["direct_message_events"][0]["message_create"]["sender_id"] = "../../1.1/account"
    with django_capture_on_commit_callbacks(execute=True):
        post_x(provider_client(), "x", hostile, secret=CONSUMER_SECRET)
    conversation = Message.objects.get().conversation
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Hi")
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "not a valid id" in reply.delivery_error
    assert not http_server.requests
