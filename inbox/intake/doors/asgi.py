"""The accept door: inbound webhook POSTs answered by the ASGI server before Django.

Django's request cycle (ASGI handler, middleware, the one thread that runs sync views, the ORM)
costs about 4 ms of CPU per request, twice what a 2-core box can spend at 1,000 webhooks/s. This
plain ASGI app serves the webhook POSTs whose checks need only the URL, headers and body, with the
same checks as the Django view (inbox.intake.admission.admit, the channel from core.refcache,
the adapter's ack), and hands every other request to Django unchanged.

A 2xx still means the raw request is committed: the rows of requests arriving together are
written by one INSERT (group commit, async psycopg, autocommit) and each is answered after that
statement commits. Then one `SET NX` in Redis finds whether a drain task must be sent, as
inbox.intake.queue.schedule_drain does for the Django view. On with INBOUND_ASGI_DOOR (config/asgi.py).
"""

import asyncio
import json
import logging
import re
from datetime import UTC, datetime

import psycopg
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.http.request import split_domain_port, validate_host
from django.utils.datastructures import CaseInsensitiveMapping
from django.utils.http import parse_header_parameters
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from redis.exceptions import RedisError

from core import ratelimit
from core.cache import shared as shared_cache
from core.dbdeadline import database_deadline
from inbox.intake import admission, queue
from inbox.models import Channel, InboundEvent

logger = logging.getLogger(__name__)

# provider -> channel kinds, for the URLs of inbox.intake.urls served here. Twilio is not: its
# signature covers the public URL, which needs Django's host handling (TWILIO_WEBHOOK_BASE_URL).
PROVIDERS = {
    "api": (Channel.Kind.API,),
    "email": (Channel.Kind.EMAIL,),
    "meta": (Channel.Kind.META,),
    "telegram": (Channel.Kind.TELEGRAM,),
    "x": (Channel.Kind.X,),
}
PATH = re.compile(r"/webhooks/(api|meta|telegram|x)/([-\w]+)/|/webhooks/(email)/([-\w]+)/raw", re.A)

COUNT_TIMEOUT = 1.0  # seconds a rate-limit count may take before the limit fails open
BATCH_ROWS = 200  # at most this many requests share one INSERT
WRITERS = 2  # INSERTs in flight per process (and connections in its pool)
MAX_WAITING = 2000  # rows that may wait for a writer; past it a delivery is refused at once


