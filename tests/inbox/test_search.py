"""Full-text search lists the same conversations, in the same order, page after page, whichever
plan PostgreSQL is steered to (`inbox.search.plan_for`), and the steering follows the words'
frequencies in the vector column's statistics."""

import datetime as dt
import math
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from inbox import search
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ContactFactory, ConversationFactory

LIST = "/api/v1/conversations/"
VIEWS = {
    "mine": lambda c, me: c.assignee_id == me.pk,
    "all": lambda c, me: True,
    "team=support": lambda c, me: c.team is not None and c.team.slug == "support",
    "unassigned=true": lambda c, me: c.assignee_id is None,
}


@pytest.fixture(autouse=True)
def _fresh_stats(monkeypatch):
    """Each test reads the statistics of its own rows, not those a previous test left cached."""
    monkeypatch.setitem(search._stats, "read_at", -math.inf)


def conversation(*, channel, subject, **fields):
    c = ConversationFactory(channel=channel, contact=ContactFactory(), subject=subject, **fields)
    search.index_text(conversation_id=c.pk, text="", subject=subject)
    return c


@pytest.fixture
def inbox(agent, team):
    """24 conversations over two teams and none, three assignees, last messages in pairs at the
    same instant (the id breaks the tie), most of them about the mobile app."""
    sales = TeamFactory(slug="sales")
    bob = AgentFactory(username="bob", teams=[sales])
    channel = ChannelFactory(default_team=team)
    now = timezone.now()
    subjects = ["Mobile app crashes", "Question about my invoice", "The mobile site", "Mobile app"]
    return [
        conversation(
            channel=channel,
            subject=subjects[i % 4],
            team=[team, sales, None][i % 3],
            assignee=[None, agent, bob][i // 3 % 3],
            last_message_at=now - dt.timedelta(minutes=i // 2),
        )
        for i in range(24)
    ]


def pages(client, url) -> tuple[list[int], int]:
    """Every id the list shows, following the `next` cursor, and how many pages it took."""
    shown, count = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        shown += [row["id"] for row in body["results"]]
        count += 1
        url = body["next"] and "?".join(filter(None, urlsplit(body["next"])[2:4]))
    return shown, count


@pytest.mark.parametrize("plan", [None, search.INDEX, search.WALK])
@pytest.mark.parametrize("q", ["mobile", "mobile app", "MOBILE app", "nowhere"])
def test_the_same_pages_whichever_plan(client_for, agent, inbox, monkeypatch, plan, q):
    monkeypatch.setattr(search, "plan_for", lambda _q: plan)
    visible = [c for c in inbox if (c.team and c.team.slug == "support") or c.assignee == agent]
    words = q.lower().split()
    client = client_for(agent)
    for view, shows in VIEWS.items():
        query = "assignee=me" if view == "mine" else "" if view == "all" else view
        expected = sorted(
            (
                c
                for c in visible
                if shows(c, agent) and all(word in c.subject.lower() for word in words)
            ),
            key=lambda c: (c.last_message_at, c.pk),
            reverse=True,
        )
        shown, count = pages(client, f"{LIST}?{query}&q={q}&page_size=4")
        assert shown == [c.pk for c in expected], view
        assert count == max(1, math.ceil(len(expected) / 4)), view


@pytest.mark.postgres
def test_the_plan_follows_the_words_frequency(team):
    channel = ChannelFactory(default_team=team)
    contact = ContactFactory()
    for i in range(200):
        ConversationFactory(
            channel=channel, contact=contact, subject=f"invoice {'zanzibar' if i < 2 else i}"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_conversation SET search_vector = to_tsvector('simple', subject)"
        )
        cursor.execute("ANALYZE inbox_conversation")
    # 200 rows: the index is read for at most 8 x sqrt(200) = 113 matches.
    assert search.plan_for("invoice") == search.WALK
    assert search.plan_for("Zanzibar") == search.INDEX
    assert search.plan_for("invoice zanzibar") == search.INDEX  # no more than the rarer word
    assert search.plan_for("unheard") == search.INDEX  # below what the statistics keep
    assert search.plan_for('"invoice zanzibar"') is None  # a phrase: the planner's own estimate
    assert search.plan_for("invoice or zanzibar") is None
    assert search.plan_for("invoice -zanzibar") is None
