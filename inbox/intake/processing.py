"""Turning stored inbound events into messages. Idempotent: running it twice for one event, or
for two deliveries of one provider message, stores one message."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from core import fastpaths
from inbox import events
from inbox.intake import partitions
from inbox.intake.adapters import get_adapter
from inbox.intake.queue import schedule_drain
from inbox.intake.receive import receive_message
from inbox.models import InboundEvent, Message
from inbox.normalized import Ignored, MessageEdit, NormalizedMessage, StatusUpdate

logger = logging.getLogger(__name__)

ERROR_CHARS = 4000
TRANSIENT_ATTEMPTS = 10  # database errors retried by the sweep before the event is parked


def _apply_status(channel, update: StatusUpdate) -> bool:
    order = ["queued", "sent", "delivered", "read"]
    message = Message.objects.filter(channel=channel, external_id=update.external_id).first()
    if message is None:
        return False
    if (message.delivery_status, message.delivery_error) == (
        update.status,
        update.error[:ERROR_CHARS],
    ):
        return False  # a redelivery (a replayed bounce): nothing new
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


def _apply_edit(channel, edit: MessageEdit, event=None) -> bool:
    message = Message.objects.filter(channel=channel, external_id=edit.external_id).first()
    if message is None and edit.unseen is not None:
        # The original never reached us (sent before the webhook was set, or lost): the message
        # as it now reads is stored, under the original's id (its late delivery is a duplicate).
        return receive_message(channel=channel, message=edit.unseen, inbound_event=event).created
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


def _parse(event: InboundEvent) -> list | Exception:
    """What the event carries, or why it cannot be read. Pure work on the stored body (no
    database), done before a drain takes its turn to apply."""
    try:
        return get_adapter(event.provider).parse(event)
    except Exception as exc:
        return exc


def _apply(event: InboundEvent, items: list | Exception, new: set | None = None) -> None:
    """Apply a claimed (locked) event, parsed into `items` (or why it could not be), inside the
    caller's transaction and set its outcome on `event` (status, error, attempts), for
    _record_outcomes() to write. What processing writes sits in a savepoint: a failure rolls
    back only that, and is recorded on the event. `new`: (channel id, external id) of messages
    known not to be stored yet, each taken out as it is stored (see _not_stored)."""
    fields: dict = {"error": ""}
    try:
        with transaction.atomic():
            if isinstance(items, Exception):
                raise items
            created = 0
            notes = []
            for item in items:
                if isinstance(item, NormalizedMessage):
                    key = (event.channel_id, item.external_id)
                    known_new = new is not None and key in new
                    if known_new:
                        new.discard(key)  # a second delivery in the claim is looked up
                    created += receive_message(
                        channel=event.channel,
                        message=item,
                        inbound_event=event,
                        known_new=known_new,
                    ).created
                elif isinstance(item, StatusUpdate):
                    created += _apply_status(event.channel, item)
                elif isinstance(item, MessageEdit):
                    created += _apply_edit(event.channel, item, event)
                elif isinstance(item, Ignored):
                    notes.append(item.reason)
        fields["status"] = (
            InboundEvent.Status.DUPLICATE
            if items and not created and not notes
            else InboundEvent.Status.PROCESSED
        )
        fields["error"] = "; ".join(notes)[:ERROR_CHARS]
    except (OperationalError, InterfaceError) as exc:
        if partitions.deadlocked(exc):
            raise  # the whole claim is rolled back and taken again: its order stays
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
    event.attempts += 1
    for name, value in fields.items():
        setattr(event, name, value)


def _record_outcomes(claimed: list[InboundEvent]) -> None:
    """Write the outcomes of a claim: one UPDATE per distinct outcome (usually one, all
    processed), one processing time for the claim (its events become visible together, at
    commit)."""
    now = timezone.now()
    outcomes: dict[tuple, list[int]] = {}
    for event in claimed:
        if event.status in (InboundEvent.Status.PROCESSED, InboundEvent.Status.DUPLICATE):
            event.processed_at = now
        outcomes.setdefault((event.status, event.error, event.processed_at), []).append(event.pk)
    for (status, error, processed_at), ids in outcomes.items():
        InboundEvent.objects.filter(pk__in=ids).update(
            status=status, error=error, processed_at=processed_at, attempts=F("attempts") + 1
        )


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
                items = _parse(event)
                partitions.take(partitions.of(items), wait=True)
                _apply(event, items)
                _record_outcomes([event])
    except (OperationalError, InterfaceError) as exc:
        # Not even the outcome could be written (the connection is gone): it stays `received`
        # and the re-queue sweep sends it again.
        logger.warning("inbound event %s could not be processed now: %s", event_id, exc)
        return InboundEvent.objects.get(pk=event_id)
    return event


def _apply_claim(claimed: list[InboundEvent], known: dict | None = None) -> None:
    """Apply claimed events in order in the caller's transaction, each in its own savepoint,
    and record every outcome; the outbox rows of all of them are written in one INSERT. `known`:
    what sorting parsed, by event id (taken out as used). With one partition, claims are parsed
    side by side and applied in turns (the partition's lock, waited for here)."""
    known = {} if known is None else known
    parsed = [known.pop(event.pk) if event.pk in known else _parse(event) for event in claimed]
    if partitions.count() == 1:
        partitions.take(partitions.FIXED, wait=True)
    new = _not_stored(claimed, parsed)
    with events.held_back():
        if len(claimed) > 1 and fastpaths.chosen("INBOUND_SET_WISE"):
            _apply_in_runs(claimed, parsed, new)
        else:
            for event, items in zip(claimed, parsed, strict=True):
                _apply(event, items, new)
    _record_outcomes(claimed)


def _apply_in_runs(claimed: list[InboundEvent], parsed: list, new: set) -> None:
    """Apply a claim in order: runs of events that each carry one new message needing no
    look-up of its own are stored set-wise (inbox.intake.receive_many), the others one at a time."""
    answered = _answered(claimed, parsed)
    seen: set = set()  # a second delivery of a message in the claim is looked up, alone
    batchable = [
        _batchable(event, items, new, answered, seen)
        for event, items in zip(claimed, parsed, strict=True)
    ]
    n = 0
    while n < len(claimed):
        end = n
        while end < len(claimed) and batchable[end]:
            end += 1
        if end == n:
            _apply(claimed[n], parsed[n], new)
            n += 1
        else:
            n += _apply_run(claimed[n:end], parsed[n:end], new)


def _apply_run(run: list[InboundEvent], parsed: list, new: set) -> int:
    """Store the messages of a run of events set-wise, as many as can go together (at least
    one); returns how many events were applied. If the run fails, its savepoint is rolled back
    and its events are applied one at a time, each failing (or not) on its own."""
    from inbox.intake.receive_many import Entry, receive_many

    entries = [
        Entry(event.channel, items[0], event) for event, items in zip(run, parsed, strict=True)
    ]
    try:
        with transaction.atomic():
            stored = receive_many(entries)
    except Exception as exc:
        logger.warning(
            "a run of %s inbound events failed together, one at a time: %s", len(run), exc
        )
        for event, items in zip(run, parsed, strict=True):
            _apply(event, items, new)
        return len(run)
    for event, items in zip(run[: len(stored)], parsed[: len(stored)], strict=True):
        new.discard((event.channel_id, items[0].external_id))
        event.attempts += 1
        event.status = InboundEvent.Status.PROCESSED
        event.error = ""
    return len(stored)


def _batchable(event: InboundEvent, items, new: set, answered: set, seen: set) -> bool:
    """One new message that finds its conversation without a look-up of its own: no reply
    token, and no Message-ID it answers stored (or in the claim)."""
    if isinstance(items, Exception) or len(items) != 1:
        return False
    message = items[0]
    if not isinstance(message, NormalizedMessage) or message.reply_token:
        return False
    key = (event.channel_id, message.external_id)
    if key not in new or key in seen:
        return False
    seen.add(key)
    return not any((event.channel_id, ref) in answered for ref in message.references)


def _answered(claimed: list[InboundEvent], parsed: list) -> set[tuple[int, str]]:
    """(channel id, Message-ID) of the messages the claim's messages answer that are stored,
    or are in the claim: a message answering one of them may join its conversation."""
    refs, own = set(), set()
    for event, items in zip(claimed, parsed, strict=True):
        if isinstance(items, Exception):
            continue
        for item in items:
            if isinstance(item, NormalizedMessage):
                own.add((event.channel_id, item.external_id))
                refs.update((event.channel_id, ref) for ref in item.references)
    if not refs:
        return set()
    stored = Message.objects.filter(
        channel_id__in={channel for channel, _ in refs},
        external_id__in={ref for _, ref in refs},
    ).values_list("channel_id", "external_id")
    return (set(stored) | own) & refs


def _not_stored(claimed: list[InboundEvent], parsed: list) -> set[tuple[int, str]]:
    """(channel id, external id) of the claim's messages not stored yet, in one look-up (each
    message would look itself up). Deliveries of one message share a sender, so a partition,
    whose drains take turns: none of them stores one meanwhile."""
    keys = {
        (event.channel_id, item.external_id)
        for event, items in zip(claimed, parsed, strict=True)
        if not isinstance(items, Exception)
        for item in items
        if isinstance(item, NormalizedMessage)
    }
    if not keys:
        return set()
    stored = Message.objects.filter(
        channel_id__in={channel for channel, _ in keys},
        external_id__in={external_id for _, external_id in keys},
    ).values_list("channel_id", "external_id")
    return keys - set(stored)


def drain(*, limit: int | None = None, first: int = 0) -> int:
    """Process waiting (`received`) events, oldest first, until none is left or `limit` are done;
    returns how many were taken. A claim is one transaction that locks what is waiting, up to
    CLAIM_BATCH events, with FOR UPDATE SKIP LOCKED and applies it: runs of new messages
    set-wise (inbox.intake.receive_many), the rest each in a savepoint (a failure stays with its
    event); one commit, one outbox INSERT and one outcome UPDATE for all of them. While the drain
    keeps up a claim holds the few events that arrived during the last one; through a backlog, a
    hundred.
    Partitions (inbox.intake.partitions): with more than one, a claim holds one partition's lock
    and takes that partition's events only; the drain goes round the partitions from `first`,
    passing those another drain holds, and stops when a whole round found nothing to take. Drains
    of different partitions apply side by side. A claim that PostgreSQL failed to break a deadlock
    with another partition's claim is rolled back whole and taken again.
    Fan-out: while the drain keeps up an event's outbox events go out as soon as it commits;
    through a backlog they go out together, at most DISPATCH_WAIT late (one channel-layer round
    for many)."""
    limit = limit or settings.INBOUND_DRAIN_BATCH
    done = 0
    retry_later: list[int] = []  # hit a database error: not again in this run
    n = partitions.count()
    partition, idle, deadlocks = first % n, 0, 0
    known: dict = {}  # what the last sort parsed, by event id
    unsorted = n > 1  # events may wait unsorted
    with events.dispatch_together(max_wait=DISPATCH_WAIT) as flush_if_due:
        while done < limit and idle < n:
            try:
                if unsorted or (n > 1 and partition == first % n):
                    # Once a round of the partitions, or while a backlog is being sorted; what
                    # it sorted gets a whole round.
                    fresh = partitions.sort_waiting(_parse)
                    unsorted = len(fresh) >= partitions.SORT_BATCH
                    if fresh:
                        known, idle = fresh, 0
                with transaction.atomic():
                    claimed = []
                    if n == 1 or partitions.take(partition, wait=False):
                        claimed = list(
                            _claimed()
                            .select_for_update(of=("self",), skip_locked=True)
                            .filter(partitions.waiting_in(partition))
                            .exclude(pk__in=retry_later)
                            .order_by("received_at", "pk")[: min(CLAIM_BATCH, limit - done)]
                        )
                    if claimed:
                        _apply_claim(claimed, known)
            except (OperationalError, InterfaceError) as exc:
                if partitions.deadlocked(exc) and deadlocks < DEADLOCK_RETRIES:
                    deadlocks += 1
                    logger.warning("a claim deadlocked with another partition's, again: %s", exc)
                    continue
                logger.warning("draining inbound events stopped: %s", exc)
                break
            partition = (partition + 1) % n
            if not claimed:
                idle += 1
                continue
            idle = 0
            done += len(claimed)
            retry_later += [e.pk for e in claimed if e.status == InboundEvent.Status.RECEIVED]
            caught_up = timezone.now() - claimed[-1].received_at < CAUGHT_UP
            flush_if_due(now=caught_up)
    if done >= limit:
        schedule_drain()  # more may be waiting: carry on in a fresh task
    return done


DISPATCH_WAIT = 0.1  # seconds an outbox event of a drain may wait to fan out with others
CAUGHT_UP = timedelta(seconds=DISPATCH_WAIT)  # an event this fresh means no backlog
CLAIM_BATCH = 100  # events one claim takes at most
DEADLOCK_RETRIES = 3  # a claim broken out of a deadlock is taken again this many times
