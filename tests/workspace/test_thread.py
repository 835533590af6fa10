"""The thread's groups, day separators and avatars (workspace/thread.py), without a browser."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from inbox.models import Message
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from workspace.thread import (
    AVATAR_TONES,
    DaySeparator,
    avatar_tone,
    day_label,
    person_initials,
    thread_entries,
)


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Ann Lee", "AL"),
        ("Maria José García López", "ML"),
        ("madonna", "M"),
        ("ann.lee@example.com", "AL"),
        ("@ann_lee", "AL"),
        ("+62 812 3456 7890", ""),
        ("12345", ""),
        ("Contact 12", "C"),
        ("Ölaf Ünal", "ÖÜ"),
        ("山田太郎", "山"),
        ("", ""),
    ],
)
def test_initials_come_from_the_display_name(name, initials):
    assert person_initials(name) == initials


def test_a_person_keeps_one_tone():
    assert avatar_tone("Ann Lee") == avatar_tone(" ann lee ")
    assert 0 <= avatar_tone("Ann Lee") < AVATAR_TONES
    assert len({avatar_tone(f"Person {i}") for i in range(60)}) == AVATAR_TONES


def test_day_labels():
    today = dt.date(2026, 12, 8)
    assert day_label(today, today) == "Today"
    assert day_label(dt.date(2026, 12, 7), today) == "Yesterday"
    assert day_label(dt.date(2026, 12, 1), today) == "Tue 1 Dec"
    assert day_label(dt.date(2025, 12, 1), today) == "Mon 1 Dec 2025"


@pytest.mark.django_db
def test_groups_break_on_author_kind_gap_and_day():
    agent = AgentFactory(first_name="Alice", last_name="Ames")
    conversation = ConversationFactory(contact=ContactFactory(name="Maria Gonzalez"))
    zone = ZoneInfo("Asia/Jakarta")
    now = dt.datetime(2026, 12, 8, 12, 0, tzinfo=zone)
    at = [
        dt.datetime(2026, 12, 7, 16, 0, tzinfo=zone),  # yesterday
        dt.datetime(2026, 12, 7, 16, 2, tzinfo=zone),  # joins
        dt.datetime(2026, 12, 7, 16, 40, tzinfo=zone),  # agent
        dt.datetime(2026, 12, 7, 16, 41, tzinfo=zone),  # agent, joins
        dt.datetime(2026, 12, 7, 16, 42, tzinfo=zone),  # agent's note: a group of its own
        dt.datetime(2026, 12, 8, 11, 0, tzinfo=zone),  # today: customer
        dt.datetime(2026, 12, 8, 11, 4, tzinfo=zone),  # joins (4 min)
        dt.datetime(2026, 12, 8, 11, 10, tzinfo=zone),  # 6 min later: a new group
    ]

    def customer(i):
        return MessageFactory(conversation=conversation, created_at=at[i])

    def agent_says(i, **kw):
        return MessageFactory(
            conversation=conversation,
            direction=Message.Direction.OUT,
            sender_user=agent,
            sender_contact=None,
            created_at=at[i],
            **kw,
        )

    messages = [
        customer(0),
        customer(1),
        agent_says(2),
        agent_says(3),
        agent_says(4, kind=Message.Kind.NOTE),
        customer(5),
        customer(6),
        customer(7),
    ]
    with timezone.override(zone):
        entries = thread_entries(messages, contact=conversation.contact, now=now)
    shape = [
        e.label if isinstance(e, DaySeparator) else (e.initials if e.first else "+", e.last)
        for e in entries
    ]
    assert shape == [
        "Yesterday",
        ("MG", False),
        ("+", True),
        ("AA", False),
        ("+", True),
        ("AA", True),
        "Today",
        ("MG", False),
        ("+", True),
        ("MG", True),
    ]


@pytest.fixture
def team(db):
    return TeamFactory(slug="support", name="Support")


@pytest.mark.django_db
def test_the_thread_partial_draws_days_groups_and_a_glyph_for_a_number(team):
    """What the live feed re-fetches (/thread/) is grouped as the page is: a customer known by
    a phone number gets the person glyph, the initials are hidden from screen readers, and a
    following message keeps its author and time for them."""
    offset = 12 - timezone.now().astimezone(dt.UTC).hour  # a zone where it is about noon
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    agent = AgentFactory(teams=[team], time_zone=zone)
    conversation = ConversationFactory(
        team=team,
        channel=ChannelFactory(default_team=team),
        contact=ContactFactory(name="", email="", phone="+6281234567890"),
    )
    now = timezone.now()
    MessageFactory(conversation=conversation, text="halo", created_at=now - dt.timedelta(days=3))
    MessageFactory(
        conversation=conversation, text="first", created_at=now - dt.timedelta(minutes=2)
    )
    MessageFactory(
        conversation=conversation, text="second", created_at=now - dt.timedelta(minutes=1)
    )
    client = Client()
    client.force_login(agent)
    html = client.get(f"/inbox/conversations/{conversation.pk}/thread/").content.decode()
    assert html.count('class="day"') == 2
    assert '<h2 class="day-label"><time datetime=' in html and "data-day>Today</time>" in html
    assert html.count("msg-avatar") == 2  # the old message, and the group of two
    assert html.count('aria-hidden="true"><svg class="icon icon-person"') == 2
    assert html.count("message in message cont last") == 1
    follower = html[html.index("message in message cont last") :]
    assert '<span class="visually-hidden">+6281234567890 · </span><time' in follower
    assert "data-clock" in follower


@pytest.mark.django_db
def test_the_days_in_indonesian(team):
    agent = AgentFactory(teams=[team], language="id", time_zone="UTC")
    conversation = ConversationFactory(team=team, channel=ChannelFactory(default_team=team))
    now = timezone.now()
    for days in (400, 1, 0):
        MessageFactory(conversation=conversation, created_at=now - dt.timedelta(days=days))
    client = Client()
    client.force_login(agent)
    html = client.get(f"/inbox/conversations/{conversation.pk}/thread/").content.decode()
    labels = re.findall(r"data-day>([^<]+)</time>", html)
    old = timezone.localdate(now - dt.timedelta(days=400))
    assert labels[1:] == ["Kemarin", "Hari ini"]
    assert labels[0].endswith(f" {old.year}") and labels[0].split()[0] in {
        "Sen",
        "Sel",
        "Rab",
        "Kam",
        "Jum",
        "Sab",
        "Min",
    }
