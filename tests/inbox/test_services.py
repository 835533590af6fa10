import datetime as dt

import pytest
from django.utils import timezone

from inbox.intake.receive import receive_message
from inbox.models import Conversation, Event, Message
from inbox.normalized import NormalizedMessage, SenderRef
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def normalized(external_id="m1", *, kind="email", sender=None, text="Hello there", **extra):
    return NormalizedMessage(
        channel_kind=kind,
        external_id=external_id,
        thread_key=extra.pop("thread_key", None),
        sender=sender
        or SenderRef(
            kind="email", id="ann@example.com", name="Ann", email="ann@example.com", verified=True
        ),
        text=text,
        html=extra.pop("html", None),
        attachments=(),
        sent_at=extra.pop("sent_at", timezone.now()),
        **extra,
    )


def test_first_message_opens_a_conversation_for_a_new_contact(
    django_capture_on_commit_callbacks, published
):
    channel = ChannelFactory(kind="email")
    with django_capture_on_commit_callbacks(execute=True):
        received = receive_message(channel=channel, message=normalized(subject="Refund"))
    conversation = received.conversation
    assert received.created and received.conversation_created
    assert conversation.subject == "Refund"
    assert conversation.team == channel.default_team
    assert conversation.contact.email == "ann@example.com"
    assert conversation.message_count == 1 and conversation.snippet == "Hello there"
    assert [e.type for e in published] == [
        "contact.created",
        "conversation.created",
        "message.created",
    ]
    assert all(e.dispatched_at is None for e in published)  # instances captured before the update
    assert Event.objects.filter(dispatched_at__isnull=False).count() == 3


def test_duplicate_delivery_is_ignored(django_capture_on_commit_callbacks, published):
    channel = ChannelFactory()
    first = receive_message(channel=channel, message=normalized("dup"))
    with django_capture_on_commit_callbacks(execute=True):
        again = receive_message(channel=channel, message=normalized("dup"))
    assert not again.created
    assert again.message.pk == first.message.pk
    assert Message.objects.count() == 1
    assert published == []


def test_html_is_sanitised_on_the_way_in():
    channel = ChannelFactory()
    hostile = (
        '<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(2)">link</a></p>'
        '<iframe src="https://evil"></iframe>'
    )
    stored = receive_message(channel=channel, message=normalized(html=hostile)).message
    assert "script" not in stored.html and "onclick" not in stored.html
    assert "javascript" not in stored.html and "iframe" not in stored.html
    assert "Hi" in stored.html and "link" in stored.html


def test_email_without_references_never_threads_by_subject():
    channel = ChannelFactory(kind="email")
    a = receive_message(channel=channel, message=normalized("a", subject="Help")).conversation
    b = receive_message(channel=channel, message=normalized("b", subject="Help")).conversation
    assert a.pk != b.pk


def test_email_reply_joins_when_it_references_the_contacts_own_conversation():
    channel = ChannelFactory(kind="email")
    first = receive_message(channel=channel, message=normalized("<a@x>"))
    reply = receive_message(channel=channel, message=normalized("<b@x>", references=("<a@x>",)))
    assert reply.conversation.pk == first.conversation.pk
    assert reply.conversation.message_count == 2


def test_a_stranger_referencing_someone_elses_message_opens_a_new_conversation():
    channel = ChannelFactory(kind="email")
    victim = receive_message(channel=channel, message=normalized("<a@x>")).conversation
    mallory = SenderRef(
        kind="email", id="mallory@evil.test", email="mallory@evil.test", verified=True
    )
    spoof = receive_message(
        channel=channel, message=normalized("<m@evil>", sender=mallory, references=("<a@x>",))
    )
    assert spoof.conversation.pk != victim.pk
    assert victim.messages.count() == 1


