"""The after-hours reply (routing.after_hours) through the real intake and the local SMTP server:
once per conversation however many messages arrive after hours, never in hours, never to an
auto-reply, saying when the team is back, from the system."""

import datetime as dt
import itertools

import pytest
import time_machine

from inbox.models import Activity, Channel, Message
from routing.after_hours import back_line, send_after_hours_reply
from routing.models import BusinessHours, TeamPolicy

pytestmark = pytest.mark.django_db

TEXT = "Thanks for writing to Acme."
ids = itertools.count()
# Saturday 2026-12-05 22:00 in Jakarta (15:00 UTC); the team works Mon-Fri 09:00-17:00 there.
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 15, 0, tzinfo=dt.UTC)
TUESDAY_MORNING = dt.datetime(2026, 12, 8, 3, 0, tzinfo=dt.UTC)  # 10:00 in Jakarta


@pytest.fixture
def office(team, email_channel):
    calendar = BusinessHours.objects.create(
        name="Jakarta",
        timezone="Asia/Jakarta",
        weekly={d: [["09:00", "17:00"]] for d in BusinessHours.DAYS[:5]},
    )
    TeamPolicy.objects.create(team=team, business_hours=calendar)
    Channel.objects.filter(pk=email_channel.pk).update(
        config={"after_hours": {"enabled": True, "text": TEXT}}
    )
    email_channel.refresh_from_db()
    return calendar


@pytest.fixture
def mail_in(inbound, smtp_server, django_capture_on_commit_callbacks):
    def receive(text="Hello, my order is late.", *, at, **options):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return inbound(f"<in-{next(ids)}@customer.example>", text, **options)

    return receive


def replies():
    return Message.objects.filter(direction="out", auto_kind="auto_reply")


def test_two_messages_after_hours_get_one_reply_saying_when_we_are_back(
    office, mail_in, smtp_server, client_for, agent
):
    first = mail_in("Hello?", at=SATURDAY_NIGHT)
    mail_in(
        "Anyone there?",
        at=SATURDAY_NIGHT + dt.timedelta(minutes=5),
        reply_token=first.conversation.reply_token,
    )
    assert Message.objects.filter(direction="in", conversation=first.conversation).count() == 2
    [reply] = replies()
    assert reply.sender_user is None and reply.delivery_status == "sent"
    assert reply.text == f"{TEXT}\n\nWe are back on Monday at 09:00."
    [sent] = smtp_server.messages
    assert sent.rcpt_tos == ["jane@customer.example"]
    assert sent.message["Auto-Submitted"] == "auto-replied"
    assert "We are back on Monday at 09:00." in sent.message.get_body(("plain",)).get_content()
    assert Activity.objects.filter(verb="after_hours_replied").count() == 1
    thread = client_for(agent).get(f"/api/v1/conversations/{first.conversation.pk}/messages/")
    rows = thread.json()["results"] if isinstance(thread.json(), dict) else thread.json()
    assert [m["sender"]["type"] for m in rows if m["direction"] == "out"] == ["system"]


def test_nothing_is_sent_in_business_hours(office, mail_in, smtp_server):
    mail_in("Hello", at=TUESDAY_MORNING)
    assert not replies().exists() and smtp_server.messages == []


def test_nothing_is_sent_to_an_auto_reply(office, mail_in, smtp_server):
    mail_in(
        "I am out of office.",
        at=SATURDAY_NIGHT,
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert not replies().exists() and smtp_server.messages == []


def test_a_team_without_hours_is_always_open(team, email_channel, mail_in, smtp_server):
    Channel.objects.filter(pk=email_channel.pk).update(
        config={"after_hours": {"enabled": True, "text": TEXT}}
    )
    mail_in("Hello", at=SATURDAY_NIGHT)
    assert not replies().exists()


def test_the_back_line_names_today_tomorrow_or_the_day():
    friday_night = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)  # Fri 19:00 Jakarta
    monday = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)  # Mon 09:00 Jakarta
    early = dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC)  # Mon 07:00 Jakarta
    line = back_line(opening=monday, now=friday_night, zone="Asia/Jakarta", language="en")
    assert line == "We are back on Monday at 09:00."
    assert back_line(opening=monday, now=early, zone="Asia/Jakarta", language="en") == (
        "We are back today at 09:00."
    )
    sunday = dt.datetime(2026, 12, 6, 5, 0, tzinfo=dt.UTC)
    assert back_line(opening=monday, now=sunday, zone="Asia/Jakarta", language="en") == (
        "We are back tomorrow at 09:00."
    )


def test_a_switched_off_channel_sends_nothing(office, email_channel, inbound):
    Channel.objects.filter(pk=email_channel.pk).update(
        config={"after_hours": {"enabled": False, "text": TEXT}}
    )
    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        received = inbound("<off@customer.example>", "Hello")
        assert (
            send_after_hours_reply(
                conversation_id=received.conversation.pk,
                inbound_message_id=received.message.pk,
            )
            is None
        )
    assert not replies().exists()


def test_the_back_line_is_in_the_contacts_language(office, inbound):
    from django.conf import settings

    from routing.after_hours import language_for

    with time_machine.travel(SATURDAY_NIGHT, tick=False):
        received = inbound("<lang@customer.example>", "Halo")
    conversation = received.conversation
    conversation.contact.attributes = {"language": "id-ID"}
    assert language_for(conversation) == "id"
    conversation.contact.attributes = {}
    conversation.channel.config = {**conversation.channel.config, "language": "id"}
    assert language_for(conversation) == "id"
    conversation.channel.config = {}
    assert language_for(conversation) == settings.LANGUAGE_CODE
    friday_night = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    monday = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
    line = back_line(opening=monday, now=friday_night, zone="Asia/Jakarta", language="id")
    assert (
        "Senin" in line and "09.00" in line
    )  # Django's day names; the clock as Indonesian writes it