class Delivery:
    """What the checks of a webhook read (headers, body, content type), built from an ASGI
    request the way Django's ASGIRequest builds its own: header names case-insensitive, repeated
    headers joined with commas, values decoded as Latin-1."""

    def __init__(self, scope: dict, body: bytes):
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin1").lower().replace("_", "-")
            value = raw_value.decode("latin1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        self.headers = CaseInsensitiveMapping(headers)
        self.body = body
        self.content_type = parse_header_parameters(headers.get("content-type", ""))[0]
        self.query = scope.get("query_string", b"").decode()


def route(scope: dict) -> tuple[str, str] | None:
    """(provider, channel slug) when this door serves the request, else None (Django does)."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
        return None
    match = PATH.fullmatch(scope["path"])
    if match is None:
        return None
    provider, slug = (match[1], match[2]) if match[1] else (match[3], match[4])
    host = next((v for n, v in scope["headers"] if n == b"host"), b"").decode("latin1")
    domain, _port = split_domain_port(host)
    # A Host Django would refuse gets Django's own 400.
    return (provider, slug) if domain and validate_host(domain, settings.ALLOWED_HOSTS) else None


async def in_thread(function, *args):
    """Run Django code that may use the ORM (a stale channel copy reloads, eager tasks) in a
    thread, leaving no connection checked out afterwards, as the end of a Django request would."""

    def run():
        try:
            return function(*args)
        finally:
            close_old_connections()

    return await asyncio.to_thread(run)


# The first drain slot whose flag is free, taken (SET NX with expiry), or -1 when all are taken.
TAKE_SLOT = """
for i, key in ipairs(KEYS) do
    if redis.call('SET', key, 1, 'EX', ARGV[1], 'NX') then
        return i - 1
    end
end
return -1
"""


class StaleCopy(Exception):
    """The per-process copy of the channels must be reloaded from the database."""


def stale_copy():
    raise StaleCopy


def reload_channel(slug: str, kinds: tuple[str, ...]) -> Channel | None:
    """admission.active_channel with the ORM, bounded like the Django door's (a thread)."""
    with database_deadline(settings.INBOUND_DB_TIMEOUT):
        return admission.active_channel(slug, kinds)


def enqueue_each(ids: list[int]) -> None:
    for event_id in ids:
        queue.enqueue_processing(event_id)


def conninfo(db: dict | None = None) -> str:
    """The door's own connection string: Django's, with the libpq parameters of DATABASE_URL's
    query string (dj-database-url puts them in OPTIONS: sslmode, sslrootcert, options, ...), so
    the door connects as securely as Django does. OPTIONS keys that are Django's or psycopg's
    own (pool, server_side_binding, ...) are not libpq's and stay out."""
    db = connections["default"].settings_dict if db is None else db
    libpq = {
        key: value
        for key, value in (db.get("OPTIONS") or {}).items()
        if key in LIBPQ_KEYWORDS and key not in OWN_FIELDS and value is not None
    }
    return psycopg.conninfo.make_conninfo(
        **libpq,
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    )


LIBPQ_KEYWORDS = frozenset(option.keyword.decode() for option in psycopg.pq.Conninfo.get_defaults())
OWN_FIELDS = {"dbname", "user", "password", "host", "port"}  # from NAME, USER, ... as Django's


def db_timeout() -> float:
    """Seconds the door gives PostgreSQL before a request hears 503 (INBOUND_DB_TIMEOUT)."""
    return settings.INBOUND_DB_TIMEOUT or 1.5


async def bound_session(conn) -> None:
    """A live but stuck server (a lock held, a full disk) ends the door's statements too."""
    ms = int(db_timeout() * 1000)
    await conn.execute(f"SET statement_timeout = {ms}")
    await conn.execute(f"SET lock_timeout = {ms}")


class StorageBusy(OSError):
    """Too many deliveries already wait for the database (an OSError, so the door answers 503)."""


class Writer:
    """Group commit: requests queue their rows; each of WRITERS tasks takes whatever is waiting
    (up to BATCH_ROWS), writes it with one autocommitted INSERT and answers each request with its
    id once that committed, or with the error when it did not. A database that does not answer
    fails the INSERT after db_timeout(): no writer stays stuck on a silent connection."""

    def __init__(self, on_commit):
        options = connections["default"].settings_dict.get("OPTIONS", {})
        self.pool = AsyncConnectionPool(
            conninfo(),
            kwargs={"autocommit": True, "connect_timeout": options.get("connect_timeout", 2)},
            min_size=1,
            max_size=WRITERS,
            timeout=db_timeout(),
            configure=bound_session,
            open=False,
        )
        self.queue: asyncio.Queue = asyncio.Queue()
        self.on_commit = on_commit
        # store_inbound()'s row, many at a time: the statement is built from the model.
        self.sql = queue.group_insert_sql(connections["default"])
        self.defaults = queue.group_insert_defaults()
        self.tasks: list[asyncio.Task] = []

    async def store(self, row: tuple) -> int:
        """The new event's id once its row is committed. While the database is slow or down,
        rows wait here at most MAX_WAITING deep: past that the request is refused at once
        (StorageBusy, a 503) instead of holding its body in memory."""
        if not self.tasks:
            self.tasks = [asyncio.create_task(self.run()) for _ in range(WRITERS)]
        if self.queue.qsize() >= MAX_WAITING:
            raise StorageBusy(f"{MAX_WAITING} deliveries already wait for the database")
        done = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((row, done))
        return await done

    def take(self, first) -> list:
        """A batch of waiting rows, leaving out those whose request gave up (it answered 503: the
        provider sends it again, and storing it now would only add a duplicate)."""
        batch = [first]
        while len(batch) < BATCH_ROWS and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return [(row, done) for row, done in batch if not done.done()]

    async def run(self) -> None:
        await self.pool.open()  # connects in the background: a database down is a 503 later
        while True:
            batch = self.take(await self.queue.get())
            if not batch:
                continue
            try:
                ids = await self.insert([row for row, _ in batch])
            except Exception as exc:  # not known to be stored: each hears 503 (a retry is deduped)
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), event_id in zip(batch, ids, strict=True):
                if not done.done():
                    done.set_result(event_id)
            self.on_commit(ids)

    async def insert(self, rows: list[tuple]) -> list[int]:
        # RETURNING gives the ids in the order of the rows (Django's bulk_create relies on it).
        columns = [list(column) for column in zip(*rows, strict=True)]
        # A connection cancelled mid-statement goes back in an unknown state: the pool drops it.
        async with asyncio.timeout(db_timeout()), self.pool.connection() as conn:
            cursor = await conn.execute(self.sql, [*self.defaults, *columns])
            return [event_id for (event_id,) in await cursor.fetchall()]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.pool.close()


