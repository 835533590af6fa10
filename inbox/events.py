"""The outbox. `publish()` writes an Event row in the caller's transaction and fans it out
after commit; a rolled-back change reaches no browser and no subscriber.
"""

import asyncio
import logging
import os
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.db import transaction
from django.utils import timezone

from core import fastpaths
from inbox import groups, hooks
from inbox.models import Conversation, Event

logger = logging.getLogger(__name__)


class _Batch:
    """The events one transaction publishes, fanned out together once it commits."""

    def __init__(self):
        self.events: list[Event] = []

    def flush(self) -> None:
        events, self.events = self.events, []
        together = getattr(_together, "events", None)
        if together is not None:
            if not together:
                _together.first_at = time.monotonic()
            together.extend(events)
        else:
            dispatch_batch(events)


_together = threading.local()


@contextmanager
def dispatch_together(*, max_wait: float):
    """Within the block, events committed by successive transactions (a worker processing many
    inbound messages) fan out together: when the block ends, or at a call of the yielded
    `flush_if_due()` once the oldest has waited `max_wait` seconds, or at once with
    `flush_if_due(now=True)` (the caller is not behind: nothing gained by waiting). One
    channel-layer round and one UPDATE for many events instead of one each. Nothing fans out
    before its commit; a process that dies in between leaves them to the re-queue sweep."""
    if getattr(_together, "events", None) is not None:  # nested: the outer block flushes
        yield lambda now=False: None
        return
    _together.events = []

    def flush():
        events, _together.events = _together.events, []
        dispatch_batch(events)

    def flush_if_due(now: bool = False):
        if _together.events and (now or time.monotonic() - _together.first_at >= max_wait):
            flush()

    try:
        yield flush_if_due
    finally:
        try:
            flush()
        finally:
            _together.events = None


_held = threading.local()


@contextmanager
def held_back():
    """Within the block (inside a transaction) publish() builds its Event rows without writing
    them; when the block ends, those whose savepoint was not rolled back are written in one
    INSERT, in publishing order, and fan out after commit as publish() would. A drain applying a
    hundred messages writes their outbox rows at once instead of a few hundred INSERTs."""
    if getattr(_held, "events", None) is not None:  # nested: the outer block writes
        yield
        return
    _held.events = held = []
    try:
        yield
    finally:
        _held.events = None
    connection = transaction.get_connection()
    alive = {id(func.__self__) for _, func, _ in connection.run_on_commit if _is_flush(func)}
    outbox = [event for batch, event in held if id(batch) in alive]
    if outbox:
        _insert_events(outbox)


def _is_flush(func) -> bool:
    return getattr(func, "__func__", None) is _Batch.flush


def _current_batch() -> _Batch | None:
    """The batch of the current savepoint level, its flush registered on commit, created on first
    use. Keyed by savepoint so that events published inside a savepoint share its fate: when it
    rolls back, Django drops the flush registered inside it, and those events are never sent."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    batches = connection.__dict__.setdefault("_switchboard_outbox", {})
    level = tuple(connection.savepoint_ids)
    batch = batches.get(level)
    if batch is None or not any(func == batch.flush for _, func, _ in connection.run_on_commit):
        batch = _Batch()
        batches[level] = batch
        transaction.on_commit(batch.flush)
    return batch


def publish(
    type: str,
    *,
    conversation: Conversation | None = None,
    actor=None,
    data: dict | None = None,
) -> Event:
    """Record a domain event. Call inside the transaction that made the change; all events of a
    transaction are fanned out together after it commits."""
    payload = dict(data or {})
    if conversation is not None:
        payload.setdefault("conversation", conversation.pk)
    event = Event(
        type=type,
        conversation_id=getattr(conversation, "pk", None),
        team_id=getattr(conversation, "team_id", None),
        actor_id=getattr(actor, "pk", None),
        payload=payload,
        created_at=timezone.now(),
    )
    batch = _current_batch()
    held = getattr(_held, "events", None)
    if held is not None and batch is not None:
        batch.events.append(event)
        held.append((batch, event))  # written when the held_back() block ends
        return event
    event.save(force_insert=True)
    if batch is None:
        dispatch_batch([event])  # autocommit: the row is already committed
    else:
        batch.events.append(event)
    return event


def feed_message(event: Event) -> dict:
    """What an agent's browser receives: ids and changed fields; the page re-fetches the rest."""
    return {
        "id": event.pk,
        "type": event.type,
        "conversation": event.conversation_id,
        "team": event.team_id,
        "actor": event.actor_id,
        "data": event.payload,
        "at": event.created_at.isoformat(),
    }


def event_groups(event: Event, assignee_id: int | None = None) -> list[str]:
    if not event.conversation_id:
        # Contact-level events (created, merged) name people and handles: only those who see
        # every conversation hear them.
        return [groups.ALL]
    names = [groups.ALL, groups.team(event.team_id)]
    if assignee_id:
        names.append(groups.user(assignee_id))
    if event.conversation_id:
        names.append(groups.conversation(event.conversation_id))
    return names


def publish_many(outbox: list[Event]) -> list[Event]:
    """Record many events at once (bulk actions). Same guarantees as publish(); the fan-out runs
    in a task after commit, a batch frame per group instead of one message per event."""
    if not outbox:
        return []
    created = _insert_events(outbox)
    ids = [e.pk for e in created]
    transaction.on_commit(lambda: enqueue_dispatch(ids))
    return created


