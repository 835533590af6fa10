"""Telegram updates beyond a plain message (issue 21), posted to the webhook as the Bot API
sends them (https://core.telegram.org/bots/api#update): a button press (callback_query) is a
message with its data; an edit of a message we never saw is stored as a new message; a post in
a channel the bot administers is acknowledged and opens nothing."""

import json
from pathlib import Path

import pytest

from inbox.models import Conversation, InboundEvent, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import post_telegram, provider_client

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "webhooks" / "telegram"
SECRET = "telegram-secret"
MARIO = {"id": 456, "is_bot": False, "first_name": "Mario", "username": "Bros"}
BOT = {"id": 999, "is_bot": True, "first_name": "ShopBot", "username": "shop_bot"}
CHAT = {"id": 456, "first_name": "Mario", "username": "Bros", "type": "private"}


@pytest.fixture
def channel(team):
    return ChannelFactory(slug="tg", kind="telegram", secret=SECRET, default_team=team)


def post(update: dict, capture):
    with capture(execute=True):
        response = post_telegram(
            provider_client(), "tg", json.dumps(update).encode(), secret=SECRET
        )
    assert response.status_code == 200, response.content
    return InboundEvent.objects.order_by("-pk").first()


def test_a_button_press_becomes_a_message_with_its_data(
    channel, django_capture_on_commit_callbacks
):
    update = {
        "update_id": 10,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": MARIO,
            "message": {
                "message_id": 77,
                "from": BOT,
                "chat": CHAT,
                "date": 1684984600,
                "text": "Did this answer your question?",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "Yes", "callback_data": "answered:yes"}]]
                },
            },
            "chat_instance": "-8120458139227153473",
            "data": "answered:yes",
        },
    }
    event = post(update, django_capture_on_commit_callbacks)
    assert event.status == "processed", event.error
    message = Message.objects.get()
    assert message.text == "answered:yes"
    assert message.sender_contact.name == "Mario"
    assert message.headers["chat_id"] == 456
    post(update, django_capture_on_commit_callbacks)  # redelivered: still one message
    assert Message.objects.count() == 1


def test_an_edit_of_a_message_we_never_saw_is_stored_as_a_new_message(
    channel, django_capture_on_commit_callbacks
):
    original = json.loads((FIXTURES / "SH-W-014.json").read_text())["message"]
    edited = {**original, "text": "Ciao, where is my order?", "edit_date": 1684984700}
    event = post({"update_id": 11, "edited_message": edited}, django_capture_on_commit_callbacks)
    assert event.status == "processed", event.error
    message = Message.objects.get()
    assert message.text == "Ciao, where is my order?"
    assert message.sender_contact.name == "Mario"
    # The original arriving late (a redelivery) is that same message, not a second one.
    post({"update_id": 1, "message": original}, django_capture_on_commit_callbacks)
    assert Message.objects.count() == 1


def test_an_edit_of_a_message_we_have_keeps_editing_it(channel, django_capture_on_commit_callbacks):
    original = json.loads((FIXTURES / "SH-W-014.json").read_text())["message"]
    post({"update_id": 1, "message": original}, django_capture_on_commit_callbacks)
    edited = {**original, "text": "Ciao!", "edit_date": 1684984700}
    post({"update_id": 2, "edited_message": edited}, django_capture_on_commit_callbacks)
    message = Message.objects.get()
    assert (message.text, message.original_text) == ("Ciao!", "Ciao")


def test_a_post_in_a_channel_the_bot_administers_opens_nothing(
    channel, django_capture_on_commit_callbacks
):
    post_in_channel = {
        "update_id": 12,
        "channel_post": {
            "message_id": 5,
            "sender_chat": {"id": -1001234, "title": "Shop news", "type": "channel"},
            "chat": {"id": -1001234, "title": "Shop news", "type": "channel"},
            "date": 1684984664,
            "text": "New arrivals this week!",
        },
    }
    event = post(post_in_channel, django_capture_on_commit_callbacks)
    assert event.status == "processed" and event.error  # acknowledged, the reason noted
    assert not Conversation.objects.exists() and not Message.objects.exists()