class Counter:
    """Rate-limit counters counted in groups: the requests that arrive while one round trip to
    Redis is out share the next, one INCRBY per counter for all of them. Each request still gets
    its own count, as if it had sent its own INCR (the first of n gets total - n + 1), so a limit
    refuses exactly the requests it would refuse one at a time."""

    def __init__(self, redis):
        self.redis = redis
        self.waiting: list[tuple[str, int, asyncio.Future]] = []
        self.task: asyncio.Task | None = None

    async def count(self, key: str, expires: int) -> int:
        done = asyncio.get_running_loop().create_future()
        self.waiting.append((key, expires, done))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.run())
        return await done

    async def run(self) -> None:
        while self.waiting:
            group, self.waiting = self.waiting, []
            requests: dict[str, list[asyncio.Future]] = {}
            expiry: dict[str, int] = {}
            for key, expires, done in group:
                requests.setdefault(key, []).append(done)
                expiry[key] = expires
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for key, waiting in requests.items():
                        pipe.incrby(key, len(waiting)).expire(key, expiry[key])
                    totals = (await pipe.execute())[::2]
            except Exception as exc:  # each caller fails open (over_rate logs it)
                for _, _, done in group:
                    if not done.done():
                        done.set_exception(exc)
                continue
            except BaseException:  # cancelled (the loop is closing): so are its callers
                for _, _, done in [*group, *self.waiting]:
                    done.cancel()
                self.waiting = []
                raise
            for waiting, total in zip(requests.values(), totals, strict=True):
                for n, done in enumerate(waiting, start=total - len(waiting) + 1):
                    if not done.done():
                        done.set_result(n)


