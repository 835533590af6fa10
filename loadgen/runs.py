"""Realistic bulk data for load tests and benchmarks (`manage.py generate_load`): the entry.

A run (`--run NAME`) is a deterministic sequence of batches: batch b is built from a random
generator seeded with (seed, run, b), so the same batch always has the same rows. A batch is
written in one transaction, by whichever worker process took it (batches commit in any order);
its first and last conversations' reply tokens are derived from (run, their numbers), so the
batches already in the database are found with indexed lookups and a rerun writes only the
missing ones, never a row twice.

What a batch holds, in proportions a support team would recognise:
- contacts with identities (email, phone, the provider's id), each writing 1 to 5 times, on its
  usual channel and now and then by email; conversations on every channel kind;
- about 70% resolved, the rest open, pending or snoozed; open ones mostly waiting for us;
- tags (feature-request about 1 in 7, technical-issue 1 in 5, sales-lead 1 in 10, incident and
  ugc rarer), severities mostly normal, incidents high or critical;
- a team from the channel (or the team a tag belongs to) and an agent of that team;
- messages alternating customer and agent; SLA clocks, due times and breaches derived from the
  default SLA policy of the severity, as the services would have left them (pending and snoozed
  conversations have their clocks paused, resolved ones none);
- the full-text vector as inbox.search.index_text builds it (PostgreSQL; PooledVectors).

Modules: world (what exists, the vocabulary, reply tokens), batches (building a batch), writing
(COPY or bulk_create), vectors (the search vector), indexes (dropped and rebuilt around a bulk
load), workers (Job, generate). Callers use this module: `from loadgen import runs`.
"""

from inbox.models import Conversation
from loadgen.batches import Batch, IdSource, build_batch
from loadgen.indexes import (
    BULK_TABLES,
    analyze,
    defer_indexes,
    deferred_count,
    is_superuser,
    restore_indexes,
)
from loadgen.vectors import PooledVectors
from loadgen.workers import Job, generate, parallel_ok
from loadgen.world import World, reply_token
from loadgen.writing import write_batch

__all__ = [
    "BULK_TABLES",
    "Batch",
    "IdSource",
    "Job",
    "PooledVectors",
    "World",
    "analyze",
    "build_batch",
    "defer_indexes",
    "deferred_count",
    "generate",
    "is_superuser",
    "parallel_ok",
    "pending",
    "reply_token",
    "restore_indexes",
    "write_batch",
]


def pending(run: str, total: int, batch_size: int) -> list[tuple[int, int, int]]:
    """The batches of the run still to write, as (number, first conversation, size).

    Batch b holds conversations b*size .. (b+1)*size-1 (fewer when the total ends it) and every
    write of it is one transaction continuing after what it already holds, so what is there of
    a batch is a prefix; batches themselves are written in any order (several workers). A batch
    whose last conversation is there is complete and one whose first is missing is empty: two
    indexed lookups per batch. Only a batch that an earlier, smaller total cut short is counted."""
    ranges = [
        (b, b * batch_size, min((b + 1) * batch_size, total))
        for b in range((total + batch_size - 1) // batch_size)
    ]
    probes = [reply_token(run, n) for _, first, end in ranges for n in (first, end - 1)]
    present: set = set()
    for start in range(0, len(probes), 1000):
        present |= set(
            Conversation.objects.filter(reply_token__in=probes[start : start + 1000]).values_list(
                "reply_token", flat=True
            )
        )
    specs = []
    for (number, first, end), head, last in zip(ranges, probes[::2], probes[1::2], strict=True):
        if last in present:
            continue
        if head in present:
            tokens = [reply_token(run, n) for n in range(first, end)]
            first += Conversation.objects.filter(reply_token__in=tokens).count()
        specs.append((number, first, end - first))
    return specs
