"""Automatic acknowledgements of new email conversations, and the mail loops they must not start."""

import datetime as dt
import itertools
import threading

import pytest
from django.db import connection

from inbox.models import Activity, Channel, Message
from tests.inbox.factories import ChannelFactory, ContactFactory, ContactIdentityFactory

pytestmark = pytest.mark.django_db

ACK_TEXT = "Thanks for writing to Acme. We answer within a day."
ids = itertools.count()


@pytest.fixture
def acking_channel(email_channel):
    Channel.objects.filter(pk=email_channel.pk).update(
        config={"auto_ack": {"enabled": True, "text": ACK_TEXT}}
    )
    email_channel.refresh_from_db()
    return email_channel


@pytest.fixture
def mail_in(inbound, smtp_server, django_capture_on_commit_callbacks):
    """A customer's mail arrives; whatever is queued on commit is delivered to the SMTP server."""

    def receive(text="Hello, my order is late.", **options):
        with django_capture_on_commit_callbacks(execute=True):
            return inbound(f"<in-{next(ids)}@customer.example>", text, **options)

    return receive


def acks():
    return Message.objects.filter(direction="out", auto_kind="auto_reply")


def test_a_new_conversation_gets_one_acknowledgement_that_is_not_a_first_response(
    acking_channel, mail_in, smtp_server
):
    received = mail_in("My order #12 is late <b>again</b>")

    [ack] = acks()
    assert ack.conversation == received.conversation and ack.sender_user is None
    assert ack.delivery_status == "sent" and ack.text == ACK_TEXT
    [sent] = smtp_server.messages
    mail = sent.message
    assert sent.rcpt_tos == ["jane@customer.example"]
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["In-Reply-To"] == received.message.external_id
    assert mail["From"] == "Acme Support <help@support.example.com>"
    assert ACK_TEXT in mail.get_body(preferencelist=("plain",)).get_content()
    # The customer's words are not echoed back: an acknowledgement must not relay spam.
    assert "order #12" not in mail.as_string()
    conversation = received.conversation
    conversation.refresh_from_db()
    assert conversation.first_response_at is None and conversation.last_outbound_at is None
    assert Activity.objects.filter(conversation=conversation, verb="auto_acknowledged").exists()


def test_a_contact_gets_at_most_one_acknowledgement_per_window(acking_channel, mail_in):
    mail_in("First problem")
    mail_in("Second problem", subject="Another thing")
    assert acks().count() == 1 and Message.objects.filter(direction="in").count() == 2

    acks().update(created_at=acks().get().created_at - dt.timedelta(hours=25))
    mail_in("Third problem, a day later", subject="Yet another thing")
    assert acks().count() == 2


def test_replies_in_an_existing_conversation_are_not_acknowledged(acking_channel, mail_in):
    first = mail_in("Hello")
    acks().update(created_at=acks().get().created_at - dt.timedelta(days=2))
    mail_in("Me again", reply_token=first.conversation.reply_token)
    assert acks().count() == 1


@pytest.mark.parametrize("auto_kind", ["auto_reply", "bounce", "list"])
def test_automatic_mail_is_never_acknowledged(acking_channel, mail_in, smtp_server, auto_kind):
    mail_in("I am out of office", auto_kind=auto_kind)
    assert not acks().exists() and smtp_server.messages == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"List-Id": "<news.vendor.example>"},
        {"Return-Path": "<>"},
        {"X-Auto-Response-Suppress": "OOF, AutoReply"},
    ],
)
def test_mail_whose_headers_say_automatic_is_never_acknowledged(
    acking_channel, mail_in, smtp_server, headers
):
    mail_in("Automatic", headers={"From": "Jane <jane@customer.example>", **headers})
    assert not acks().exists() and smtp_server.messages == []


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx.customer.example", "no-reply@shop.example", "bounces@x.example"]
)
def test_auto_responder_addresses_are_never_acknowledged(acking_channel, mail_in, sender):
    mail_in("Delivery report", sender=sender, name="")
    assert not acks().exists()


def test_our_own_addresses_are_never_acknowledged(acking_channel, mail_in, team):
    ChannelFactory(kind="email", slug="sales", address="sales@support.example.com")
    mail_in("Loop?", sender="sales@support.example.com", name="Sales")
    mail_in("Loop?", sender="HELP+abc@support.example.com", name="Help")
    assert not acks().exists()


def test_two_auto_responders_stay_bounded_to_one_message(acking_channel, mail_in, smtp_server):
    # A naive auto-responder that marks nothing: it answers every mail with a new one.
    for _ in range(5):
        mail_in("I am away until Monday.", sender="bot@vendor.example", subject="Away")
    assert acks().count() == 1 and len(smtp_server.messages) == 1
    assert Message.objects.filter(direction="in").count() == 5


def test_a_channel_without_auto_ack_sends_nothing(email_channel, mail_in, smtp_server):
    mail_in("Hello")
    assert not acks().exists() and smtp_server.messages == []


def test_a_failing_acknowledgement_never_costs_the_customers_mail(
    acking_channel, mail_in, smtp_server
):
    Channel.objects.filter(pk=acking_channel.pk).update(
        config={"auto_ack": {"enabled": True, "text": ACK_TEXT, "window_hours": "soon"}}
    )
    received = mail_in("Please help")
    assert received.created and Message.objects.filter(direction="in").count() == 1
    assert not acks().exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_new_mails_from_one_contact_get_one_acknowledgement(
    acking_channel, inbound, smtp_server
):
    ContactIdentityFactory(
        contact=ContactFactory(email="jane@customer.example"), external_id="jane@customer.example"
    )
    start = threading.Barrier(4)
    errors = []

    def deliver_one(n):
        try:
            start.wait(timeout=5)
            inbound(f"<race-{n}@customer.example>", f"Problem {n}", subject=f"Problem {n}")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_one, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert errors == []
    assert Message.objects.filter(direction="in").count() == 4
    assert acks().count() == 1 and len(smtp_server.messages) == 1
