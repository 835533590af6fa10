"""A sender's Date: is theirs to write. A customer's reply "dated" 2002 must not start the
next-response clock in 2002 (a breach, and its mail, within seconds): clocks run from the time
we received the message; the sender's date is kept for display (issue 21)."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from inbox.intake.doors.email import ingest_email
from inbox.models import Conversation, Message
from routing.models import SLAAlert, SLAPolicy, TeamPolicy
from tests.inbox.factories import ChannelFactory
from tests.inbox.intake.email.mail import raw_mail

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def mailbox(team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    SLAPolicy.objects.all().delete()
    TeamPolicy.objects.get_or_create(team=team)
    SLAPolicy.objects.create(
        name="Normal",
        severity=2,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=24 * 60,
        warning_percent=80,
    )
    return ChannelFactory(
        slug="mail", kind="email", default_team=team, address="help@support.example.com"
    )


def test_a_reply_dated_in_the_past_starts_the_clock_when_it_arrives(
    mailbox, agent, client_for, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False):
        first = ingest_email(channel=mailbox, raw=raw_mail(message_id="q1@example.com"))
    conversation = Conversation.objects.get(pk=first.conversation_id)
    with (
        time_machine.travel(T0 + dt.timedelta(minutes=20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        answered = client_for(agent).post(
            f"/api/v1/conversations/{conversation.pk}/messages/",
            {"text": "Unplug it, please."},
            format="json",
        )
    assert answered.status_code == 201, answered.content

    old_reply = raw_mail(
        message_id="q2@example.com",
        in_reply_to="q1@example.com",
        subject="Re: Printer on fire",
        text="Still burning.",
    ).replace(b"\r\nDate: ", b"\r\nDate: Tue, 1 Jan 2002 00:00:00 +0000\r\nX-Old-Date: ", 1)
    arrived = T0 + dt.timedelta(hours=1)
    with time_machine.travel(arrived, tick=False):
        assert ingest_email(channel=mailbox, raw=old_reply).conversation_id == conversation.pk
        call_command("sla_sweep")

    conversation.refresh_from_db()
    assert conversation.next_response_due == arrived + dt.timedelta(hours=2)
    assert not SLAAlert.objects.filter(conversation=conversation).exists()
    reply = Message.objects.get(external_id="q2@example.com")
    assert reply.headers["date"] == "Tue, 1 Jan 2002 00:00:00 +0000"  # shown as the sender wrote it