class AcceptDoor:
    """Fast twin of inbox.intake.doors.http.receive, held to it by tests/inbox/intake/test_accept_door.py.

    ASGI app: the webhook POSTs described above here, everything else to `django_app`. Its
    connections (database pool, Redis) belong to the event loop that first used them."""

    def __init__(self, django_app):
        self.django_app = django_app
        self.loop = None
        self.background: set[asyncio.Task] = set()

    async def __call__(self, scope, receive, send):
        target = route(scope)
        if target is None:
            await self.django_app(scope, receive, send)
            return
        self.bind()
        try:
            response = await self.accept(scope, receive, *target)
        except Disconnected:
            return  # nobody to answer, and nothing was stored
        headers = [(k.encode("latin1"), v.encode("latin1")) for k, v in response.items()]
        headers.append((b"content-length", str(len(response.content)).encode()))
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        await send({"type": "http.response.body", "body": response.content})

    def bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is loop:
            return
        self.loop = loop
        self.writer = Writer(self.after_commit)
        self.redis = None
        if not settings.EMBEDDED:
            import redis.asyncio

            # The cache's Redis: these are the cache's rate counters (shared_cache().make_key).
            self.redis = redis.asyncio.Redis.from_url(settings.CACHE_URL)
            self.counter = Counter(self.redis)
            self.take_slot = self.redis.register_script(TAKE_SLOT)

    async def close(self) -> None:
        """Close this loop's connections (tests; a server's process just exits)."""
        if self.loop is not None:
            await asyncio.gather(*self.background)
            await self.writer.close()
            if self.redis is not None:
                await self.redis.aclose()
            self.loop = None

    async def accept(self, scope, receive, provider: str, slug: str):
        """admission.admit(), the Django view's checks in their order, with async I/O."""

        async def io(step):
            match step:
                case admission.Count(key=key):
                    return await self.over_rate(key)
                case admission.FindChannel(slug=slug, kinds=kinds):
                    try:
                        return await self.channel(slug, kinds)
                    except DatabaseError as exc:
                        raise admission.StorageDown from exc
                case admission.ReadBody():
                    body = await read_body(receive)
                    return None if body is None else Delivery(scope, body)
                case admission.Store(channel=channel, provider=provider, delivery=delivery):
                    received_at = datetime.now(UTC)
                    row = (
                        channel.pk,
                        provider,
                        delivery.body,
                        json.dumps(admission.kept_headers(delivery)),
                        delivery.query[: queue.QUERY_CHARS],
                        received_at,
                    )
                    try:
                        # Waiting behind a stuck INSERT counts too: 503 in time, whatever holds it.
                        async with asyncio.timeout(db_timeout()):
                            event_id = await self.writer.store(row)
                    except (psycopg.Error, PoolTimeout, OSError) as exc:  # TimeoutError: OSError
                        raise admission.StorageDown from exc
                    return InboundEvent(
                        pk=event_id, channel=channel, provider=provider, received_at=received_at
                    )

        length = next((v for n, v in scope["headers"] if n == b"content-length"), b"")
        steps = admission.admit(
            provider=provider,
            slug=slug,
            kinds=PROVIDERS[provider],
            client=scope_client(scope),
            declared=length.decode("latin1"),
        )
        return await admission.answer_async(steps, io)

    async def channel(self, slug: str, kinds: tuple[str, ...]) -> Channel | None:
        """From this process's copy, on the event loop; when the copy is stale, reloaded with the
        ORM in a thread (a thread per request would cost more than the rest of the request)."""
        try:
            return admission.active_channel(slug, kinds, load=stale_copy)
        except StaleCopy:
            try:
                async with asyncio.timeout(db_timeout() + 0.1):  # the thread's own bound first
                    return await in_thread(reload_channel, slug, kinds)
            except TimeoutError as exc:
                raise DatabaseError("the database did not answer") from exc

    async def over_rate(self, key: str) -> int | None:
        """core.ratelimit.over_rate with Redis asyncio: the same counters, counted together with
        the requests arriving at the same time (Counter)."""
        rate = admission.inbound_rate()
        if not rate or self.redis is None:  # no Redis: the process-local cache, no I/O
            return ratelimit.over_rate(key, rate)
        number, window, slot = ratelimit.rate_window(rate)
        counter = shared_cache().make_key(ratelimit.counter_key(key, slot))
        try:
            # A Redis that does not answer is a cache down: the request is not held past this.
            async with asyncio.timeout(COUNT_TIMEOUT):
                count = await self.counter.count(counter, window + 1)
        except ratelimit.CACHE_DOWN as exc:  # TimeoutError is an OSError
            logger.warning("rate limit %s not counted, the cache is unreachable: %s", key, exc)
            return None
        return ratelimit.retry_after(count, number, window, slot)

    def after_commit(self, ids: list[int]) -> None:
        task = asyncio.create_task(self.schedule_drain(ids))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def schedule_drain(self, ids: list[int]) -> None:
        """inbox.intake.queue.schedule_drain for a committed batch, with the flag's SET NX on Redis
        asyncio (same keys); the rare Celery send runs in a thread. Never fails anything."""
        from core.tasks import eager, enqueue
        from inbox.intake.queue import DRAIN_FLAG_SECONDS, drain_flag, drain_slots
        from inbox.intake.tasks import drain_inbound_events

        if eager() or self.redis is None:
            await in_thread(enqueue_each, ids)
            return
        flags = [shared_cache().make_key(drain_flag(n)) for n in range(drain_slots())]
        try:
            # Under load every slot is usually taken: one round trip asks them all.
            slot = await self.take_slot(keys=flags, args=[DRAIN_FLAG_SECONDS])
        except (RedisError, OSError):  # the cache is down: send one anyway
            slot = 0
        if slot >= 0:
            await asyncio.to_thread(enqueue, drain_inbound_events, slot)


def scope_client(scope: dict) -> str:
    client = scope.get("client")
    return client[0] if client else ""


class Disconnected(Exception):
    """The client went away before its body arrived."""


async def read_body(receive) -> bytes | None:
    """The request body, or None as soon as it grows past INBOUND_MAX_BYTES."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > settings.INBOUND_MAX_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)
