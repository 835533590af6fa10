"""Logging out closes that browser session's live-feed sockets (so every open tab learns it is
signed out at once); the same agent's other devices keep theirs."""

from importlib import import_module

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from inbox.consumers import AgentFeedConsumer
from tests.accounts.factories import AgentFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def open_feed(user, session_key):
    feed = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
    feed.scope["user"] = user
    feed.scope["session"] = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    connected, _ = await feed.connect()
    assert connected
    return feed


def test_logging_out_closes_that_sessions_sockets_and_no_other(team):
    agent = AgentFactory(username="alice", teams=[team])
    laptop, phone = Client(), Client()
    laptop.force_login(agent)
    phone.force_login(agent)

    async def scenario():
        on_laptop = await open_feed(agent, laptop.session.session_key)
        on_phone = await open_feed(agent, phone.session.session_key)
        response = await sync_to_async(laptop.post)("/logout/")
        assert response.status_code == 302
        closed = await on_laptop.receive_output(timeout=2)
        assert closed == {"type": "websocket.close", "code": 4401}
        assert await on_phone.receive_nothing(timeout=0.3)
        await on_phone.disconnect()

    async_to_sync(scenario)()
    assert phone.get("/inbox/session/").status_code == 200
    assert laptop.get("/inbox/session/").status_code == 401
