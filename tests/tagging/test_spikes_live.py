"""A spike through the real agent feed consumer: a lead's open page hears it (the bell's count and
the banner's frame) the moment it is raised; an agent's hears neither."""

import asyncio
import datetime as dt

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from inbox.consumers import AgentFeedConsumer
from tagging.spikes import check_spikes
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory
from tests.inbox.factories import ConversationFactory, MessageFactory
from tests.tagging.factories import ConversationTagFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def frames_until_spike(feed) -> list[dict]:
    seen = []
    while True:
        frame = await feed.receive_json_from(timeout=3)
        seen.append(frame)
        if frame.get("type") == "spike":
            return seen


def test_a_leads_open_page_hears_the_spike_and_an_agents_does_not(settings):
    settings.SPIKE_TAGS = ["incident"]
    settings.SPIKE = {"WINDOW_MINUTES": 60, "BASELINE_WEEKS": 4, "MIN_COUNT": 5, "FACTOR": 3.0}
    team = TeamFactory(slug="support")
    lead = LeadFactory(username="lead", teams=[team])
    agent = AgentFactory(username="alice", teams=[team])
    tag = TagFactory(slug="incident", name="Incident")
    now = timezone.now()
    for m in range(6):
        conversation = ConversationFactory(team=team)
        MessageFactory(conversation=conversation, created_at=now - dt.timedelta(minutes=m + 1))
        ConversationTagFactory(conversation=conversation, tag=tag)

    async def scenario():
        feeds = []
        for user in (lead, agent):
            feed = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
            feed.scope["user"] = user
            connected, _ = await feed.connect()
            assert connected
            feeds.append(feed)
        [alert] = await sync_to_async(check_spikes)()
        heard = await asyncio.wait_for(frames_until_spike(feeds[0]), 5)
        agent_heard = []
        while not await feeds[1].receive_nothing(timeout=0.5):
            agent_heard.append(await feeds[1].receive_json_from())
        for feed in feeds:
            await feed.disconnect()
        return alert, heard, agent_heard

    alert, heard, agent_heard = async_to_sync(scenario)()
    assert {"type": "notifications", "unread": 1, "label": "1"} in heard
    [event] = [f["event"] for f in heard if f.get("type") == "event"]  # the contract's event
    assert event["type"] == "alert.spike" and event["data"]["alert"] == alert.pk
    spike = heard[-1]
    assert spike["alert"] == alert.pk and spike["url"] == f"/inbox/?alert={alert.pk}&status=any"
    assert "6 conversations tagged incident in 60 minutes" in spike["text"]
    assert not [f for f in agent_heard if f.get("type") in ("spike", "notifications", "event")]
