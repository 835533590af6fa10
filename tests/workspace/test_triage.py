"""Triage in place: the conversation page's triage forms answer an htmx post with the panel itself
(no redirect, no page), keep redirecting without JavaScript, offer Undo after Resolve (the survey
waits for the window and never goes after an undo), snooze presets on the agent's own clock, and
unread markers per agent."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from inbox.models import Activity, Conversation, Event, Message
from reports.models import SatisfactionSurvey
from reports.tasks import send_due_surveys, send_survey_after_undo
from tagging.models import Tag
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.reports.scenario import customer_writes
from workspace.views.triage import snooze_until

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def browser_for(user, *, htmx=False) -> Client:
    client = Client(**({"HTTP_HX_REQUEST": "true"} if htmx else {}))
    client.force_login(user)
    return client


@pytest.fixture
def conversation(team):
    channel = ChannelFactory(slug="mail", default_team=team, config={"csat": {"enabled": True}})
    return ConversationFactory(team=team, channel=channel, subject="Printer on fire")


@pytest.fixture
def feature(db):
    return Tag.objects.get_or_create(slug="feature-request", defaults={"name": "Feature request"})[
        0
    ]


def post(client, conversation, action, data):
    return client.post(f"/inbox/conversations/{conversation.pk}/{action}/", data)


def test_a_triage_post_under_htmx_answers_with_the_panel_not_a_redirect(
    agent, conversation, feature
):
    client = browser_for(agent, htmx=True)
    response = post(client, conversation, "tags", {"tags": "feature request"})  # by name
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="triage"')
    assert 'class="chip tag-feature-request">Feature request<' in html
    assert "Tagged Feature request." in html and 'id="flash" aria-live="polite" hx-swap-oob' in html
    newest = Event.objects.filter(conversation_id=conversation.pk).latest("pk").pk
    assert json.loads(response["HX-Trigger"]) == {
        "conversation-changed": {
            "id": conversation.pk,
            "events_through": newest,  # the page skips the feed's copy of its own change
            "parts": ["tags-panel", "severity-form", "assign-panel", "status-panel"],
        }
    }

    response = client.post(
        f"/inbox/conversations/{conversation.pk}/severity/",
        {"severity": "high"},
        HTTP_HX_TARGET="severity-form",
    )
    changed = json.loads(response["HX-Trigger"])["conversation-changed"]
    assert changed["parts"] == ["severity-form"]
    assert changed["events_through"] == Event.objects.latest("pk").pk
    html = response.content.decode()
    assert 'id="conv-meta" hx-swap-oob="true"' in html and "severity high" in html
    conversation.refresh_from_db()
    assert conversation.severity_name == "high"
    assert list(conversation.tags.values_list("slug", flat=True)) == ["feature-request"]

    html = post(client, conversation, "tags/feature-request/remove", {}).content.decode()
    assert "Removed Feature request." in html and "No tags." in html
    assert not conversation.tags.exists()


def test_the_same_forms_still_post_and_redirect_without_javascript(agent, conversation, feature):
    client = browser_for(agent)
    response = post(client, conversation, "tags", {"tags": "feature-request"})
    assert (
        response.status_code == 302
        and response["Location"] == f"/inbox/conversations/{conversation.pk}/"
    )
    page = client.get(response["Location"]).content.decode()
    assert "Tagged Feature request." in page and 'id="triage"' in page


def test_an_unknown_tag_name_is_refused_in_words(agent, conversation):
    html = post(browser_for(agent, htmx=True), conversation, "tags", {"tags": "Nonsense"}).content
    assert "There is no tag called &#x27;Nonsense&#x27;. Pick one from the list." in html.decode()
    assert not conversation.tags.exists()


def test_the_agent_list_knows_each_agents_teams_and_assign_to_me_keeps_the_team(
    agent, team, other_team, conversation
):
    AgentFactory(username="sam", teams=[other_team])
    html = browser_for(agent).get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert '<option value="sam" data-teams="sales">' in html
    assert '<option value="alice" data-teams="support">' in html
    html = post(
        browser_for(agent, htmx=True),
        conversation,
        "assign",
        {"team": "support", "assignee": "alice"},
    ).content.decode()
    assert "Assigned to Support / alice." in html
    assert ">Assign to me</button>" not in html  # already mine
    conversation.refresh_from_db()
    assert conversation.assignee == agent and conversation.team == team


def test_resolve_offers_undo_and_an_undo_means_no_survey_ever(agent, conversation):
    client = browser_for(agent, htmx=True)
    resolved_at = dt.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    with time_machine.travel(resolved_at, tick=False):
        html = post(client, conversation, "status", {"status": "resolved"}).content.decode()
    assert ">Undo</button>" in html and 'data-undo-ms="5000"' in html
    assert 'name="status" value="open"' in html  # undo goes back to where it was
    assert 'id="resolve-form"' not in html
    with time_machine.travel(resolved_at + dt.timedelta(seconds=3), tick=False):
        html = post(
            client, conversation, "status", {"status": "open", "reason": "undo"}
        ).content.decode()
    assert "Undone: open again, and no survey goes out." in html and ">Undo</button>" not in html
    with time_machine.travel(resolved_at + dt.timedelta(minutes=5), tick=False):
        assert send_survey_after_undo(conversation.pk) is False
        assert send_due_surveys() == 0
    conversation.refresh_from_db()
    assert conversation.status == "open"
    assert not SatisfactionSurvey.objects.filter(conversation=conversation).exists()
    assert not Message.objects.filter(conversation=conversation, text__contains="/survey/").exists()
    verbs = list(Activity.objects.filter(conversation=conversation).values_list("verb", "reason"))
    assert verbs[-1][1] == "undo"


def test_without_undo_the_survey_goes_once_the_window_has_passed(agent, conversation):
    client = browser_for(agent, htmx=True)
    resolved_at = dt.datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    with time_machine.travel(resolved_at, tick=False):
        post(client, conversation, "status", {"status": "resolved"})
    assert not SatisfactionSurvey.objects.filter(conversation=conversation).exists()
    with time_machine.travel(resolved_at + dt.timedelta(seconds=3), tick=False):
        page = browser_for(agent).get(f"/inbox/conversations/{conversation.pk}/").content.decode()
        assert ">Undo</button>" in page  # a full page within the window offers it too
        assert send_survey_after_undo(conversation.pk) is False
    with time_machine.travel(resolved_at + dt.timedelta(seconds=11), tick=False):
        page = browser_for(agent).get(f"/inbox/conversations/{conversation.pk}/").content.decode()
        assert ">Undo</button>" not in page
        assert send_survey_after_undo(conversation.pk) is True
    assert SatisfactionSurvey.objects.filter(conversation=conversation).count() == 1


def test_snooze_presets_are_on_the_agents_own_clock():
    # Friday 2026-11-20 23:30 in Berlin is 22:30 UTC.
    now = dt.datetime(2026, 11, 20, 22, 30, tzinfo=UTC)
    berlin = ZoneInfo("Europe/Berlin")
    assert snooze_until(preset="1h", raw="", tz="Europe/Berlin", now=now) == now + dt.timedelta(
        hours=1
    )
    assert snooze_until(preset="tomorrow", raw="", tz="Europe/Berlin", now=now) == dt.datetime(
        2026, 11, 21, 9, 0, tzinfo=berlin
    )
    assert snooze_until(preset="monday", raw="", tz="Europe/Berlin", now=now) == dt.datetime(
        2026, 11, 23, 9, 0, tzinfo=berlin
    )
    # The same moment in New York is still Friday afternoon: tomorrow is Saturday there too.
    assert snooze_until(preset="tomorrow", raw="", tz="America/New_York", now=now).astimezone(
        UTC
    ) == dt.datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    # On a Monday, "next Monday" is a week later.
    monday = dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert snooze_until(preset="monday", raw="", tz="UTC", now=monday).day == 30
    custom = snooze_until(preset="", raw="2026-11-24T15:00", tz="Europe/Berlin", now=now)
    assert custom.astimezone(UTC) == dt.datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="Unknown time zone"):
        snooze_until(preset="1h", raw="", tz="Mars/Olympus", now=now)


def test_a_snooze_preset_posted_from_the_panel_snoozes_until_9_tomorrow(agent, conversation):
    now = dt.datetime(2026, 11, 20, 22, 30, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        html = post(
            browser_for(agent, htmx=True),
            conversation,
            "status",
            {"status": "snoozed", "preset": "tomorrow", "tz": "Europe/Berlin", "until": ""},
        ).content.decode()
    assert "Marked snoozed." in html
    conversation.refresh_from_db()
    assert conversation.status == "snoozed"
    assert conversation.snoozed_until == dt.datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def test_unread_marker_per_agent_set_by_a_customer_message_and_cleared_on_open(team):
    alice = AgentFactory(username="alice", teams=[team])
    bob = AgentFactory(username="bob", teams=[team])
    channel = ChannelFactory(slug="mail", default_team=team)
    conversation = customer_writes(channel, "m1", sender="ann@example.com", subject="Refund")
    alices, bobs = browser_for(alice), browser_for(bob)

    def marked(client):
        row = client.get(f"/inbox/rows/{conversation.pk}/").content.decode()
        return 'class="row unread"' in row and "data-unread" in row

    assert marked(alices) and marked(bobs)
    assert 'class="row unread"' in alices.get("/inbox/").content.decode()
    alices.get(f"/inbox/conversations/{conversation.pk}/")  # Alice opens it
    assert not marked(alices) and marked(bobs)
    assert "data-unread" not in alices.get("/inbox/").content.decode()
    # The agent's own reply does not make it unread; the customer's next message does.
    Conversation.objects.filter(pk=conversation.pk).update(
        last_outbound_at=dt.datetime.now(UTC) + dt.timedelta(seconds=1)
    )
    assert not marked(alices)
    customer_writes(
        channel,
        "m2",
        sender="ann@example.com",
        subject="Refund",
        references=["<m1@customer.example>"],
    )
    assert Conversation.objects.count() == 1
    assert marked(alices)
    alices.get(f"/inbox/conversations/{conversation.pk}/thread/")  # the live thread shows it
    assert not marked(alices) and marked(bobs)


def test_handing_it_out_of_ones_teams_under_htmx_goes_back_to_the_list(
    lead, other_team, conversation
):
    client = browser_for(lead, htmx=True)
    response = post(client, conversation, "assign", {"team": "sales", "assignee": ""})
    assert response.status_code == 204 and response["HX-Redirect"] == "/inbox/"
    conversation.refresh_from_db()
    assert conversation.team == other_team
    page = client.get("/inbox/").content.decode()  # where HX-Redirect leads
    assert "The conversation is no longer in your teams." in page


def test_the_panels_parts_drawn_afresh_for_the_live_feed(agent, conversation, feature):
    """GET .../triage/?part=...: the parts asked for, the activity list and the header line, with
    the newest event they show; a read-only role gets the tags only; another team's conversation
    is a 404."""
    from tests.accounts.factories import TeamFactory, ViewerFactory

    client = browser_for(agent, htmx=True)
    post(client, conversation, "severity", {"severity": "high"})
    url = f"/inbox/conversations/{conversation.pk}/triage/"
    response = client.get(url, {"part": ["severity-form", "tags-panel", "nonsense"]})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('id="tags-panel"') < html.index('id="severity-form"')  # the panel's order
    assert '<option value="high" selected>' in html
    assert 'id="activity-panel"' in html and 'id="conv-meta"' in html
    assert "hx-swap-oob" not in html  # put in place by the page's script, not by htmx
    assert 'id="assign-panel"' not in html and 'id="status-panel"' not in html
    assert response["X-Events-Through"] == str(Event.objects.latest("pk").pk)
    assert response["Cache-Control"] == "no-store"

    everything = client.get(url).content.decode()
    for part in ["tags-panel", "severity-form", "assign-panel", "status-panel"]:
        assert f'id="{part}"' in everything

    viewer = browser_for(ViewerFactory(teams=[conversation.team]))
    html = viewer.get(url, {"part": "severity-form"}).content.decode()
    assert 'id="tags-panel"' in html and 'id="severity-form"' not in html

    stranger = browser_for(AgentFactory(teams=[TeamFactory(slug="elsewhere")]))
    assert stranger.get(url).status_code == 404
    assert client.post(url).status_code == 405


def test_a_colleagues_change_committed_while_the_parts_are_drawn_is_not_claimed_shown(
    agent, lead, conversation, monkeypatch
):
    """X-Events-Through promises the parts show every change up to that event (the page then skips
    the live feed's copies of them). A colleague's change committed after the conversation was
    read but before the answer is finished must not be promised: else the page skips its event
    and the panel shows the old severity until the next change."""
    from inbox.models import Severity
    from tagging.services import set_severity
    from workspace.views import triage

    real_render = triage.render

    def render_while_a_colleague_writes(*args, **kwargs):
        set_severity(conversation_id=conversation.pk, severity=Severity.CRITICAL, actor=lead)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(triage, "render", render_while_a_colleague_writes)
    response = browser_for(agent, htmx=True).get(
        f"/inbox/conversations/{conversation.pk}/triage/", {"part": "severity-form"}
    )
    colleagues = Event.objects.filter(conversation_id=conversation.pk).latest("pk").pk
    drawn_urgent = '<option value="critical" selected>' in response.content.decode()
    assert drawn_urgent or int(response["X-Events-Through"]) < colleagues


def test_a_triage_answer_names_no_colleagues_change_it_does_not_show(
    agent, lead, conversation, monkeypatch
):
    """The same promise for a triage post's answer (HX-Trigger's events_through): the agent's own
    change, not a colleague's committed while the answer was being drawn."""
    from inbox.models import Severity
    from tagging.services import set_severity
    from workspace.views import triage

    real_render = triage.render

    def render_while_a_colleague_writes(*args, **kwargs):
        set_severity(conversation_id=conversation.pk, severity=Severity.CRITICAL, actor=lead)
        return real_render(*args, **kwargs)

    client = browser_for(agent, htmx=True)
    monkeypatch.setattr(triage, "render", render_while_a_colleague_writes)
    response = client.post(
        f"/inbox/conversations/{conversation.pk}/severity/",
        {"severity": "high"},
        HTTP_HX_TARGET="severity-form",
    )
    assert '<option value="high" selected>' in response.content.decode()
    events = Event.objects.filter(conversation_id=conversation.pk).order_by("pk")
    own, colleagues = [(e.pk, e.actor_id) for e in events][-2:]
    assert (own[1], colleagues[1]) == (agent.pk, lead.pk)
    changed = json.loads(response["HX-Trigger"])["conversation-changed"]
    assert changed["events_through"] == own[0]  # the agent's own change, not the colleague's


