"""The inbox banner while an incident spike is open, and its grouped list where a lead tags,
sets severity and assigns the spike's conversations at once."""

import pytest
from django.test import Client

from inbox.models import Conversation
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.tagging.test_spike_api import spike

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def members(team):
    channel = ChannelFactory(default_team=team)
    return [ConversationFactory(channel=channel, team=team) for _ in range(3)]


def test_leads_see_the_banner_linking_to_the_spikes_conversations(lead, members):
    alert = spike(conversations=members)
    body = as_user(lead).get("/inbox/").content.decode()
    assert 'class="spike-banner"' in body
    assert "9 conversations tagged incident in 60 minutes (usually 0.5)." in body
    assert f'href="/inbox/?alert={alert.pk}&amp;status=any"' in body


def test_no_banner_for_agents_nor_once_the_spike_closed(agent, lead, members):
    alert = spike(conversations=members)
    assert 'class="spike-banner"' not in as_user(agent).get("/inbox/").content.decode()
    alert.closed_at = alert.opened_at
    alert.save()
    assert 'class="spike-banner"' not in as_user(lead).get("/inbox/").content.decode()


def test_the_grouped_list_holds_the_spike_and_takes_bulk_actions(lead, team, members):
    other = ConversationFactory(channel=members[0].channel, team=team)
    alert = spike(conversations=members)
    client = as_user(lead)
    page = client.get("/inbox/", {"alert": alert.pk, "status": "any"})
    assert page.status_code == 200
    assert {c.pk for c in page.context["conversations"]} == {c.pk for c in members}
    body = page.content.decode()
    assert 'id="bulk"' in body and f'name="alert" value="{alert.pk}"' in body
    ids = [c.pk for c in members]
    for data in (
        {"action": "severity", "severity": "critical"},
        {"action": "tag", "tags": "technical-issue"},
        {"action": "assign", "team": team.slug, "assignee": lead.username},
    ):
        response = client.post("/inbox/bulk/", {"ids": ids, **data}, follow=True)
        assert "3 of 3 conversations changed." in response.content.decode(), data
    changed = Conversation.objects.filter(pk__in=ids)
    assert {(c.severity, c.assignee_id) for c in changed} == {(4, lead.pk)}
    assert all(c.tags.filter(slug="technical-issue").exists() for c in changed)
    other.refresh_from_db()
    assert other.severity == 2 and other.assignee_id is None


def test_a_spike_notification_in_the_bell_links_to_the_grouped_list(lead, members):
    from django.utils import timezone

    from routing.models import Notification

    alert = spike(conversations=members)
    Notification.objects.create(
        recipient=lead,
        kind=Notification.Kind.SPIKE,
        alert=alert,
        text="9 conversations tagged incident in 60 minutes (usually 0.5).",
        created_at=timezone.now(),
    )
    body = as_user(lead).get("/inbox/notifications/").content.decode()
    assert f'href="/inbox/?alert={alert.pk}&amp;status=any"' in body
    assert "Incident spike" in body and "usually 0.5" in body
