"""A chat visitor who left an email address and closed the widget gets the agent's reply by
real mail from the mailbox the chat channel names, and their answer to that mail comes back
into the same chat conversation."""

from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core import mail

from inbox.chat import sender as chat_sender
from inbox.chat import service as chat
from inbox.intake.doors.email import ingest_email
from inbox.models import Message
from inbox.outbound.replies import send_reply
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(team):
    return ChannelFactory(kind="email", slug="help", address="help@example.com", default_team=team)


@pytest.fixture
def site_chat(team, mailbox, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return ChannelFactory(
        kind="chat",
        slug="site",
        name="Website",
        default_team=team,
        config={"email_channel": "help"},
    )


def visitor_conversation(channel, email="ada@example.org"):
    session = chat.start_session(channel=channel, name="Ada", email=email)
    shown = chat.post_visitor_message(session=session, text="Do you ship to Norway?")
    return Message.objects.get(pk=shown["id"]).conversation


def answer_to(sent, *, sender="ada@example.org", text="Thanks, and to Iceland?"):
    reply = EmailMessage()
    reply["From"] = f"Ada <{sender}>"
    reply["To"] = sent["Reply-To"]
    reply["Subject"] = "Re: " + sent["Subject"]
    reply["Message-ID"] = make_msgid(domain="example.org")
    reply["In-Reply-To"] = sent["Message-ID"]
    reply.set_content(text)
    return reply.as_bytes()


def test_the_offline_visitor_gets_mail_and_their_answer_joins_the_chat(
    site_chat, mailbox, agent, django_capture_on_commit_callbacks
):
    conversation = visitor_conversation(site_chat)
    assert chat_sender.delivery_route(conversation) == chat_sender.EMAIL
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Yes, we do.")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent"
    assert len(mail.outbox) == 1
    sent = message_from_bytes(mail.outbox[0].message().as_bytes(), policy=policy.default)
    assert sent["To"] == "ada@example.org"
    assert "help@example.com" in sent["From"]
    assert sent["Reply-To"] == f"help+{conversation.reply_token}@example.com"
    assert "Yes, we do." in mail.outbox[0].body

    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_email(channel=mailbox, raw=answer_to(sent))
    assert result.outcome == "ok" and result.conversation_id == conversation.pk
    thread = list(conversation.messages.order_by("created_at", "id").values_list("text", flat=True))
    assert thread[-1].startswith("Thanks, and to Iceland?")


def test_a_stranger_holding_the_address_cannot_join_with_a_guessed_or_stolen_token(
    site_chat, mailbox, agent, django_capture_on_commit_callbacks
):
    conversation = visitor_conversation(site_chat)
    with django_capture_on_commit_callbacks(execute=True):
        send_reply(conversation_id=conversation.pk, actor=agent, text="Yes, we do.")
    sent = message_from_bytes(mail.outbox[0].message().as_bytes(), policy=policy.default)
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_email(channel=mailbox, raw=answer_to(sent, sender="mallory@evil.test"))
    assert result.outcome == "ok" and result.conversation_id != conversation.pk


def test_mail_on_another_mailbox_does_not_reach_the_chat(
    site_chat, team, agent, django_capture_on_commit_callbacks
):
    other = ChannelFactory(kind="email", slug="sales", address="sales@example.com")
    conversation = visitor_conversation(site_chat)
    with django_capture_on_commit_callbacks(execute=True):
        send_reply(conversation_id=conversation.pk, actor=agent, text="Yes, we do.")
    sent = message_from_bytes(mail.outbox[0].message().as_bytes(), policy=policy.default)
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest_email(channel=other, raw=answer_to(sent))
    assert result.conversation_id != conversation.pk


def test_without_a_mailbox_named_the_reply_waits_in_the_widget(
    team, agent, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    plain = ChannelFactory(kind="chat", slug="plain", default_team=team)
    conversation = visitor_conversation(plain)
    assert chat_sender.delivery_route(conversation) == chat_sender.WIDGET
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Yes, we do.")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent" and mail.outbox == []
