"""The queue of stored inbound events: store_inbound() is the only writer of InboundEvent; it
schedules the drains that process them, and the sweep re-queues what a crash left behind."""

import logging
from datetime import timedelta
from enum import Enum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.cache import shared as shared_cache
from inbox.models import Channel, InboundEvent

logger = logging.getLogger(__name__)


def enqueue_processing(event_id: int) -> None:
    """Have a stored event processed. With a worker, arrivals share drain tasks (one task per
    burst, not per event); in embedded mode the event is processed at once, in-process."""
    from core.tasks import eager, enqueue
    from inbox.intake.tasks import process_inbound_event

    if eager():
        enqueue(process_inbound_event, event_id)
    else:
        schedule_drain()


def store_inbound(
    *,
    channel: Channel | None,
    provider: str,
    body: bytes,
    headers: dict | None = None,
    query: str = "",
    error: str = "",
    enqueue: bool = True,
) -> InboundEvent:
    """Store one delivery as it came: the only writer of InboundEvent (every door calls it; the
    ASGI door's group INSERT is built from the same model by group_insert_sql()). One INSERT,
    committed by itself unless the caller holds a transaction; its processing is enqueued after
    commit unless `enqueue` is false (the caller processes it now). With `error` (nothing it
    could be delivered to) it is stored `failed`, listed for admins, never dropped."""
    event = InboundEvent.objects.create(
        channel=channel,
        provider=provider,
        body=body,
        headers=headers or {},
        query=query[:QUERY_CHARS],
        received_at=timezone.now(),
        status=InboundEvent.Status.FAILED if error else InboundEvent.Status.RECEIVED,
        error=error,
    )
    if enqueue and not error:
        transaction.on_commit(lambda: enqueue_processing(event.pk))
    return event


QUERY_CHARS = 2048  # of a webhook's query string kept with it (handshakes, Twilio's URL)

# The columns a door fills for each delivery; every other column takes its model default.
ARRIVING = ("channel", "provider", "body", "headers", "query", "received_at")


def group_insert_sql(connection) -> str:
    """The fast twin of store_inbound() for many deliveries at once (tests/inbox/intake/
    test_accept_door.py holds them to the same rows): one INSERT of arrays, one per column in
    ARRIVING (the headers as JSON text), the other columns set to the model's defaults, and the
    new ids RETURNING in the rows' order. Built from InboundEvent's _meta, so a new column or
    default reaches both paths."""
    meta = InboundEvent._meta
    arriving = [meta.get_field(name) for name in ARRIVING]
    rest = [
        field
        for field in meta.concrete_fields
        if not field.primary_key and field.name not in ARRIVING
    ]
    arrays = ", ".join(
        f"%s::{'text' if field.name == 'headers' else field.db_type(connection)}[]"
        for field in arriving
    )
    names = [f"a{n}" for n in range(len(arriving))]
    values = [
        f"{name}::jsonb" if field.name == "headers" else name
        for name, field in zip(names, arriving, strict=True)
    ]
    values += [f"%s::{field.db_type(connection)}" for field in rest]  # group_insert_defaults()
    columns = ", ".join(connection.ops.quote_name(field.column) for field in arriving + rest)
    return (
        f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) "  # noqa: S608 (names from _meta, values bound)
        f"SELECT {', '.join(values)} FROM unnest({arrays}) AS t({', '.join(names)}) "
        f"RETURNING {connection.ops.quote_name(meta.pk.column)}"
    )


def group_insert_defaults() -> list:
    """The values group_insert_sql() sets for the columns a door does not fill, in its order:
    its first parameters, the arrays following."""
    meta = InboundEvent._meta
    defaults = [
        field.get_default()
        for field in meta.concrete_fields
        if not field.primary_key and field.name not in ARRIVING
    ]
    return [value.value if isinstance(value, Enum) else value for value in defaults]


# At least this many drain tasks queued at once, and one per apply partition (drain_slots());
# each slot's flag lives a few seconds, so a lost task is replaced soon and the re-queue sweep
# backs it up.
DRAIN_SLOTS = 2


def drain_slots() -> int:
    """How many drain tasks may be queued at once: one per apply partition, at least DRAIN_SLOTS."""
    return max(DRAIN_SLOTS, settings.INBOUND_PARTITIONS)


DRAIN_FLAG_SECONDS = 5


def drain_flag(slot: int) -> str:
    """The cache key saying a drain task of `slot` is queued (the ASGI door sets it too)."""
    return f"inbound:drain:{slot}"


def schedule_drain() -> bool:
    """Make sure a drain task will run soon, without queueing one task per stored event: a
    task is sent only when one of drain_slots() has no task queued. Never fails the caller."""
    from core.tasks import eager, enqueue
    from inbox.intake.tasks import drain_inbound_events

    if eager():  # in-process: the drain runs right here
        return enqueue(drain_inbound_events, 0)
    try:
        slot = next(
            (
                n
                for n in range(drain_slots())
                if shared_cache().add(drain_flag(n), 1, timeout=DRAIN_FLAG_SECONDS)
            ),
            None,
        )
    except Exception:  # the cache is down: send one anyway (the broker is likely down too)
        slot = 0
    if slot is None:
        return False
    return enqueue(drain_inbound_events, slot)


def drain_started(slot: int) -> None:
    """A drain task of `slot` began: arrivals from now on need a new one."""
    try:
        shared_cache().delete(drain_flag(slot))
    except Exception:
        logger.warning("could not clear drain flag %s", slot)


def requeue_unprocessed(*, older_than_seconds: int = 60, limit: int = 500) -> int:
    """Send events that were stored but never processed (broker down, worker killed) again."""

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        enqueue_processing(event_id)
    return len(ids)
