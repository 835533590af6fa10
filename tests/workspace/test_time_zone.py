"""The agent's time zone (issue 22): a profile setting, taken from the browser once and never over
the agent's own pick; every time on the agent's pages is written in it, in one format; the REST
API keeps answering in UTC. Through the Django test client."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import set_time_zone
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory
from workspace.templatetags.ui import ago_text, stamp_text

pytestmark = pytest.mark.django_db
MOMENT = dt.datetime(2026, 12, 7, 13, 1, tzinfo=dt.UTC)


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_browser_zone_is_stored_once_and_never_over_the_agents_pick(agent):
    client = browser_for(agent)
    answer = client.post("/inbox/profile/", {"time_zone": "Asia/Jakarta", "auto": "1"})
    assert answer.status_code == 200
    assert answer.json() == {"time_zone": "Asia/Jakarta", "changed": True}
    agent.refresh_from_db()
    assert agent.time_zone == "Asia/Jakarta"

    # The agent picks another on the profile page; the browser's report no longer changes it.
    picked = client.post("/inbox/profile/", {"time_zone": "America/New_York"})
    assert picked.status_code == 302
    again = client.post("/inbox/profile/", {"time_zone": "Asia/Jakarta", "auto": "1"})
    assert again.json() == {"time_zone": "America/New_York", "changed": False}
    page = client.get("/inbox/profile/").content.decode()
    assert '<option value="America/New_York" selected>' in page
    assert "Times are now shown in America/New_York." in page


def test_an_unknown_zone_is_refused_in_words_next_to_the_field(agent):
    client = browser_for(agent)
    page = client.post("/inbox/profile/", {"time_zone": "Mars/Olympus"})
    assert page.status_code == 400
    assert "&#x27;Mars/Olympus&#x27; is not a time zone we know." in page.content.decode()
    auto = client.post("/inbox/profile/", {"time_zone": "", "auto": "1"})
    assert auto.status_code == 400
    assert auto.json() == {"detail": "'An empty name' is not a time zone we know."}
    agent.refresh_from_db()
    assert agent.time_zone == ""
    with pytest.raises(ValueError):
        set_time_zone(user=agent, time_zone="Europe/Nowhere")


def test_the_pages_write_times_in_the_agents_zone_and_the_api_in_utc(agent, team):
    conversation = ConversationFactory(team=team, channel=ChannelFactory(default_team=team))
    MessageFactory(conversation=conversation, text="Hello", created_at=MOMENT)
    set_time_zone(user=agent, time_zone="Asia/Jakarta")  # UTC+7
    client = browser_for(agent)

    page = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    # The thread's meta line: how long ago, the moment in the agent's zone as its title.
    assert (
        '<time datetime="2026-12-07T20:01:00+07:00" data-relative="clock" title="Mon 7 Dec, 20:01">'
        in page
    )
    assert 'data-tz="Asia/Jakarta"' in page

    api = client.get(f"/api/v1/conversations/{conversation.pk}/messages/").json()
    rows = api["results"] if isinstance(api, dict) else api
    assert rows[0]["created_at"].endswith(("Z", "+00:00"))


def test_one_format_and_relative_words(settings):
    now = MOMENT + dt.timedelta(minutes=3)
    with timezone.override(dt.UTC):
        assert stamp_text(MOMENT, now) == "Mon 7 Dec, 13:01"
        assert stamp_text(MOMENT - dt.timedelta(days=365), now) == "7 Dec 2025, 13:01"
    with timezone.override(timezone.get_fixed_timezone(-300)):
        assert stamp_text(MOMENT, now) == "Mon 7 Dec, 08:01"
    assert ago_text(MOMENT, MOMENT + dt.timedelta(seconds=30)) == "just now"
    assert ago_text(MOMENT, now) == "3 min ago"
    assert ago_text(MOMENT, MOMENT + dt.timedelta(hours=5, minutes=59)) == "5 h ago"
    assert ago_text(MOMENT, MOMENT + dt.timedelta(days=1, hours=2)) == "1 day ago"
    assert ago_text(MOMENT, MOMENT + dt.timedelta(days=3)) == "3 days ago"
    with timezone.override(dt.UTC):
        assert ago_text(MOMENT, MOMENT + dt.timedelta(days=8)) == "Mon 7 Dec, 13:01"


def test_someone_else_cannot_be_changed_and_a_visitor_is_sent_to_log_in():
    visitor = Client().post("/inbox/profile/", {"time_zone": "Asia/Jakarta", "auto": "1"})
    assert visitor.status_code == 302
    other = AgentFactory(time_zone="Europe/Paris")
    browser_for(AgentFactory()).post("/inbox/profile/", {"time_zone": "Asia/Jakarta"})
    other.refresh_from_db()
    assert other.time_zone == "Europe/Paris"
