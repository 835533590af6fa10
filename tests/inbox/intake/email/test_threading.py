"""Email threading is safe: only the conversation's own contact (or our unguessable reply
address) continues a conversation; everything else opens a new one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.intake.doors.email import ingest_email
from inbox.models import Conversation, Message, Status
from tests.inbox.factories import ChannelFactory
from tests.inbox.intake.email.mail import raw_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return ChannelFactory(slug="help", address="help@support.example.com")


def first_conversation(channel) -> Conversation:
    result = ingest_email(channel=channel, raw=raw_mail(message_id="first@example.com"))
    assert result.outcome == "ok"
    return Conversation.objects.get(pk=result.conversation_id)


def test_genuine_reply_joins_the_conversation(channel):
    conversation = first_conversation(channel)

    reply = ingest_email(
        channel=channel,
        raw=raw_mail(
            subject="Re: Printer on fire",
            message_id="second@example.com",
            in_reply_to="first@example.com",
            references="<first@example.com>",
        ),
    )

    assert reply.line() == f"ok {conversation.pk}"
    conversation.refresh_from_db()
    assert conversation.message_count == 2


def test_spoofed_in_reply_to_from_a_stranger_opens_a_new_conversation(channel):
    conversation = first_conversation(channel)

    forged = ingest_email(
        channel=channel,
        raw=raw_mail(
            sender="Mallory <mallory@evil.example>",
            subject="Re: Printer on fire",
            message_id="forged@evil.example",
            in_reply_to="first@example.com",
            references="<first@example.com>",
        ),
    )

    assert forged.outcome == "ok"
    assert forged.conversation_id != conversation.pk
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_reply_to_our_plus_address_joins_the_conversation(channel):
    conversation = first_conversation(channel)

    reply = ingest_email(
        channel=channel,
        raw=raw_mail(
            to=f"Support <help+{conversation.reply_token}@support.example.com>",
            subject="new subject, no headers",
            message_id="third@example.com",
        ),
    )

    assert reply.line() == f"ok {conversation.pk}"


def test_forged_reply_token_from_a_stranger_opens_a_new_conversation(channel):
    conversation = first_conversation(channel)

    forged = ingest_email(
        channel=channel,
        raw=raw_mail(
            sender="mallory@evil.example",
            to=f"help+{conversation.reply_token}@support.example.com",
            message_id="forged@evil.example",
        ),
    )

    assert forged.conversation_id != conversation.pk


def test_a_token_on_another_mailbox_is_not_ours(channel):
    conversation = first_conversation(channel)

    other = ingest_email(
        channel=channel,
        raw=raw_mail(
            to=f"sales+{conversation.reply_token}@support.example.com",
            message_id="x@example.com",
        ),
    )

    assert other.conversation_id != conversation.pk


def test_same_subject_alone_never_threads(channel):
    conversation = first_conversation(channel)

    again = ingest_email(channel=channel, raw=raw_mail(message_id="new@example.com"))

    assert again.conversation_id != conversation.pk


def test_reply_within_the_window_reopens_the_resolved_conversation(channel):
    conversation = first_conversation(channel)
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Status.RESOLVED, resolved_at=timezone.now() - timedelta(days=6)
    )

    reply = ingest_email(
        channel=channel,
        raw=raw_mail(message_id="late@example.com", in_reply_to="first@example.com"),
    )

    assert reply.conversation_id == conversation.pk
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    assert conversation.reopened_count == 1


def test_reply_after_the_window_opens_a_new_conversation_linked_to_the_old(channel, settings):
    settings.REOPEN_WINDOW_DAYS = 7
    conversation = first_conversation(channel)
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Status.RESOLVED, resolved_at=timezone.now() - timedelta(days=8)
    )

    reply = ingest_email(
        channel=channel,
        raw=raw_mail(message_id="later@example.com", in_reply_to="first@example.com"),
    )

    assert reply.conversation_id != conversation.pk
    followup = Conversation.objects.get(pk=reply.conversation_id)
    assert followup.previous_id == conversation.pk
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED


def test_auto_reply_does_not_reopen_a_resolved_conversation(channel):
    conversation = first_conversation(channel)
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Status.RESOLVED, resolved_at=timezone.now()
    )

    ingest_email(
        channel=channel,
        raw=raw_mail(
            message_id="ooo@example.com",
            in_reply_to="first@example.com",
            subject="Out of office",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )

    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED
    assert Message.objects.get(external_id="ooo@example.com").auto_kind == "auto_reply"


def test_duplicate_delivery_makes_one_message(channel):
    raw = raw_mail(message_id="once@example.com")

    first = ingest_email(channel=channel, raw=raw)
    second = ingest_email(channel=channel, raw=raw)

    assert second.line() == f"duplicate {first.conversation_id}"
    assert Message.objects.count() == 1


def test_duplicate_without_message_id_is_recognised_by_its_bytes(channel):
    raw = raw_mail(message_id=None)

    first = ingest_email(channel=channel, raw=raw)
    second = ingest_email(channel=channel, raw=raw)

    assert second.line() == f"duplicate {first.conversation_id}"
    assert Message.objects.get().external_id.startswith("sha256:")


def cc_conversation(channel) -> Conversation:
    result = ingest_email(
        channel=channel,
        raw=raw_mail(
            message_id="cc-first@example.com",
            headers={"Cc": "Bob Colleague <bob@example.com>"},
        ),
    )
    return Conversation.objects.get(pk=result.conversation_id)


def test_someone_cced_on_the_conversation_may_reply_in_it(channel):
    conversation = cc_conversation(channel)

    reply = ingest_email(
        channel=channel,
        raw=raw_mail(
            sender="Bob Colleague <bob@example.com>",
            message_id="bob-1@example.com",
            in_reply_to="cc-first@example.com",
        ),
    )

    assert reply.conversation_id == conversation.pk
    message = Message.objects.select_related("sender_contact").get(external_id="bob-1@example.com")
    assert message.sender_contact.email == "bob@example.com"
    conversation.refresh_from_db()
    assert conversation.contact.email == "ann@example.com"  # still Ann's conversation


def test_someone_cced_may_reply_to_the_plus_address(channel):
    conversation = cc_conversation(channel)

    reply = ingest_email(
        channel=channel,
        raw=raw_mail(
            sender="bob@example.com",
            to=f"help+{conversation.reply_token}@support.example.com",
            message_id="bob-2@example.com",
        ),
    )

    assert reply.conversation_id == conversation.pk


def test_a_stranger_not_cced_cannot_join_a_cced_conversation(channel):
    conversation = cc_conversation(channel)

    forged = ingest_email(
        channel=channel,
        raw=raw_mail(
            sender="mallory@evil.example",
            message_id="forged-2@evil.example",
            in_reply_to="cc-first@example.com",
            headers={"Cc": "bob@example.com"},  # naming a participant proves nothing
        ),
    )

    assert forged.conversation_id != conversation.pk
