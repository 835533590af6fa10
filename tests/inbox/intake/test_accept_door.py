"""The accept door (inbox.intake.doors.asgi, INBOUND_ASGI_DOOR) against the Django view
(inbox.intake.doors.http.receive): the same deliveries through both give the same status, the
same JSON and the same stored InboundEvent. Refusals store nothing, so they run through both
doors in both test passes; what is stored needs the door's PostgreSQL."""

import asyncio
import json
import re

import httpx
import pytest
from django.core.asgi import get_asgi_application
from django.db import DatabaseError, connections

from inbox.intake.adapters import api, email, meta
from inbox.intake.doors import http
from inbox.intake.doors.asgi import AcceptDoor
from inbox.models import InboundEvent
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.timeout(60)
postgres = pytest.mark.postgres

SECRET = "door-secret"
MAIL = (
    b"From: Ada <ada@example.test>\r\nTo: help@example.test\r\nSubject: Invoice\r\n"
    b"Message-ID: <door-1@example.test>\r\n\r\nMy invoice export fails.\r\n"
)


def api_body(event_id: str = "evt-door") -> bytes:
    return json.dumps(
        {"id": event_id, "sender": {"id": "c-1", "name": "Ada"}, "text": "Hello", "thread": "t"}
    ).encode()


def api_post(body=None, *, slug="partner", signature=None, content_type="application/json"):
    body = api_body() if body is None else body
    signature = api.sign(SECRET, body) if signature is None else signature
    headers = {"Content-Type": content_type, "X-Signature": signature}
    return "POST", f"/webhooks/api/{slug}/?source=door", body, headers


def mail_post(body=MAIL, content_type="message/rfc822"):
    headers = {"Content-Type": content_type, "X-Signature": email.sign(SECRET, body)}
    return "POST", "/webhooks/email/mail/raw", body, headers


def meta_post(body=b'{"object": "page", "entry": []}'):
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(SECRET, body)}
    return "POST", "/webhooks/meta/fb/", body, headers


CASES = {
    "good": api_post,
    "good mail": mail_post,
    "good meta": meta_post,
    "bad signature": lambda: api_post(signature="t=1,v1=00"),
    "unknown channel": lambda: api_post(slug="nobody"),
    "channel of another kind": lambda: api_post(slug="mail"),
    "too big": lambda: api_post(api_body("x" * 300)),
    "wrong content type": lambda: api_post(content_type="text/plain"),
    "malformed": lambda: api_post(b'{"id": 1}'),
    "mail of the wrong type": lambda: mail_post(content_type="text/plain"),
    "empty mail": lambda: mail_post(b"  "),
    "GET": lambda: ("GET", "/webhooks/api/partner/", b"", {}),
}


@pytest.fixture
def channels(transactional_db, settings):
    settings.INBOUND_MAX_BYTES = 200
    return [
        ChannelFactory(slug="partner", kind="api", secret=SECRET),
        ChannelFactory(slug="mail", kind="email", secret=SECRET),
        ChannelFactory(slug="fb", kind="meta", secret=SECRET),
    ]


def through_both(*requests):
    """Each request sent to the Django view, then to the accept door: [(django, door), ...]."""
    django_app = get_asgi_application()
    door = AcceptDoor(django_app)

    async def send(app, method, path, body, headers):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, path, content=body, headers=headers)

    async def scenario():
        try:
            return [
                (await send(django_app, *request), await send(door, *request))
                for request in requests
            ]
        finally:
            await door.close()

    return asyncio.run(scenario())


def stored(response) -> dict:
    event = InboundEvent.objects.get(pk=response.json()["event"])
    return {
        "channel": event.channel_id,
        "provider": event.provider,
        "body": bytes(event.body),
        "headers": event.headers,
        "query": event.query,
    }


def answer(response) -> tuple:
    data = response.json()
    if "event" in data:
        data["event"] = "<id>"
    return response.status_code, response.headers["content-type"], data


