"""The queue of stored inbound events: store_inbound() is the only writer of InboundEvent; it
schedules the drains that process them, and the sweep re-queues what a crash left behind."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.cache import shared as shared_cache
from inbox.intake.admission import kept_headers
from inbox.models import Channel, InboundEvent

logger = logging.getLogger(__name__)


def enqueue_processing(event_id: int) -> None:
    """Have a stored event processed. With a worker, arrivals share drain tasks (one task per
    burst, not per event); in embedded mode the event is processed at once, in-process."""
    from config.celery import app
    from core.tasks import enqueue
    from inbox.intake.queue import schedule_drain
    from inbox.intake.tasks import process_inbound_event

    if app.conf.task_always_eager:
        enqueue(process_inbound_event, event_id)
    else:
        schedule_drain()


def store_inbound(*, request, channel: Channel | None, provider: str) -> InboundEvent:
    """One INSERT (committed by itself unless the caller holds a transaction), then the
    processing is enqueued after commit."""
    event = InboundEvent.objects.create(
        channel=channel,
        provider=provider,
        body=request.body,
        headers=kept_headers(request),
        query=request.META.get("QUERY_STRING", "")[:2048],
        received_at=timezone.now(),
    )
    transaction.on_commit(lambda: enqueue_processing(event.pk))
    return event


# At most this many drain tasks queued at once (one per worker process is enough); each slot's
# flag lives a few seconds, so a lost task is replaced soon and the re-queue sweep backs it up.
DRAIN_SLOTS = 2


DRAIN_FLAG_SECONDS = 5


def drain_flag(slot: int) -> str:
    """The cache key saying a drain task of `slot` is queued (inbox.accept sets it too)."""
    return f"inbound:drain:{slot}"


def schedule_drain() -> bool:
    """Make sure a drain task will run soon, without queueing one task per stored event: a
    task is sent only when one of DRAIN_SLOTS has no task queued. Never fails the caller."""
    from config.celery import app
    from core.tasks import enqueue
    from inbox.intake.tasks import drain_inbound_events

    if app.conf.task_always_eager:  # in-process: the drain runs right here
        return enqueue(drain_inbound_events, 0)
    try:
        slot = next(
            (
                n
                for n in range(DRAIN_SLOTS)
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
    from inbox.intake.queue import enqueue_processing

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        enqueue_processing(event_id)
    return len(ids)