def test_reply_token_threads_only_for_the_same_contact():
    channel = ChannelFactory(kind="email")
    conversation = receive_message(channel=channel, message=normalized("<a@x>")).conversation
    same = receive_message(
        channel=channel, message=normalized("<b@x>", reply_token=conversation.reply_token)
    )
    assert same.conversation.pk == conversation.pk


def test_chat_messages_continue_the_contacts_conversation_and_reopen_it():
    channel = ChannelFactory(kind="telegram")
    sender = SenderRef(kind="telegram", id="777", name="Ivan")
    first = receive_message(
        channel=channel, message=normalized("1", kind="telegram", sender=sender)
    ).conversation
    Conversation.objects.filter(pk=first.pk).update(status="resolved", resolved_at=timezone.now())
    again = receive_message(
        channel=channel, message=normalized("2", kind="telegram", sender=sender)
    ).conversation
    assert again.pk == first.pk
    assert again.status == "open" and again.reopened_count == 1
    assert again.activities.filter(verb="status", to_value="open").exists()


def test_after_the_reopen_window_a_new_linked_conversation_starts():
    channel = ChannelFactory(kind="telegram")
    sender = SenderRef(kind="telegram", id="778")
    first = receive_message(
        channel=channel, message=normalized("1", kind="telegram", sender=sender)
    ).conversation
    Conversation.objects.filter(pk=first.pk).update(
        status="resolved", resolved_at=timezone.now() - dt.timedelta(days=8)
    )
    later = receive_message(
        channel=channel, message=normalized("2", kind="telegram", sender=sender)
    ).conversation
    assert later.pk != first.pk
    assert later.previous_id == first.pk


def test_auto_replies_do_not_reopen():
    channel = ChannelFactory(kind="email")
    first = receive_message(channel=channel, message=normalized("<a@x>")).conversation
    Conversation.objects.filter(pk=first.pk).update(status="resolved", resolved_at=timezone.now())
    auto = receive_message(
        channel=channel,
        message=normalized("<ooo@x>", references=("<a@x>",), auto_kind="auto_reply"),
    )
    assert auto.conversation.pk == first.pk
    auto.conversation.refresh_from_db()
    assert auto.conversation.status == "resolved"
    assert auto.message.auto_kind == "auto_reply"


def test_a_verified_address_links_two_channels_to_one_contact():
    email = ChannelFactory(kind="email")
    chat = ChannelFactory(kind="chat")
    by_mail = receive_message(channel=email, message=normalized("<a@x>")).conversation
    chat_sender = SenderRef(
        kind="chat", id="visitor-1", name="Ann", email="ANN@example.com", verified=True
    )
    by_chat = receive_message(
        channel=chat, message=normalized("c1", kind="chat", sender=chat_sender)
    ).conversation
    assert by_chat.contact_id == by_mail.contact_id


def test_an_unverified_address_does_not_link_contacts():
    email = ChannelFactory(kind="email")
    chat = ChannelFactory(kind="chat")
    by_mail = receive_message(channel=email, message=normalized("<a@x>")).conversation
    claim = SenderRef(kind="chat", id="visitor-2", email="ann@example.com", verified=False)
    by_chat = receive_message(
        channel=chat, message=normalized("c2", kind="chat", sender=claim)
    ).conversation
    assert by_chat.contact_id != by_mail.contact_id


def test_a_customer_answer_moves_pending_back_to_open():
    channel = ChannelFactory(kind="email")
    first = receive_message(channel=channel, message=normalized("<a@x>")).conversation
    Conversation.objects.filter(pk=first.pk).update(status="pending")
    again = receive_message(
        channel=channel, message=normalized("<b@x>", references=("<a@x>",))
    ).conversation
    assert again.status == "open"


def test_future_provider_timestamps_are_capped_at_now():
    channel = ChannelFactory()
    future = timezone.now() + dt.timedelta(days=3)
    received = receive_message(channel=channel, message=normalized(sent_at=future))
    assert received.message.created_at <= timezone.now()