@postgres
@pytest.mark.parametrize("case", CASES)
def test_both_doors_answer_alike_and_store_alike(channels, case):
    before = InboundEvent.objects.count()
    [(by_django, by_door)] = through_both(CASES[case]())
    assert answer(by_door) == answer(by_django)
    if 200 <= by_django.status_code < 300:
        assert stored(by_door) == stored(by_django)
        assert by_door.json()["event"] != by_django.json()["event"]
        assert InboundEvent.objects.count() == before + 2
    else:
        assert InboundEvent.objects.count() == before


@postgres
def test_neither_door_stores_the_telegram_secret(channels):
    ChannelFactory(slug="tg", kind="telegram", secret="tg-secret-token")
    body = json.dumps(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "from": {"id": 7},
                "chat": {"id": 7},
                "date": 0,
                "text": "Hi",
            },
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": "tg-secret-token",
        "Authorization": "Bearer proxy-credential",
    }
    [(by_django, by_door)] = through_both(("POST", "/webhooks/telegram/tg/", body, headers))
    for response in (by_django, by_door):
        assert response.status_code == 200
        kept = json.dumps(stored(response)["headers"])
        assert "tg-secret-token" not in kept and "proxy-credential" not in kept


def over_the_rate(settings, monkeypatch):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "inbound": "0/d"}