def _insert_events(outbox: list[Event]) -> list[Event]:
    """Fast twin of bulk_create (BULK_JSON_INSERT), held to it by tests/inbox/test_events.py.

    With BULK_JSON_INSERT one INSERT of the whole batch sent as one JSON document (bulk_create
    spends most of its time adapting each value); otherwise bulk_create."""
    if not fastpaths.chosen("BULK_JSON_INSERT"):
        return Event.objects.bulk_create(outbox, batch_size=2000)
    from core import bulk

    now = timezone.now()
    for event in outbox:
        if event.created_at is None:
            event.created_at = now
    return bulk.insert(Event, outbox)


def enqueue_dispatch(ids: list[int]) -> None:
    from core.tasks import enqueue
    from inbox.tasks import dispatch_events

    enqueue(dispatch_events, ids)


FEED_BATCH = 500


SEND_TIMEOUT = 10  # seconds; past that the batch stays undispatched for the re-queue sweep


async def _send_all(layer, frames: list[tuple[str, dict]]) -> None:
    if isinstance(layer, RedisChannelLayer):
        frames = await _listened(layer, frames)
    for group, frame in frames:
        await layer.group_send(group, frame)


async def _listened(layer: RedisChannelLayer, frames: list[tuple[str, dict]]):
    """The frames whose group someone is in. `group_send` costs two Redis round trips even for a
    group nobody joined, and most groups of a batch are such: every new conversation has its own
    and few are open in a browser. One pipelined ZCARD per Redis host asks about them all."""
    by_host: dict[int, list[str]] = {}
    for group in dict.fromkeys(group for group, _ in frames):
        by_host.setdefault(layer.consistent_hash(group), []).append(group)
    joined: set[str] = set()
    for index, names in by_host.items():
        pipe = layer.connection(index).pipeline(transaction=False)
        for name in names:
            pipe.zcard(layer._group_key(name))
        counts = await pipe.execute()
        joined.update(name for name, count in zip(names, counts, strict=True) if count)
    return [(group, frame) for group, frame in frames if group in joined]


_sender_lock = threading.Lock()
_sender: tuple[int, asyncio.AbstractEventLoop] | None = None


def _sender_loop() -> asyncio.AbstractEventLoop:
    """This process's event loop for channel-layer sends from sync code, in a daemon thread,
    started on first use (after a fork too). A fresh loop per send (`async_to_sync` from a
    worker) would open new Redis connections every time; one loop keeps its pool warm."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="layer-sender", daemon=True).start()
            _sender = (os.getpid(), loop)
        return _sender[1]


def send_frames(layer, frames: list[tuple[str, dict]]) -> None:
    """Send frames to groups from sync code, in order; raises when the layer fails or hangs."""
    if isinstance(layer, InMemoryChannelLayer):
        # Its queues belong to the loop of whoever listens (embedded mode, tests): send there.
        async_to_sync(_send_all)(layer, frames)
        return
    future = asyncio.run_coroutine_threadsafe(_send_all(layer, frames), _sender_loop())
    try:
        future.result(timeout=SEND_TIMEOUT)
    except BaseException:
        future.cancel()
        raise


def dispatch_batch(batch: list[Event]) -> None:
    """Fan out committed events: browsers first (one frame per group per FEED_BATCH events, all
    sent from one event loop), then subscribers (hooks), then mark them dispatched. Safe to
    repeat: browsers drop ids they have seen and deliveries are unique per (event, endpoint)."""
    if not batch:
        return
    assignees = dict(
        Conversation.objects.filter(
            pk__in={e.conversation_id for e in batch if e.conversation_id}
        ).values_list("pk", "assignee_id")
    )
    by_group: dict[str, list[dict]] = {}
    for event in batch:
        for group in event_groups(event, assignees.get(event.conversation_id)):
            by_group.setdefault(group, []).append(feed_message(event))
    frames = []
    for group, messages in by_group.items():
        if len(messages) == 1:
            frames.append((group, {"type": "feed.event", "event": messages[0]}))
            continue
        for start in range(0, len(messages), FEED_BATCH):
            frames.append(
                (group, {"type": "feed.events", "events": messages[start : start + FEED_BATCH]})
            )
    layer = get_channel_layer()
    try:
        if layer is not None:
            send_frames(layer, frames)
        for event in batch:
            hooks.run("event_dispatched", event=event)
        hooks.run("events_dispatched", events=batch)
    except Exception:
        # The rows stay undispatched and the re-queue sweep tries again.
        logger.exception("dispatch of %s events failed", len(batch))
        return
    Event.objects.filter(pk__in=[e.pk for e in batch], dispatched_at__isnull=True).update(
        dispatched_at=timezone.now()
    )


def dispatch_stalled(*, older_than: timedelta = timedelta(seconds=30), limit: int = 500) -> int:
    """Dispatch events committed but never fanned out (the process died, the layer was down)."""
    cutoff = timezone.now() - older_than
    stalled = list(
        Event.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff).order_by("id")[
            :limit
        ]
    )
    dispatch_batch(stalled)  # looks the assignees up itself, in one query
    return len(stalled)
