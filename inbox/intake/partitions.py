"""Apply partitions: drains of different partitions apply side by side, each partition's events
one claim at a time and oldest first (docs/operations.md, "Processing and files on several
hosts").

An event's partition is a hash of its sender's identity (the handle parsing reads from it,
before anything is applied), so one contact's messages, and the conversations they open or
continue, stay in one partition and apply in arrival order. An event without a sender (an
unreadable body, a delivery status, an edit) goes to FIXED. With INBOUND_PARTITIONS = 1 there is
one partition and drains take turns, as before partitions.

Waiting events are sorted into partitions by one drain at a time, oldest first, before any drain
may claim them (sort_waiting): a newer event of a partition is never claimable before an older
one. A drain then takes a partition's advisory lock for its claim's transaction and claims only
that partition's events."""

import zlib

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef, Q

from inbox.models import InboundEvent
from inbox.normalized import NormalizedMessage

FIXED = 0  # the partition whose drain also takes the sender-less events and the stranded ones
SENDERLESS = 32767  # sorted mark of an event with no sender (an edit, a delivery status)
APPLY_LOCK = 0x5B0A_0001  # pg_advisory_xact_lock(APPLY_LOCK, partition): one drain per partition
SORT_LOCK = 0x5B0A_0002  # pg_advisory_xact_lock: one drain sorts waiting events at a time
SORT_BATCH = 200  # waiting events sorted into partitions in one go
DEADLOCK = "40P01"  # SQLSTATE of a deadlock PostgreSQL broke by failing one side


def count() -> int:
    return max(1, settings.INBOUND_PARTITIONS)


def of(items: list | Exception) -> int:
    """The partition of an event parsed into `items`: a hash of its first message's sender
    identity (kind and handle, not the channel: one contact writing on two channels is one
    contact row), else SENDERLESS (taken by FIXED's drain once everything older is applied)."""
    n = count()
    if n == 1:
        return FIXED
    if isinstance(items, Exception):
        return SENDERLESS
    for item in items:
        if isinstance(item, NormalizedMessage):
            identity = f"{item.sender.kind}:{item.sender.id.strip().lower()}"
            return zlib.crc32(identity.encode()) % n
    return SENDERLESS


def waiting_in(partition: int) -> Q:
    """Waiting events of `partition`. Partition FIXED also takes events sorted under a larger
    INBOUND_PARTITIONS than the current one, so that lowering it strands nothing, and takes an
    event only once no older one waits in another partition."""
    waiting = Q(status=InboundEvent.Status.RECEIVED)
    if count() == 1:
        return waiting
    mine = Q(partition=partition)
    if partition == FIXED:
        mine |= Q(partition__gte=count(), partition__lt=SENDERLESS)
        # An event without a sender (an edit, a delivery status) refers to a message that may
        # still wait in any partition: it is taken only once every older event is applied, so
        # it never overtakes the message it edits (as when all was one partition).
        older = InboundEvent.objects.filter(
            status=InboundEvent.Status.RECEIVED, partition__lt=SENDERLESS, pk__lt=OuterRef("pk")
        )
        mine |= Q(partition=SENDERLESS) & ~Exists(older)
    return waiting & mine


def _lock(*keys: int, wait: bool) -> bool:
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return True  # SQLite has one writer anyway
    function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
    placeholders = ", ".join(["%s"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}({placeholders})", list(keys))
        return wait or bool(cursor.fetchone()[0])


def take(partition: int, *, wait: bool) -> bool:
    """Hold `partition`'s apply lock until the transaction ends; without `wait`, False when
    another drain holds it."""
    return _lock(APPLY_LOCK, FIXED if partition == SENDERLESS else partition, wait=wait)


def sort_waiting(parse) -> dict[int, list | Exception]:
    """Give waiting events without a partition theirs, oldest first, and return what `parse`
    made of each (by event id: the drain reuses it to apply). One drain sorts at a time; one
    arriving meanwhile waits for it, then finds the events sorted."""
    if count() == 1:
        return {}
    with transaction.atomic():
        _lock(SORT_LOCK, wait=True)
        unsorted = list(
            InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED, partition=None)
            # One being processed alone (process_inbound_event) is left to it, not waited for.
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("channel")
            .order_by("received_at", "pk")[:SORT_BATCH]
        )
        parsed = {event.pk: parse(event) for event in unsorted}
        groups: dict[int, list[int]] = {}
        for event in unsorted:
            groups.setdefault(of(parsed[event.pk]), []).append(event.pk)
        for partition, ids in groups.items():
            InboundEvent.objects.filter(pk__in=ids).update(partition=partition)
    return parsed


def deadlocked(exc: Exception) -> bool:
    """PostgreSQL broke a deadlock by failing this transaction's statement: two partitions
    reached the same rows (a merged contact, a team's policy) in opposite orders."""
    cause = exc.__cause__
    return isinstance(exc, OperationalError) and getattr(cause, "sqlstate", None) == DEADLOCK
