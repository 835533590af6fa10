"""python manage.py generate_load --conversations N [--messages-per 4] [--run NAME]

Fills the database with realistic conversations (see loadgen/runs.py for the proportions).
On PostgreSQL `--workers` processes (one per core by default) each build a batch and COPY it in
one transaction; on SQLite (embedded mode) one process writes through bulk_create, slower.
Interrupt it at any time: rerun the same command and it writes the batches that are missing,
without duplicates. `--conversations` is the run's total, so raising it later adds the
difference.
"""

import os
import re
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from inbox.models import Channel, Conversation
from loadgen import runs


class Command(BaseCommand):
    help = "Generate realistic conversations in bulk (resumable; rerun to continue)."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, required=True, help="Total for the run.")
        parser.add_argument("--messages-per", type=int, default=4, help="Average per conversation.")
        parser.add_argument(
            "--run", default="load", help="Run name; rerunning a run continues it (default load)."
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--history-days",
            type=float,
            default=365.0,
            help="Resolved conversations spread over this many past days (default 365).",
        )
        parser.add_argument(
            "--resolved-only",
            action="store_true",
            help="Only resolved conversations (history for reports, nothing left to answer).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=0, help="Conversations per transaction."
        )
        parser.add_argument(
            "--keep-indexes",
            action="store_true",
            help="Never drop secondary indexes during the load (by default they are dropped and "
            "rebuilt at the end when the load adds at least as many conversations as there are).",
        )
        parser.add_argument(
            "--defer-indexes",
            action="store_true",
            help="Drop secondary indexes during the load and rebuild them at the end, whatever "
            "the sizes (PostgreSQL, as a superuser).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="Processes building and writing batches side by side (PostgreSQL; default: one "
            "per core).",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self,
        *args,
        conversations,
        messages_per,
        run,
        seed,
        batch_size,
        no_progress,
        keep_indexes,
        defer_indexes,
        workers,
        history_days=365.0,
        resolved_only=False,
        **options,
    ):
        if conversations < 0 or messages_per < 0:
            raise CommandError("--conversations and --messages-per must not be negative.")
        if history_days < 1:
            raise CommandError("--history-days must be at least 1.")
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", run):
            raise CommandError("--run: lowercase letters, digits and dashes, up to 40.")
        postgres = connection.vendor == "postgresql"
        batch_size = batch_size or (5000 if postgres else 500)
        if not Channel.objects.exists():
            call_command("seed_demo", conversations=0, history_days=0, stdout=self.stdout)
        world = runs.World.load(run)
        specs = runs.pending(run, conversations, batch_size)
        to_write = sum(size for _, _, size in specs)
        first = conversations - to_write
        if first:
            self.stdout.write(f"Run {run!r}: {first:,} conversations already there; continuing.")
        bar = tqdm(
            total=conversations,
            initial=first,
            unit=" conv",
            unit_scale=True,
            disable=no_progress,
            smoothing=0.1,
            dynamic_ncols=True,
        )
        began = time.monotonic()
        written = 0
        bulk = postgres and (
            runs.deferred_count() > 0
            or (defer_indexes and runs.is_superuser())
            or (
                not keep_indexes
                and to_write >= 50_000
                and to_write >= Conversation.objects.count()
                and runs.is_superuser()
            )
        )
        if bulk and to_write:
            dropped = runs.defer_indexes()
            if dropped:
                bar.write(f"Dropped {dropped} secondary indexes for the load; rebuilt at the end.")
        try:

            def advance(size):
                nonlocal written
                written += size
                bar.update(size)

            job = runs.Job(
                world,
                run=run,
                seed=seed,
                messages_per=messages_per,
                bulk=bulk,
                history_days=history_days,
                resolved_only=resolved_only,
            )
            runs.generate(job, specs, workers=workers, progress=advance)
        except KeyboardInterrupt:
            bar.close()
            self.stdout.write(
                f"Interrupted after {first + written:,} of {conversations:,} conversations. "
                "Rerun the same command to continue."
            )
            if runs.deferred_count():
                self.stdout.write("Rebuilding the indexes dropped for the load...")
                runs.restore_indexes()
            raise SystemExit(130) from None
        bar.close()
        loaded = time.monotonic() - began
        if runs.deferred_count():
            rebuilt = runs.restore_indexes(
                progress=lambda name: None if no_progress else self.stdout.write(f"  index {name}"),
                analyze_after=bool(written),  # each table as soon as its indexes are back
            )
            self.stdout.write(
                f"Rebuilt {rebuilt} indexes and analyzed in {time.monotonic() - began - loaded:.1f} s."
            )
        elif written:
            runs.analyze()
        took = time.monotonic() - began
        rate = written / took if took > 0 else 0
        self.stdout.write(
            f"Run {run!r}: {conversations:,} conversations ({written:,} new in {took:.1f} s, "
            f"{rate:,.0f}/s, index builds and ANALYZE included)."
        )
