"""An agent's websocket drops during a burst of 100 customer messages and reconnects with the id
of the last event it saw (`/ws/agent/?since=ID`): every missed event arrives, in order, without
a gap or a duplicate; when too much was missed, an explicit `resync.required` instead.

Real parts: uvicorn serving the ASGI app, the Redis channel layer, a websocket client."""

import asyncio
import datetime as dt
import json

import pytest
import websockets
from django.db import connection
from django.test import Client

from inbox.consumers import RESYNC_LIMIT
from inbox.intake.receive import receive_message
from inbox.models import Event
from inbox.normalized import NormalizedMessage, SenderRef
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory
from tests.support.asgi import LiveASGIServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(90)]

BURST = 100


@pytest.fixture
def world(transactional_db, sent):
    channel = ChannelFactory(slug="web-api", kind="api", secret="s")
    agent = AgentFactory(username="alice", teams=[channel.default_team])
    client = Client()
    client.force_login(agent)
    with LiveASGIServer() as server:
        yield {
            "channel": channel,
            "server": server,
            "cookie": f"sessionid={client.cookies['sessionid'].value}",
        }


def customer_writes(channel, n: int) -> None:
    receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind="api",
            external_id=f"burst-{n}",
            thread_key=f"thread-{n % 7}",
            sender=SenderRef(kind="api", id=f"cust-{n % 7}", name=f"Customer {n % 7}"),
            text=f"Message {n}",
            html=None,
            attachments=(),
            sent_at=dt.datetime.now(dt.UTC),
        ),
    )


def burst(channel, start: int, count: int) -> None:
    try:
        for n in range(start, start + count):
            customer_writes(channel, n)
    finally:
        connection.close()


async def in_thread(fn):
    """Run database work off the event loop, giving its connection back afterwards."""

    def run():
        try:
            return fn()
        finally:
            connection.close()

    return await asyncio.to_thread(run)


async def open_feed(world, since: int | None = None):
    url = world["server"].url.replace("http://", "ws://") + "/ws/agent/"
    if since is not None:
        url += f"?since={since}"
    return await websockets.connect(
        url,
        additional_headers={"Cookie": world["cookie"], "Origin": world["server"].url},
        open_timeout=10,
    )


async def read_events(ws, until, timeout: float = 30) -> list[dict]:
    """Frames until `until(frames)` is true."""
    frames = []
    async with asyncio.timeout(timeout):
        while not until(frames):
            frames.append(json.loads(await ws.recv()))
    return frames


def event_ids(frames) -> list[int]:
    return [f["event"]["id"] for f in frames if f.get("type") == "event"]


def test_a_feed_dropped_during_a_burst_gets_every_missed_event_in_order_after_reconnecting(
    world,
):
    channel = world["channel"]

    async def scenario():
        first = await open_feed(world)
        writer = asyncio.create_task(in_thread(lambda: burst(channel, 0, BURST)))
        # Drop the socket a third of the way through the burst, as a flaky network would.
        seen = await read_events(first, lambda f: len(event_ids(f)) >= BURST // 3)
        await first.close()
        last = event_ids(seen)[-1]
        await asyncio.sleep(0.3)  # more of the burst goes by while disconnected
        second = await open_feed(world, since=last)
        await writer
        expected = await in_thread(
            lambda: list(
                Event.objects.filter(conversation_id__isnull=False)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        )
        rest = await read_events(second, lambda f: event_ids(f)[-1:] == expected[-1:])
        await second.close()
        return event_ids(seen), event_ids(rest), expected

    before, after, expected = asyncio.run(scenario())
    got = before + after
    assert len(set(got)) == len(got), "an event arrived twice"
    assert got == expected, "an event is missing or out of order"


def test_too_many_missed_events_ask_for_an_explicit_resync(world):
    channel = world["channel"]

    async def scenario():
        first = await open_feed(world)
        await in_thread(lambda: burst(channel, 0, 1))
        seen = await read_events(first, lambda f: len(event_ids(f)) >= 1)
        await first.close()
        await in_thread(
            lambda: Event.objects.bulk_create(
                Event(
                    type="conversation.updated",
                    conversation_id=Event.objects.get(pk=event_ids(seen)[0]).conversation_id,
                    team_id=channel.default_team_id,
                    payload={},
                    created_at=dt.datetime.now(dt.UTC),
                )
                for _ in range(RESYNC_LIMIT + 1)
            )
        )
        second = await open_feed(world, since=event_ids(seen)[-1])
        frames = await read_events(second, lambda f: bool(f), timeout=10)
        await second.close()
        return frames

    assert asyncio.run(scenario()) == [{"type": "resync.required"}]


def test_an_idle_feed_stays_open_past_the_layers_blocking_wait_and_gets_the_next_event(world):
    """The Redis layer waits up to 5 s per blocking read; a socket idle for longer must neither
    drop nor miss the event that finally comes (issue 20: they closed every 5 s)."""
    channel = world["channel"]

    async def scenario():
        feed = await open_feed(world)
        await asyncio.sleep(12)  # idle: more than two of the layer's blocking waits
        await in_thread(lambda: customer_writes(channel, 1))
        frames = await read_events(feed, lambda f: bool(event_ids(f)), timeout=10)
        open_after = feed.close_code is None
        await feed.close()
        return frames, open_after

    frames, open_after = asyncio.run(scenario())
    assert event_ids(frames) == list(
        Event.objects.filter(conversation_id__isnull=False).values_list("pk", flat=True)[:1]
    )
    assert open_after
