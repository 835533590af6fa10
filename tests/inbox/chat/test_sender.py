"""Where an agent's chat reply goes: the open widget, or email for a visitor who left."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from inbox.chat import sender
from inbox.chat import service as chat
from inbox.intake.adapters import chat as adapter
from inbox.models import InboundEvent, Message
from inbox.normalized import NormalizedMessage, SenderRef
from inbox.outbound.replies import send_reply
from inbox.outbound.senders import SENDERS, PermanentSendError
from tests.inbox.chat import email_stand_in as chat_email_stand_in
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks" / "chat"


@pytest.fixture
def channel(team):
    return ChannelFactory(kind="chat", slug="chat", default_team=team)


@pytest.fixture
def email_sender_registered(monkeypatch):
    monkeypatch.setitem(SENDERS, "email", "tests.inbox.chat.email_stand_in")
    chat_email_stand_in.sent.clear()
    return chat_email_stand_in.sent


def conversation_with(channel, *, email=""):
    session = chat.start_session(channel=channel, email=email)
    shown = chat.post_visitor_message(session=session, text="Hello?")
    return session, Message.objects.get(pk=shown["id"]).conversation


def reply(conversation, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_reply(conversation_id=conversation.pk, actor=agent, text="We are back.")
    message.refresh_from_db()
    return message


def test_adapter_parses_a_visitor_message_with_an_unverified_email():
    event = InboundEvent(
        provider="chat",
        body=(FIXTURES / "message.json").read_bytes(),
        received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert adapter.parse(event) == [
        NormalizedMessage(
            channel_kind="chat",
            external_id="chat-Qm9vbGVhbi1zZXNzaW9uLWlk-k3v9x2",
            thread_key="Qm9vbGVhbi1zZXNzaW9uLWlk",
            sender=SenderRef(
                kind="chat",
                id="Qm9vbGVhbi1zZXNzaW9uLWlk",
                name="Ada Lovelace",
                email="ada@example.org",
                verified=False,
            ),
            text="Hello, do you offer a discount for nonprofits?",
            html=None,
            attachments=(),
            sent_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
    ]


def test_an_offline_visitor_with_an_email_gets_the_reply_by_email(
    channel, agent, email_sender_registered, django_capture_on_commit_callbacks
):
    _, conversation = conversation_with(channel, email="ada@example.org")
    message = reply(conversation, agent, django_capture_on_commit_callbacks)
    assert email_sender_registered == [message.pk]
    assert message.delivery_status == "sent"
    assert message.external_id == f"<reply-{message.pk}@switchboard.test>"


def test_a_connected_visitor_gets_the_reply_in_the_widget_even_with_an_email(
    channel, agent, email_sender_registered, django_capture_on_commit_callbacks
):
    session, conversation = conversation_with(channel, email="ada@example.org")
    chat.mark_seen(session)
    message = reply(conversation, agent, django_capture_on_commit_callbacks)
    assert email_sender_registered == []
    assert message.external_id == f"chat-reply-{message.pk}"


def test_a_visitor_who_left_no_email_finds_the_reply_when_they_come_back(
    channel, agent, email_sender_registered, django_capture_on_commit_callbacks
):
    session, conversation = conversation_with(channel)
    message = reply(conversation, agent, django_capture_on_commit_callbacks)
    assert email_sender_registered == []
    assert [m["text"] for m in chat.poll_session(session, after=0)["messages"]] == [
        "Hello?",
        "We are back.",
    ]
    assert message.delivery_status == "sent"


def test_without_an_email_sender_the_reply_waits_in_the_widget(
    channel, agent, django_capture_on_commit_callbacks, monkeypatch
):
    from inbox.outbound.senders import SENDERS

    monkeypatch.delitem(SENDERS, "email", raising=False)
    session, conversation = conversation_with(channel, email="ada@example.org")
    assert sender.delivery_route(conversation) == sender.WIDGET
    message = reply(conversation, agent, django_capture_on_commit_callbacks)
    assert message.external_id == f"chat-reply-{message.pk}"
    assert chat.poll_session(session, after=0)["messages"][-1]["text"] == "We are back."


def test_a_visitor_who_closed_the_widget_is_offline_again(channel, email_sender_registered):
    session, conversation = conversation_with(channel, email="ada@example.org")
    chat.mark_seen(session)
    assert sender.delivery_route(conversation) == sender.WIDGET
    chat.mark_gone(session)
    assert sender.delivery_route(conversation) == sender.EMAIL


def test_the_chat_sender_refuses_a_private_note(channel, agent):
    from inbox.services import add_note

    _, conversation = conversation_with(channel)
    note = add_note(conversation_id=conversation.pk, actor=agent, text="internal")
    with pytest.raises(PermanentSendError):
        sender.send(note)
