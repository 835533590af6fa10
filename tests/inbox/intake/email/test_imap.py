"""IMAP polling against a real dovecot started for each test (tests/support/dovecot.py)."""

import pytest

from inbox.intake.doors.email import poll_imap_channel, poll_imap_channels
from inbox.models import Channel, InboundEvent, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.intake.email.mail import raw_mail
from tests.support.dovecot import Dovecot, dovecot_binary

pytestmark = pytest.mark.django_db


@pytest.fixture
def dovecot():
    assert dovecot_binary(), "dovecot-imapd is needed (installed by .ci/run)"
    with Dovecot() as server:
        yield server


@pytest.fixture
def channel(dovecot):
    return ChannelFactory(
        slug="help", address="help@support.example.com", config={"imap": dovecot.config()}
    )


def poll(channel, capture) -> int:
    with capture(execute=True):  # processing is queued on commit; tasks run eagerly here
        return poll_imap_channel(channel_id=channel.pk)


def seen_flags(dovecot) -> list[bool]:
    with dovecot.mailbox() as box:
        return ["\\Seen" in m.flags for m in box.fetch(mark_seen=False, headers_only=True)]


def test_poll_stores_new_mail_and_marks_it_seen_only_after(
    dovecot, channel, django_capture_on_commit_callbacks
):
    dovecot.deliver(raw_mail(message_id="a@example.com", subject="First"))
    dovecot.deliver(raw_mail(message_id="b@example.com", subject="Second"))

    assert poll(channel, django_capture_on_commit_callbacks) == 2

    assert sorted(Message.objects.values_list("external_id", flat=True)) == [
        "a@example.com",
        "b@example.com",
    ]
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert seen_flags(dovecot) == [True, True]


def test_raw_bytes_are_stored_exactly_as_the_server_has_them(
    dovecot, channel, django_capture_on_commit_callbacks
):
    body = raw_mail(message_id="exact@example.com")
    dovecot.deliver(body)

    poll(channel, django_capture_on_commit_callbacks)

    assert bytes(InboundEvent.objects.get().body) == body


def test_poll_resumes_after_a_restart_without_doubles(
    dovecot, channel, django_capture_on_commit_callbacks
):
    dovecot.deliver(raw_mail(message_id="a@example.com"))
    poll(channel, django_capture_on_commit_callbacks)
    # As if the worker died after the commit but before flagging: the mail is unseen again.
    with dovecot.mailbox() as box:
        box.flag(box.uids(), "\\Seen", False)
    dovecot.deliver(raw_mail(message_id="b@example.com"))

    channel = Channel.objects.get(pk=channel.pk)  # a fresh process reads the saved state
    assert poll(channel, django_capture_on_commit_callbacks) == 1
    assert poll(channel, django_capture_on_commit_callbacks) == 0

    assert InboundEvent.objects.count() == 2
    assert Message.objects.count() == 2
    assert channel.config["imap_state"]["last_uid"] == 1


def test_poll_can_move_stored_mail_to_a_folder(
    dovecot, channel, django_capture_on_commit_callbacks
):
    with dovecot.mailbox() as box:
        box.folder.create("Processed")
    channel.config = {"imap": dovecot.config(move_to="Processed")}
    channel.save()
    dovecot.deliver(raw_mail(message_id="a@example.com"))

    poll(channel, django_capture_on_commit_callbacks)

    with dovecot.mailbox() as box:
        assert box.uids() == []
        box.folder.set("Processed")
        assert len(box.uids()) == 1
    assert Message.objects.count() == 1


def test_a_mailbox_that_refuses_login_stores_nothing_and_reports(
    dovecot, channel, django_capture_on_commit_callbacks
):
    channel.config = {"imap": dovecot.config(password="wrong")}
    channel.save()
    dovecot.deliver(raw_mail())

    with django_capture_on_commit_callbacks(execute=True):
        results = poll_imap_channels()

    assert results["help"].startswith("error:")
    assert not InboundEvent.objects.exists()
    assert "S" not in dovecot.flags_on_disk()[0]
