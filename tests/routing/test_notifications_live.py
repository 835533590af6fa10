"""The bell through the real agent feed consumer: a person's open socket hears their unread count
when a colleague mentions them, and while it is open the mention is not mailed; once it has been
closed for a while, it is."""

import asyncio
import datetime as dt

import pytest
import time_machine
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.core.cache import cache

from inbox.consumers import AgentFeedConsumer
from inbox.services import add_note
from routing.notification_mail import mail_waiting
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    team = TeamFactory(slug="support")
    alice = AgentFactory(username="alice", teams=[team])
    bob = AgentFactory(username="bob", teams=[team])
    conversation = ConversationFactory(team=team, channel=ChannelFactory(default_team=team))
    keys = [f"online.{kind}.{u.pk}" for u in (alice, bob) for kind in ("sockets", "seen")]
    cache.delete_many(keys)
    yield alice, bob, conversation
    cache.delete_many(keys)


async def first_count(feed) -> dict:
    while True:
        frame = await feed.receive_json_from(timeout=3)
        if frame.get("type") == "notifications":
            return frame


def test_an_open_feed_hears_the_count_and_holds_the_mail_back(people):
    alice, bob, conversation = people

    async def scenario():
        feed = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
        feed.scope["user"] = bob
        connected, _ = await feed.connect()
        assert connected
        await sync_to_async(add_note)(
            conversation_id=conversation.pk, actor=alice, text="@bob the invoice, please"
        )
        heard = await asyncio.wait_for(first_count(feed), 5)
        mailed_while_open = await sync_to_async(mail_waiting)()
        await feed.disconnect()
        return heard, mailed_while_open

    heard, mailed_while_open = async_to_sync(scenario)()
    assert heard == {"type": "notifications", "unread": 1, "label": "1"}
    assert mailed_while_open == 0 and mail.outbox == []
    assert mail_waiting() == 0  # just closed: a reload, perhaps
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=3)):
        assert mail_waiting() == 1
    assert mail.outbox[0].to == [bob.email]
    assert "the invoice, please" in mail.outbox[0].body
