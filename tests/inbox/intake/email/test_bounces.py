"""Bounces (DSNs) of our replies (issue 21): the bounce marks the reply failed and is kept in
that reply's conversation, never opening a new one; the same bounce delivered again is reported
as a duplicate."""

import pytest
from django.core.management import call_command

from inbox.intake.doors.email import ingest_email
from inbox.models import Conversation, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.intake.email.mail import raw_mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return ChannelFactory(
        slug="help", kind="email", default_team=team, address="help@support.example.com"
    )


def dsn_for(message_id: str) -> bytes:
    """A Postfix-style delivery status notification returning our mail `message_id`."""
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        b"To: help@support.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn-7@mx.example.net>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n"
        b"\r\nFinal-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: help@support.example.com\r\n"
        b"To: ann@example.com\r\nMessage-ID: <" + message_id.encode() + b">\r\n"
        b"Subject: Re: Printer on fire\r\n--B--\r\n"
    )


@pytest.fixture
def answered(mailbox, agent, client_for, django_capture_on_commit_callbacks):
    """A customer's conversation we answered: (conversation id, our reply)."""
    conversation_id = ingest_email(channel=mailbox, raw=raw_mail()).conversation_id
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agent).post(
            f"/api/v1/conversations/{conversation_id}/messages/",
            {"text": "Unplug it, please."},
            format="json",
        )
    assert response.status_code == 201
    reply = Message.objects.get(pk=response.json()["id"])
    assert reply.external_id, "our reply has its Message-ID once sent"
    return conversation_id, reply


def test_a_bounce_of_our_reply_stays_in_its_conversation_and_opens_none(mailbox, answered):
    conversation_id, reply = answered
    before = Conversation.objects.get(pk=conversation_id).status

    result = ingest_email(channel=mailbox, raw=dsn_for(reply.external_id))

    assert (result.outcome, result.conversation_id) == ("ok", conversation_id)
    assert Conversation.objects.count() == 1
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "user unknown" in reply.delivery_error
    bounce = Message.objects.get(external_id="dsn-7@mx.example.net")
    assert (bounce.conversation_id, bounce.auto_kind) == (conversation_id, "bounce")
    assert Conversation.objects.get(pk=conversation_id).status == before  # nothing reopened


def test_a_replayed_bounce_is_reported_as_a_duplicate(mailbox, answered, tmp_path, capsys):
    conversation_id, reply = answered
    dsn = tmp_path / "dsn.eml"
    dsn.write_bytes(dsn_for(reply.external_id))
    call_command("ingest_email", "--channel", "help", str(dsn), str(dsn))
    assert capsys.readouterr().out.split("\n")[:2] == [
        f"ok {conversation_id}",
        f"duplicate {conversation_id}",
    ]
    assert Message.objects.filter(auto_kind="bounce").count() == 1