def test_the_parts_say_a_colleagues_changes_in_words_for_the_live_region(
    agent, lead, conversation, feature
):
    """`?event=` names the live feed's events that made the page fetch: the answer describes
    them (the actor's name, the new value alone for the note beside a control in use); an event
    of another conversation, or none asked, says nothing."""
    from inbox.models import Severity
    from routing.services import assign_conversation
    from tagging.services import apply_tags, set_severity

    lead.first_name, lead.last_name = "Budi", "Santoso"
    lead.save()
    set_severity(conversation_id=conversation.pk, severity=Severity.HIGH, actor=lead)
    assign_conversation(
        conversation_id=conversation.pk, team=conversation.team, assignee=agent, actor=lead
    )
    apply_tags(conversation_id=conversation.pk, tags=[feature], actor=None)
    other = ConversationFactory(team=conversation.team, channel=conversation.channel)
    set_severity(conversation_id=other.pk, severity=Severity.LOW, actor=lead)
    events = list(Event.objects.order_by("pk").values_list("pk", flat=True))

    client = browser_for(agent, htmx=True)
    url = f"/inbox/conversations/{conversation.pk}/triage/"
    html = client.get(url, {"part": "severity-form", "event": events}).content.decode()
    assert '<ul id="triage-news" hidden>' in html
    assert 'data-value="high">Budi Santoso set severity to high.</li>' in html
    assert "Budi Santoso assigned this to you." in html
    assert "Tag Feature request added." in html  # a rule's (no actor)
    assert "set severity to low" not in html  # another conversation's
    assert "triage-news" not in client.get(url, {"part": "severity-form"}).content.decode()
