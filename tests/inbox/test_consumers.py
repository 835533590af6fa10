import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from accounts.models import Membership, User
from inbox import events
from inbox.consumers import AgentFeedConsumer
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory, ViewerFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def open_feed(user):
    communicator = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


def test_anonymous_is_refused():
    async def scenario():
        _feed, connected, code = await open_feed(AnonymousUser())
        return connected, code

    assert async_to_sync(scenario)() == (False, 4401)


def test_an_agent_hears_their_teams_events_and_not_other_teams():
    support, sales = TeamFactory(slug="support"), TeamFactory(slug="sales")
    agent = AgentFactory(teams=[support])
    ours = ConversationFactory(team=support, channel=ChannelFactory(default_team=support))
    theirs = ConversationFactory(team=sales, channel=ChannelFactory(default_team=sales))

    async def scenario():
        feed, connected, _ = await open_feed(agent)
        assert connected
        await sync_to_async(publish_committed)("conversation.updated", theirs)
        mine = await sync_to_async(publish_committed)("conversation.updated", ours)
        got = await feed.receive_json_from(timeout=2)
        assert await feed.receive_nothing(timeout=0.2)
        await feed.disconnect()
        return got, mine

    got, mine = async_to_sync(scenario)()
    assert got["event"]["id"] == mine.pk
    assert got["event"]["conversation"] == ours.pk


def test_an_assignee_from_another_team_hears_about_their_conversation_once():
    support, sales = TeamFactory(slug="support"), TeamFactory(slug="sales")
    agent = AgentFactory(teams=[support])
    handed = ConversationFactory(
        team=sales, assignee=agent, channel=ChannelFactory(default_team=sales)
    )

    async def scenario():
        feed, _, _ = await open_feed(agent)
        event = await sync_to_async(publish_committed)("conversation.assigned", handed)
        got = await feed.receive_json_from(timeout=2)
        assert await feed.receive_nothing(timeout=0.2)
        await feed.disconnect()
        return got, event

    got, event = async_to_sync(scenario)()
    assert got["event"]["id"] == event.pk


def test_reconnecting_client_resyncs_missed_events_in_order():
    support, sales = TeamFactory(slug="support"), TeamFactory(slug="sales")
    viewer = ViewerFactory()
    agent = AgentFactory(teams=[support])
    ours = ConversationFactory(team=support, channel=ChannelFactory(default_team=support))
    theirs = ConversationFactory(team=sales, channel=ChannelFactory(default_team=sales))
    first = publish_committed("message.created", ours)
    missed = [publish_committed("message.created", c) for c in (ours, theirs, ours)]

    async def scenario(user):
        feed, _, _ = await open_feed(user)
        await feed.send_json_to({"type": "resync", "after": first.pk})
        got = []
        while not await feed.receive_nothing(timeout=0.3):
            got.append((await feed.receive_json_from())["event"]["id"])
        await feed.disconnect()
        return got

    assert async_to_sync(scenario)(agent) == [missed[0].pk, missed[2].pk]
    assert async_to_sync(scenario)(viewer) == [e.pk for e in missed]


def presence(conversation, state):
    return {"type": "presence", "conversation": conversation.pk, "state": state}


def test_agents_on_the_same_conversation_see_each_other_viewing_replying_and_leaving():
    from inbox.models import Event

    support = TeamFactory(slug="support")
    alice = AgentFactory(username="alice", first_name="Alice", teams=[support])
    bob = AgentFactory(username="bob", first_name="Bob", teams=[support])
    shared = ConversationFactory(team=support, channel=ChannelFactory(default_team=support))

    async def scenario():
        a, _, _ = await open_feed(alice)
        b, _, _ = await open_feed(bob)
        await a.send_json_to(presence(shared, "viewing"))
        assert await b.receive_nothing(timeout=0.2)  # Bob is not on that conversation
        await b.send_json_to(presence(shared, "viewing"))
        alice_heard = await a.receive_json_from(timeout=2)
        bob_heard = await b.receive_json_from(timeout=2)  # Alice answers: she is already here
        await b.send_json_to(presence(shared, "replying"))
        replying = await a.receive_json_from(timeout=2)
        await b.disconnect()
        left = await a.receive_json_from(timeout=2)
        await a.disconnect()
        return alice_heard, bob_heard, replying, left

    alice_heard, bob_heard, replying, left = async_to_sync(scenario)()
    assert alice_heard["type"] == "presence" and alice_heard["conversation"] == shared.pk
    assert alice_heard["user"]["username"] == "bob" and alice_heard["state"] == "viewing"
    assert bob_heard["user"]["username"] == "alice" and bob_heard["state"] == "viewing"
    assert replying["user"]["username"] == "bob" and replying["state"] == "replying"
    assert left["user"]["username"] == "bob" and left["state"] == "left"
    assert not Event.objects.exists()  # transient: nothing stored, nothing replayed


def test_presence_on_a_conversation_the_user_may_not_see_is_ignored():
    support, sales = TeamFactory(slug="support"), TeamFactory(slug="sales")
    alice = AgentFactory(username="alice", teams=[support])
    spy = AgentFactory(username="spy", teams=[sales])
    ours = ConversationFactory(team=support, channel=ChannelFactory(default_team=support))

    async def scenario():
        a, _, _ = await open_feed(alice)
        s, _, _ = await open_feed(spy)
        await a.send_json_to(presence(ours, "replying"))
        await s.send_json_to(presence(ours, "viewing"))
        await s.send_json_to({"type": "presence", "conversation": "x", "state": "viewing"})
        alice_heard = await a.receive_nothing(timeout=0.3)
        spy_heard = await s.receive_nothing(timeout=0.1)
        await a.disconnect()
        await s.disconnect()
        return alice_heard, spy_heard

    assert async_to_sync(scenario)() == (True, True)


def publish_committed(type_, conversation=None, data=None):
    with transaction.atomic():
        return events.publish(type_, conversation=conversation, data=data)


@pytest.mark.django_db(transaction=True)
def test_an_agent_removed_from_a_team_stops_hearing_it_at_once():
    support = TeamFactory(slug="support")
    agent = AgentFactory(teams=[support])
    conversation = ConversationFactory(team=support, channel=ChannelFactory(default_team=support))

    async def scenario():
        feed = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
        feed.scope["user"] = agent
        await feed.connect()
        await sync_to_async(publish_committed)("conversation.updated", conversation)
        before = await feed.receive_json_from(timeout=2)
        await sync_to_async(Membership.objects.filter(user=agent).delete)()
        await sync_to_async(publish_committed)("conversation.updated", conversation)
        silent = await feed.receive_nothing(timeout=0.3)
        await sync_to_async(User.objects.filter(pk=agent.pk).update)(is_active=False)
        await sync_to_async(publish_committed)("conversation.updated", conversation)
        closed = await feed.receive_output(timeout=2)
        return before, silent, closed

    before, silent, closed = async_to_sync(scenario)()
    assert before["event"]["conversation"] == conversation.pk
    assert silent
    assert closed == {"type": "websocket.close", "code": 4401}


@pytest.mark.django_db(transaction=True)
def test_contact_events_reach_only_those_who_see_everything():
    lead = LeadFactory(teams=[TeamFactory(slug="sales")])

    async def scenario():
        feed = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
        feed.scope["user"] = lead
        await feed.connect()
        await sync_to_async(publish_committed)(
            "contact.merged", None, {"identities": ["email:vip@secret.example"]}
        )
        return await feed.receive_nothing(timeout=0.3)

    assert async_to_sync(scenario)()