def storage_down(settings, monkeypatch):
    def down(**kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(http, "store_inbound", down)
    # The door's own pool reaches a port where no database listens, and gives up after 1 s.
    monkeypatch.setattr(
        "inbox.intake.doors.asgi.conninfo", lambda: "host=127.0.0.1 port=9 dbname=none"
    )
    pool = connections["default"].settings_dict.setdefault("OPTIONS", {}).get("pool")
    if pool is not None:
        monkeypatch.setitem(pool, "timeout", 1)


REFUSALS = {
    401: (lambda: api_post(signature="t=1,v1=00"), None),
    404: (lambda: api_post(slug="nobody"), None),
    413: (lambda: api_post(api_body("x" * 300)), None),
    415: (lambda: api_post(content_type="text/plain"), None),
    429: (api_post, over_the_rate),
    503: (api_post, storage_down),
}


def comparable(response) -> tuple:
    seconds = re.compile(r"\d+ s")
    return (
        response.status_code,
        response.headers["content-type"],
        "retry-after" in response.headers,
        seconds.sub("N s", response.text),
    )


def retry_after(response) -> int:
    return int(response.headers.get("retry-after") or 0)


@pytest.mark.parametrize("status", REFUSALS)
def test_every_refusal_is_the_same_through_both_doors(channels, settings, monkeypatch, status):
    request, condition = REFUSALS[status]
    if condition is not None:
        condition(settings, monkeypatch)
    [(by_django, by_door)] = through_both(request())
    assert by_django.status_code == status
    assert comparable(by_door) == comparable(by_django)
    # The two answers are a moment apart: a wait counted down to the window's end may differ by
    # the second that passed between them, never more.
    assert abs(retry_after(by_door) - retry_after(by_django)) <= 1
    assert by_door.json()["detail"]
    assert not InboundEvent.objects.exists()


def posted_together(bodies: list[bytes], *, client_address: str = "127.0.0.1") -> list:
    """Each body signed and posted to the accept door at once, from one client address."""
    door = AcceptDoor(get_asgi_application())

    async def scenario():
        transport = httpx.ASGITransport(app=door, client=(client_address, 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            try:
                return await asyncio.gather(
                    *(
                        client.post(path, content=body, headers=headers)
                        for _, path, body, headers in map(api_post, bodies)
                    )
                )
            finally:
                await door.close()

    return asyncio.run(scenario())


@postgres
def test_requests_arriving_together_are_each_stored_and_answered_with_their_own_event(channels):
    bodies = [api_body(f"evt-together-{n}") for n in range(40)]
    responses = posted_together(bodies)
    assert [r.status_code for r in responses] == [202] * len(bodies)
    events = {r.json()["event"]: body for r, body in zip(responses, bodies, strict=True)}
    assert len(events) == len(bodies)
    for event in InboundEvent.objects.filter(pk__in=events):
        assert bytes(event.body) == events[event.pk]


@postgres
@pytest.mark.redis
def test_a_burst_past_the_rate_is_refused_request_for_request_as_one_at_a_time(channels, settings):
    import redis

    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "inbound": "25/h"}
    client_address = "192.0.2.77"
    cache = redis.Redis.from_url(settings.REDIS_URL)
    for key in cache.scan_iter(f"*ratelimit:inbound:partner:{client_address}:*"):
        cache.delete(key)
    bodies = [api_body(f"evt-burst-{n}") for n in range(40)]
    responses = posted_together(bodies, client_address=client_address)
    statuses = [r.status_code for r in responses]
    assert statuses.count(202) == 25
    assert statuses.count(429) == 15
    assert InboundEvent.objects.count() == 25
    [key] = cache.scan_iter(f"*ratelimit:inbound:partner:{client_address}:*")
    assert int(cache.get(key)) == 40
    assert 0 < cache.ttl(key) <= 3601


@postgres
def test_the_server_takes_webhooks_through_the_door_on_postgresql():
    from config.asgi import application

    assert isinstance(application.application_mapping["http"], AcceptDoor)


def test_the_door_is_chosen_by_its_setting_and_refuses_to_run_without_postgresql(settings):
    from django.core.exceptions import ImproperlyConfigured
    from django.db import connection

    from config.asgi import http_app

    django_app = get_asgi_application()
    settings.INBOUND_ASGI_DOOR = False
    assert http_app(django_app) is django_app
    settings.INBOUND_ASGI_DOOR = True
    if connection.vendor == "postgresql":
        assert isinstance(http_app(django_app), AcceptDoor)
    else:
        with pytest.raises(ImproperlyConfigured, match="INBOUND_ASGI_DOOR needs PostgreSQL"):
            http_app(django_app)


@postgres
@pytest.mark.redis
def test_drain_slots_are_taken_in_order_one_each_until_all_are_queued(settings):
    import redis

    door = AcceptDoor(get_asgi_application())
    cache = redis.Redis.from_url(settings.REDIS_URL)
    flags = ["test:door:drain:0", "test:door:drain:1"]
    cache.delete(*flags)

    async def scenario():
        door.bind()
        try:
            taken = [await door.take_slot(keys=flags, args=[5]) for _ in range(3)]
            cache.delete(flags[0])  # the drain of slot 0 started: a new arrival needs a task
            return [*taken, await door.take_slot(keys=flags, args=[5])]
        finally:
            await door.close()

    assert asyncio.run(scenario()) == [0, 1, -1, 0]
    assert 0 < cache.ttl(flags[1]) <= 5
    cache.delete(*flags)


def test_a_delivery_that_gave_up_is_not_written_later_and_the_wait_is_bounded(monkeypatch):
    """While the database is slow, rows wait for a writer. A request that gave up (it answered
    503: the provider sends it again) is left out of the next INSERT, and past MAX_WAITING rows
    a delivery is refused at once instead of holding its body in memory."""
    from inbox.intake.doors import asgi
    from inbox.intake.doors.asgi import StorageBusy, Writer

    monkeypatch.setattr(asgi, "MAX_WAITING", 3)

    async def scenario():
        writer = Writer(on_commit=lambda ids: None)
        idle = asyncio.create_task(asyncio.sleep(60))
        writer.tasks = [idle]  # the writers are busy elsewhere: rows wait in the queue
        stores = [asyncio.create_task(writer.store((f"row-{n}",))) for n in range(3)]
        await asyncio.sleep(0)
        stores[0].cancel()  # its request timed out and answered 503
        await asyncio.sleep(0)
        with pytest.raises(StorageBusy):
            await writer.store(("row-3",))
        batch = writer.take(writer.queue.get_nowait())
        for task in [idle, *stores]:
            task.cancel()
        return [row for row, _ in batch]

    assert asyncio.run(scenario()) == [("row-1",), ("row-2",)]
