"""Telegram: fixtures -> normalized items, edits, and replies through sendMessage on a local
server playing the Bot API."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import ActionRefused
from inbox.intake.adapters import telegram
from inbox.models import InboundEvent, Message
from inbox.normalized import AttachmentRef, Ignored, NormalizedMessage, SenderRef
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import post_telegram, provider_client

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "webhooks" / "telegram"
SECRET = "tg-secret-token"

# language_code, as Telegram sends it (the contact keeps it only when we serve it).
MARIO_BROS = SenderRef(kind="telegram", id="12345", name="Mario Bros", language="it")
MARIO = SenderRef(kind="telegram", id="456", name="Mario", language="en")
ANIMATION = "telegram-file:sdaafsghhjhgkkygrssgdfghgfdgh"


def message(external_id, sender, text, ts, chat_id, *attachments, **headers):
    return NormalizedMessage(
        channel_kind="telegram",
        external_id=external_id,
        thread_key=None,
        sender=sender,
        text=text,
        html=None,
        attachments=attachments,
        sent_at=datetime.fromtimestamp(ts, UTC),
        headers={
            "chat_id": chat_id,
            **({"media": [a.url for a in attachments]} if attachments else {}),
            **headers,
        },
    )


CASES = {
    # An animation arrives as both `animation` and `document`: one file, not two.
    "SH-W-011": [
        message(
            "12345:123456",
            MARIO_BROS,
            "",
            1668633998,
            12345,
            AttachmentRef(
                name="sdaafsghhjhgkkygrssgdfghgfdgh.mp4", content_type="video/mp4", url=ANIMATION
            ),
        )
    ],
    "SH-W-012": [message("456:123", MARIO, "Ciao", 1684984664, 456)],
    "SH-W-013": [message("12345:123456", MARIO_BROS, "\U0001f3b2 4", 1668633998, 12345)],
    "SH-W-014": [message("456:123", MARIO, "Ciao", 1684984664, 456)],
    "SH-W-015": [
        message(
            "12345:123456",
            MARIO_BROS,
            "Location: McDonald's, Via Giolitti 65 (41.899977, 12.501028)",
            1668633998,
            12345,
        )
    ],
}


def event_for(body) -> InboundEvent:
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundEvent(
        provider="telegram", body=body, received_at=datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_every_fixture_has_a_case():
    assert {path.stem for path in FIXTURES.glob("*.json")} == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_telegram_fixture_parses_to_the_exact_items(case):
    assert telegram.parse(event_for((FIXTURES / f"{case}.json").read_bytes())) == CASES[case]


def test_a_photo_keeps_the_largest_size_as_a_file_reference():
    body = {
        "update_id": 9,
        "message": {
            "message_id": 5,
            "from": {"id": 77, "first_name": "Ada"},
            "chat": {"id": 77, "type": "private"},
            "date": 1700000000,
            "caption": "the error",
            "photo": [
                {"file_id": "small", "file_unique_id": "s", "file_size": 900},
                {"file_id": "large", "file_unique_id": "l", "file_size": 90000},
            ],
        },
    }
    [parsed] = telegram.parse(event_for(body))
    assert parsed.text == "the error"
    assert parsed.attachments == (
        AttachmentRef(name="photo.jpg", content_type="image/jpeg", url="telegram-file:large"),
    )


def test_edited_message_is_an_edit_of_the_same_message():
    body = {
        "update_id": 10,
        "edited_message": {
            "message_id": 123,
            "from": {"id": 456, "first_name": "Mario"},
            "chat": {"id": 456, "type": "private"},
            "date": 1684984664,
            "edit_date": 1684984700,
            "text": "Ciao, ciao",
        },
    }
    [edit] = telegram.parse(event_for(body))
    assert (edit.external_id, edit.text, edit.edited_at) == (
        "456:123",
        "Ciao, ciao",
        datetime.fromtimestamp(1684984700, UTC),
    )
    # Stored as a new message if the original never reached us (test_telegram_updates.py).
    assert isinstance(edit.unseen, NormalizedMessage) and edit.unseen.external_id == "456:123"


def test_other_update_kinds_are_ignored():
    body = {"update_id": 11, "my_chat_member": {"chat": {"id": 1}}}
    assert telegram.parse(event_for(body)) == [
        Ignored("telegram update my_chat_member not handled")
    ]


@pytest.fixture
def channel(team):
    return ChannelFactory(
        slug="tg",
        kind="telegram",
        secret=SECRET,
        default_team=team,
        config={"bot_token": "123:ABC"},
    )


def test_a_stored_update_keeps_no_secret_of_its_request(channel):
    body = (FIXTURES / "SH-W-014.json").read_bytes()
    response = provider_client().post(
        "/webhooks/telegram/tg/",
        data=body,
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
        HTTP_AUTHORIZATION="Bearer proxy-credential",
        HTTP_COOKIE="sessionid=visitor-session",
        HTTP_X_API_KEY="gateway-key",
        HTTP_X_REQUEST_ID="req-42",
    )
    assert response.status_code == 200
    stored = InboundEvent.objects.get(pk=response.json()["event"])
    kept = json.dumps(stored.headers)
    for secret in (SECRET, "proxy-credential", "visitor-session", "gateway-key"):
        assert secret not in kept
    # What a provider says about its delivery is still kept.
    assert stored.headers["x-request-id"] == "req-42"
    assert stored.headers["content-type"] == "application/json"


def test_an_edit_updates_the_stored_text_and_keeps_the_original(
    channel, django_capture_on_commit_callbacks
):
    first = json.loads((FIXTURES / "SH-W-014.json").read_text())
    edit = {"update_id": 2, "edited_message": {**first["message"], "edit_date": 1684984700}}
    edit["edited_message"]["text"] = "Ciao! Do you ship to Milan?"
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(provider_client(), "tg", first, secret=SECRET)
        response = post_telegram(provider_client(), "tg", edit, secret=SECRET)
    assert response.status_code == 200
    stored = Message.objects.get(channel=channel, external_id="456:123")
    assert stored.text == "Ciao! Do you ship to Milan?"
    assert stored.original_text == "Ciao"
    assert Message.objects.count() == 1


def test_a_reply_goes_through_send_message(
    channel, agent, http_server, settings, django_capture_on_commit_callbacks
):
    settings.TELEGRAM_API_BASE_URL = http_server.url
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(
            provider_client(), "tg", (FIXTURES / "SH-W-014.json").read_bytes(), secret=SECRET
        )
    conversation = Message.objects.get(external_id="456:123").conversation
    http_server.respond(
        200, {"ok": True, "result": {"message_id": 124, "chat": {"id": 456}, "text": "Hi Mario"}}
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Hi Mario")
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.external_id) == ("sent", "456:124")
    [request] = http_server.requests
    assert request.path == "/bot123:ABC/sendMessage"
    assert request.json() == {"chat_id": "456", "text": "Hi Mario"}


def test_flood_control_is_retried_after_the_time_telegram_asks(
    channel, agent, http_server, settings, django_capture_on_commit_callbacks
):
    settings.TELEGRAM_API_BASE_URL = http_server.url
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(
            provider_client(), "tg", (FIXTURES / "SH-W-014.json").read_bytes(), secret=SECRET
        )
    conversation = Message.objects.get(external_id="456:123").conversation
    http_server.respond(
        429,
        {"ok": False, "error_code": 429, "parameters": {"retry_after": 600}},
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Hi")
    reply.refresh_from_db()
    assert reply.delivery_status == "queued" and "429" in reply.delivery_error
    assert (reply.next_attempt_at - reply.created_at).total_seconds() >= 600


def test_a_blocked_bot_fails_for_good(
    channel, agent, http_server, settings, django_capture_on_commit_callbacks
):
    settings.TELEGRAM_API_BASE_URL = http_server.url
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(
            provider_client(), "tg", (FIXTURES / "SH-W-014.json").read_bytes(), secret=SECRET
        )
    conversation = Message.objects.get(external_id="456:123").conversation
    http_server.respond(
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Hi")
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "blocked by the user" in reply.delivery_error


def test_without_a_bot_token_the_agent_is_told_replies_cannot_go_out(
    channel, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_telegram(
            provider_client(), "tg", (FIXTURES / "SH-W-014.json").read_bytes(), secret=SECRET
        )
    channel.config = {}
    channel.save()
    conversation = Message.objects.get(external_id="456:123").conversation
    with pytest.raises(ActionRefused, match="no bot token"):
        send_reply(conversation_id=conversation.pk, actor=agent, text="Hi")
