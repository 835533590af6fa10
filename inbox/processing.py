"""Turning stored inbound events into messages. Idempotent: running it twice for one event, or
for two deliveries of one provider message, stores one message."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from config.cache import shared as shared_cache
from inbox import events
from inbox.adapters import get_adapter
from inbox.models import InboundEvent, Message
from inbox.normalized import Ignored, MessageEdit, NormalizedMessage, StatusUpdate
from inbox.services import receive_message

logger = logging.getLogger(__name__)

ERROR_CHARS = 4000
TRANSIENT_ATTEMPTS = 10  # database errors retried by the sweep before the event is parked


def _apply_status(channel, update: StatusUpdate) -> bool:
    order = ["queued", "sent", "delivered", "read"]
    message = Message.objects.filter(channel=channel, external_id=update.external_id).first()
    if message is None:
        return False
    # Statuses arrive out of order; never move backwards (read, then a late "delivered").
    if (
        update.status in order
        and message.delivery_status in order
        and order.index(update.status) <= order.index(message.delivery_status)
    ):
        return False
    message.delivery_status = update.status
    message.delivery_error = update.error[:ERROR_CHARS]
    message.save(update_fields=["delivery_status", "delivery_error"])
    events.publish(
        "message.updated",
        conversation=message.conversation,
        data={"message": message.pk, "delivery_status": update.status},
    )
    return True


def _apply_edit(channel, edit: MessageEdit) -> bool:
    message = Message.objects.filter(channel=channel, external_id=edit.external_id).first()
    if message is None or message.text == edit.text:
        return False
    if not message.original_text:
        message.original_text = message.text
    message.text = edit.text
    message.edited_at = edit.edited_at
    message.save(update_fields=["text", "original_text", "edited_at"])
    events.publish(
        "message.updated",
        conversation=message.conversation,
        data={"message": message.pk, "edited": True},
    )
    return True


def _apply(event: InboundEvent) -> None:
    """Apply a claimed (locked) event inside the caller's transaction. What processing writes
    sits in a savepoint: a failure rolls back only that, and is recorded on the event."""
    fields: dict = {"error": ""}
    try:
        with transaction.atomic():
            items = get_adapter(event.provider).parse(event)
            created = 0
            notes = []
            for item in items:
                if isinstance(item, NormalizedMessage):
                    created += receive_message(
                        channel=event.channel, message=item, inbound_event=event
                    ).created
                elif isinstance(item, StatusUpdate):
                    created += _apply_status(event.channel, item)
                elif isinstance(item, MessageEdit):
                    created += _apply_edit(event.channel, item)
                elif isinstance(item, Ignored):
                    notes.append(item.reason)
        fields["status"] = (
            InboundEvent.Status.DUPLICATE
            if items and not created and not notes
            else InboundEvent.Status.PROCESSED
        )
        fields["processed_at"] = timezone.now()
        fields["error"] = "; ".join(notes)[:ERROR_CHARS]
    except (OperationalError, InterfaceError) as exc:
        # The database hiccuped (deadlock, failover, restart): not the message's fault. It stays
        # `received` and the re-queue sweep tries again; after enough tries it is parked as failed.
        logger.warning("inbound event %s hit a database error, will retry: %s", event.pk, exc)
        fields["status"] = (
            InboundEvent.Status.FAILED
            if event.attempts + 1 >= TRANSIENT_ATTEMPTS
            else InboundEvent.Status.RECEIVED
        )
        fields["error"] = f"{exc.__class__.__name__}: {exc}"[:ERROR_CHARS]
    except Exception as exc:
        logger.warning("inbound event %s failed: %s", event.pk, exc)
        fields["status"] = InboundEvent.Status.FAILED
        fields["error"] = f"{exc.__class__.__name__}: {exc}"[:ERROR_CHARS]
    InboundEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1, **fields)
    event.attempts += 1
    for name, value in fields.items():
        setattr(event, name, value)


def _claimed():
    # Lock the event row only (not its channel): one worker applies an event at a time.
    return InboundEvent.objects.select_for_update(of=("self",)).select_related("channel")


def process_inbound_event(*, event_id: int) -> InboundEvent:
    """Parse one stored event and apply what it carries. A failure marks the event `failed`
    with the error (listed for admins, retried by `reprocess_inbound`); nothing is dropped."""
    try:
        with transaction.atomic():
            event = _claimed().get(pk=event_id)
            if event.status not in (InboundEvent.Status.PROCESSED, InboundEvent.Status.DUPLICATE):
                _apply(event)
    except (OperationalError, InterfaceError) as exc:
        # Not even the outcome could be written (the connection is gone): it stays `received`
        # and the re-queue sweep sends it again.
        logger.warning("inbound event %s could not be processed now: %s", event_id, exc)
        return InboundEvent.objects.get(pk=event_id)
    return event


def drain(*, limit: int | None = None) -> int:
    """Process waiting (`received`) events, oldest first, until none is left or `limit` are done;
    returns how many were taken. Each event is claimed with FOR UPDATE SKIP LOCKED in its own
    transaction, so several workers drain side by side and a failure stays with its event.
    Fan-out: while the drain keeps up (the event it just applied arrived less than DISPATCH_WAIT
    ago) an event's outbox events go out as soon as it commits; while a backlog is worked off
    they go out together, at most DISPATCH_WAIT late (one channel-layer round for many)."""
    limit = limit or settings.INBOUND_DRAIN_BATCH
    done = 0
    retry_later: list[int] = []  # hit a database error: not again in this run
    with events.dispatch_together(max_wait=DISPATCH_WAIT) as flush_if_due:
        while done < limit:
            try:
                with transaction.atomic():
                    event = (
                        _claimed()
                        .select_for_update(of=("self",), skip_locked=True)
                        .filter(status=InboundEvent.Status.RECEIVED)
                        .exclude(pk__in=retry_later)
                        .order_by("received_at", "pk")
                        .first()
                    )
                    if event is None:
                        break
                    _apply(event)
            except (OperationalError, InterfaceError) as exc:
                logger.warning("draining inbound events stopped: %s", exc)
                break
            done += 1
            if event.status == InboundEvent.Status.RECEIVED:
                retry_later.append(event.pk)
            flush_if_due(now=timezone.now() - event.received_at < CAUGHT_UP)
    if done >= limit:
        schedule_drain()  # more may be waiting: carry on in a fresh task
    return done


# At most this many drain tasks queued at once (one per worker process is enough); each slot's
# flag lives a few seconds, so a lost task is replaced soon and the re-queue sweep backs it up.
DRAIN_SLOTS = 2
DRAIN_FLAG_SECONDS = 5
DISPATCH_WAIT = 0.1  # seconds an outbox event of a drain may wait to fan out with others
CAUGHT_UP = timedelta(seconds=DISPATCH_WAIT)  # an event this fresh means no backlog


def schedule_drain() -> bool:
    """Make sure a drain task will run soon, without queueing one task per stored event: a
    task is sent only when one of DRAIN_SLOTS has no task queued. Never fails the caller."""
    from config.celery import app, enqueue
    from inbox.tasks import drain_inbound_events

    if app.conf.task_always_eager:  # in-process: the drain runs right here
        return enqueue(drain_inbound_events, 0)
    try:
        slot = next(
            (
                n
                for n in range(DRAIN_SLOTS)
                if shared_cache().add(f"inbound:drain:{n}", 1, timeout=DRAIN_FLAG_SECONDS)
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
        shared_cache().delete(f"inbound:drain:{slot}")
    except Exception:
        logger.warning("could not clear drain flag %s", slot)


def requeue_unprocessed(*, older_than_seconds: int = 60, limit: int = 500) -> int:
    """Send events that were stored but never processed (broker down, worker killed) again."""
    from inbox.webhooks import enqueue_processing

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        enqueue_processing(event_id)
    return len(ids)
