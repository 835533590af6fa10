"""Cost of processing one inbound message, free of load noise: SQL queries and CPU time per
message, measured in this process against the database in DATABASE_URL.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m benchmarks.profile_ingest [--n 200]

It stores N generic-API events and N raw mails (as the webhooks would) and processes them the way
the worker does, counting queries (CaptureQueriesContext) and process CPU time. The database
must be migrated and seeded (`manage.py seed_demo`); it gains the N conversations.
"""

import argparse
import json
import os
import time
import uuid


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_ingest")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument(
        "--profile", default="", help="write cProfile stats to PREFIX-KIND.prof and .txt"
    )
    parser.add_argument(
        "--statements", type=int, default=0, help="print the N most frequent statement shapes"
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
    import django

    django.setup()
    from collections import deque

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils.timezone import now

    from benchmarks.load import email_corpus, email_request
    from inbox.intake.processing import drain
    from inbox.models import Channel, InboundEvent

    connection.queries_log = deque(maxlen=1_000_000)
    if InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).exists():
        raise SystemExit("events are waiting in this database: process them first")
    out = {}
    corpus = email_corpus()
    run = uuid.uuid4().hex[:8]  # every run opens its own conversations: runs compare
    for kind, slug in (("api", "api"), ("email", "email")):
        channel = Channel.objects.get(slug=slug)
        events = []
        for n in range(args.n):
            if kind == "api":
                body = json.dumps(
                    {
                        "id": f"profile-{uuid.uuid4().hex}",
                        "sender": {"id": f"customer-{run}-{n % 50}", "name": f"Customer {n % 50}"},
                        "text": f"Profile message {n}: my invoice export fails, could you help?",
                        "thread": f"thread-{run}-{n % 200}",
                    }
                ).encode()
            else:
                body, _ = email_request(channel.secret or "x", n, corpus)
            events.append(
                InboundEvent(
                    channel=channel, provider=kind, body=body, headers={}, received_at=now()
                )
            )
        stored = InboundEvent.objects.bulk_create(events)
        ids = [e.pk for e in stored]
        # Warm up per-process caches and imports on the first event, as a running worker has.
        drain(limit=1)
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile(time.process_time)  # CPU, not waits on PostgreSQL
            profiler.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            drain(limit=len(ids))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiler is not None:
            profiler.disable()
            _write_profile(profiler, f"{args.profile}-{kind}")
        done = InboundEvent.objects.filter(pk__in=ids[1:]).values_list("status", flat=True)
        count = len(ids) - 1
        out[kind] = {
            "messages": count,
            "statuses": sorted(set(done)),
            "queries_per_message": round(len(queries) / count, 1),
            "cpu_ms_per_message": round(1000 * cpu / count, 2),
            "wall_ms_per_message": round(1000 * wall / count, 2),
        }
        if args.statements:
            out[kind]["statements"] = _statement_shapes(queries, args.statements, count)
    print(json.dumps(out, indent=2))
    return 0


def _write_profile(profiler, prefix: str) -> None:
    """cProfile's raw stats (for snakeviz and the like) and the top of them as text."""
    import io
    import pstats

    profiler.dump_stats(f"{prefix}.prof")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(80)
    with open(f"{prefix}.txt", "w") as handle:
        handle.write(text.getvalue())


def _statement_shapes(queries, top: int, count: int) -> list[str]:
    """Statements per message by shape (literals and parameter lists folded), most frequent
    first: which statements the processing of a message runs, and how often."""
    import re
    from collections import Counter

    shapes = Counter(
        re.sub(r"'[^']*'|\b\d+\b|\(%s(, %s)*\)", "?", query["sql"])[:160]
        for query in queries.captured_queries
    )
    return [f"{n / count:.2f}  {shape}" for shape, n in shapes.most_common(top)]


if __name__ == "__main__":
    raise SystemExit(main())
