"""Running a load's batches: a Job builds and writes one batch; generate() runs them in one
process or in worker processes, each on a connection of its own."""

import contextlib
import gc
import signal
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from loadgen.batches import IdSource, build_batch
from loadgen.world import World
from loadgen.writing import write_batch


@contextlib.contextmanager
def _without_cycle_collector():
    """A batch makes some 200,000 dicts, tuples and lists that live until it is written, and
    each allocation run of the cycle collector walks them all again: 12-15% of the Python time
    of a batch. Its rows hold no cycles (reference counting frees them), so the collector waits
    until the batch is written."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Job:
    """What every batch of a load shares; called with a batch's (number, first, size)."""

    world: World
    run: str
    seed: int
    messages_per: int
    bulk: bool = False
    history_days: float = 365.0
    resolved_only: bool = False
    ids: IdSource = field(default_factory=IdSource)

    def __call__(self, spec: tuple[int, int, int]) -> int:
        number, first, size = spec
        # SQLite's ids come from the table: build inside the write's transaction there. On
        # PostgreSQL the ids come from the sequences and write_batch() holds the transaction,
        # so no connection sits idle in one while Python builds.
        outer = (
            contextlib.nullcontext() if connection.vendor == "postgresql" else transaction.atomic()
        )
        with outer, _without_cycle_collector():
            batch = build_batch(
                self.world, run=self.run, seed=self.seed, number=number, first=first, size=size,
                messages_per=self.messages_per, now=timezone.now().timestamp(), ids=self.ids,
                history_days=self.history_days, resolved_only=self.resolved_only,
            )  # fmt: skip
            write_batch(batch, bulk=self.bulk)
        return size


def generate(job: Job, specs: list, *, workers: int = 1, progress=None) -> int:
    """Write the batches `specs`; returns how many conversations.

    On PostgreSQL, outside a transaction, `workers` processes each build a batch and COPY it on a
    connection of their own (ids come from the sequences, so they never collide): Python's
    building, the slow half, runs on every core while PostgreSQL writes. Batches then commit in
    any order, which `pending` allows for. Elsewhere (SQLite, inside a test's transaction) one
    process builds and writes batch after batch."""
    written = 0
    if workers < 2 or len(specs) < 2 or not parallel_ok():
        for spec in specs:
            written += job(spec)
            if progress:
                progress(spec[2])
        return written
    import multiprocessing

    # Forked children must not share the parent's sockets or its pool's threads: close the
    # pool first; each process opens its own.
    connection.close()
    connection.close_pool()
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    pool = context.Pool(min(workers, len(specs)), initializer=_start_worker, initargs=(job, stop))
    try:
        for size in pool.imap_unordered(_work, specs):
            written += size
            if progress:
                progress(size)
    except BaseException:
        stop.set()  # the workers skip what is still queued and finish the batch in hand
        raise
    finally:
        # Never Pool.terminate(): it kills workers that may hold the result queue's lock
        # while the pool's own task thread still has to write to it, and then hangs.
        pool.close()
        pool.join()
    return written


def parallel_ok() -> bool:
    """Worker processes see only committed rows: PostgreSQL, and no transaction open here."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


_job: Job | None = None
_stop = None


def _start_worker(job: Job, stop) -> None:
    global _job, _stop  # one job per worker process
    # Ctrl-C reaches the whole process group: the parent sets `stop`, the workers finish the
    # batch in hand and skip the rest, and the parent rebuilds the indexes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _job, _stop = job, stop


def _work(spec: tuple[int, int, int]) -> int:
    if _stop.is_set():
        return 0
    try:
        return _job(spec)
    except BaseException:
        _stop.set()
        raise
