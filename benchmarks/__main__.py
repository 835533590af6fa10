"""python -m benchmarks [--quick] [--only webhook,email,sla,list,page,bulk,live,reports,load]

Starts the real stack (PostgreSQL database `switchboard_bench`, Redis db 14, uvicorn with two
worker processes, one Celery worker with two processes), drives load from a separate process on
127.0.0.1, prints one table and writes benchmarks/results/<date>.json with the machine described.
`--quick` runs every step at a small size in seconds (the test suite uses it so this cannot rot).
The database is dropped at the end (`--keep-database` keeps it). The Redis database is emptied
first, so the harness refuses database 0 and one holding keys it did not write (`--flush-redis`).

Steps: webhook and email (ingestion, one message in 10 with a file: benchmarks/media.py), sla
(the sweep at 100k and 1M open), list and page (the list API and the inbox page for six views
at 100k and 1M conversations from generate_load, with SQL queries per request), bulk (reassign
10,000 through the API), live (webhook acknowledged to event on an agent's websocket); peak RSS
of a web and a worker process at the end. By name only: reports (90-day report at 1M), load
(generate_load against this PostgreSQL's floor) and workspace (Chromium at 100k).
"""

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from benchmarks import media, scale
from benchmarks.stack import ROOT, NotOurs, Stack, claim_redis, machine

RESULTS = Path(__file__).resolve().parent / "results"


def wait_processed(database_url: str, *, since_id: int, timeout: float) -> dict:
    """Wait until every inbound event after `since_id` has been processed; report the rate."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            pending, total = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'received'), count(*) FROM inbox_inboundevent WHERE id > %s",
                [since_id],
            ).fetchone()
            if pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        first, last, failed = conn.execute(
            "SELECT min(received_at), max(processed_at), count(*) FILTER (WHERE status = 'failed') "
            "FROM inbox_inboundevent WHERE id > %s",
            [since_id],
        ).fetchone()
    span = (last - first).total_seconds() if first and last else None
    return {
        "events": total,
        "unprocessed": pending,
        "failed": failed,
        "processed_per_s": round((total - pending) / span, 1) if span else None,
    }


def last_event_id(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM inbox_inboundevent").fetchone()[0]


def load(
    stack: Stack, *, kind: str, path: str, secret: str, seconds: float = 0, count: int = 0
) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.load",
            "--url",
            f"{stack.base_url}{path}",
            "--kind",
            kind,
            "--secret",
            secret,
            "--concurrency",
            "16",
            "--seconds",
            str(seconds),
            "--count",
            str(count),
            *media.load_args(stack),
        ],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measured(stack: Stack, quick: bool, **load_args) -> dict:
    """Load, wait until everything is processed, and add the CPU time the web processes spent per
    accepted request and the worker per processed event: the figures that do not move with
    whatever else runs on the machine."""
    since = last_event_id(stack.database_url)
    since_attachment = media.last_attachment_id(stack.database_url)
    before = stack.cpu()
    result = load(stack, **load_args)
    result.update(wait_processed(stack.database_url, since_id=since, timeout=60 if quick else 600))
    result.update(media.downloaded(stack, since_id=since_attachment, quick=quick))
    after = stack.cpu()
    accepted = result["requests"] - sum(result["errors"].values())
    processed = result["events"] - result["unprocessed"]
    result["web_cpu_ms_per_request"] = (
        round(1000 * (after["web"] - before["web"]) / accepted, 2) if accepted else None
    )
    result["worker_cpu_ms_per_event"] = (
        round(1000 * (after["worker"] - before["worker"]) / processed, 2) if processed else None
    )
    return result


def bench_webhook(stack: Stack, quick: bool) -> dict:
    return measured(
        stack,
        quick,
        kind="api",
        path="/webhooks/api/api/",
        secret="demo-api-secret",
        # quick: a count, not seconds: the worker must process all of it within a minute
        seconds=0 if quick else 30,
        count=300 if quick else 0,
    )


def bench_email(stack: Stack, quick: bool) -> dict:
    return measured(
        stack,
        quick,
        kind="email",
        path="/webhooks/email/email/raw",
        secret="demo-email-secret",
        count=30 if quick else 5000,
    )


POPULATE = """
INSERT INTO inbox_conversation (
    subject, status, severity, created_at, updated_at, last_message_at, last_inbound_at, snippet,
    message_count, first_response_due, resolution_due, sla_breached, sla_next_check_at,
    arrived_outside_hours, reopened_count, reply_token, channel_id, contact_id, team_id, sla_clock)
SELECT 'Load ' || g, 'open', 2, now() - interval '10 minutes', now(), now() - interval '10 minutes',
       now() - interval '10 minutes', 'benchmark', 1, now() + interval '7 hours 50 minutes',
       now() + interval '3 days', false, now() + interval '6 hours',
       false, 0, md5(%(salt)s || g::text), %(channel)s, %(contact)s, %(team)s,
       jsonb_build_object('policy', null, 'paused_since', null, 'targets', jsonb_build_object(
         'first_response', jsonb_build_object('start', to_char((now() - interval '10 minutes') at time zone 'UTC',
           'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 'paused', 0),
         'resolution', jsonb_build_object('start', to_char((now() - interval '10 minutes') at time zone 'UTC',
           'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), 'paused', 0)))
FROM generate_series(1, %(n)s) g
"""

MAKE_DUE = """
WITH due AS (SELECT id FROM inbox_conversation WHERE status = 'open' AND NOT sla_breached
             ORDER BY id DESC LIMIT %(due)s)
UPDATE inbox_conversation c SET
    created_at = now() - interval '9 hours', sla_next_check_at = now() - interval '1 minute',
    first_response_due = now() - interval '1 hour',
    sla_clock = jsonb_set(c.sla_clock, '{targets,first_response,start}',
        to_jsonb(to_char((now() - interval '9 hours') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')))
FROM due WHERE c.id = due.id
"""


TAG_SOME = """
INSERT INTO tagging_conversationtag (conversation_id, tag_id, added_at)
SELECT c.id, t.id, now() FROM inbox_conversation c, tagging_tag t
WHERE t.slug = 'feature-request' AND c.id > %(after)s AND c.id %% 7 = 0
ON CONFLICT DO NOTHING
"""

VIEWS = {
    "inbox page (HTML)": "/inbox/",
    "inbox page (HTML), tag=feature-request": "/inbox/?tag=feature-request",
    "API: mine": "/api/v1/conversations/?assignee=me",
    "API: unassigned": "/api/v1/conversations/?unassigned=true",
    "API: team": "/api/v1/conversations/?team=support",
    "API: tag=feature-request": "/api/v1/conversations/?tag=feature-request",
    "API: sla_breached": "/api/v1/conversations/?sla_breached=true",
    "API: full-text q": "/api/v1/conversations/?q=invoice",
}


def time_views(stack: Stack, repeats: int) -> dict:
    """Sequential requests from one client on 127.0.0.1, logged in as alice: p50/p95 in ms."""
    import re

    import httpx

    out = {}
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        page = client.get("/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        client.post(
            "/login/",
            data={"username": "alice", "password": "demo", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{stack.base_url}/login/"},
        )
        for name, path in VIEWS.items():
            client.get(path)  # warm
            times = []
            for _ in range(repeats):
                began = time.perf_counter()
                response = client.get(path)
                times.append(1000 * (time.perf_counter() - began))
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
            times.sort()
            out[name] = {
                "p50_ms": round(times[len(times) // 2], 1),
                "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            }
    return out


def bench_sla(stack: Stack, quick: bool) -> dict:
    sizes = [2_000, 4_000] if quick else [100_000, 1_000_000]
    due = 50 if quick else 1000
    os.environ.update(
        {
            k: v
            for k, v in stack.env.items()
            if k not in os.environ
            or k
            in (
                "DATABASE_URL",
                "REDIS_URL",
                "CELERY_TASK_ALWAYS_EAGER",
                "EMBEDDED_SCHEDULER",
                "DJANGO_SETTINGS_MODULE",
            )
        }
    )
    import django

    django.setup()
    from routing.sla_sweep import sweep

    out = {}
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        channel, team = conn.execute(
            "SELECT id, default_team_id FROM inbox_channel WHERE slug = 'email'"
        ).fetchone()
        conn.execute(
            "INSERT INTO inbox_contact (name, email, phone, attributes, created_at) "
            "VALUES ('Load', 'load@example.com', '', '{}', now())"
        )
        contact = conn.execute("SELECT max(id) FROM inbox_contact").fetchone()[0]
        have = 0
        for size in sizes:
            started = time.perf_counter()
            last = conn.execute("SELECT coalesce(max(id), 0) FROM inbox_conversation").fetchone()[0]
            conn.execute(
                POPULATE,
                {
                    "n": size - have,
                    "salt": f"s{size}",
                    "channel": channel,
                    "contact": contact,
                    "team": team,
                },
            )
            conn.execute(TAG_SOME, {"after": last})
            have = size
            # Statistics as autovacuum would leave them after such a load: without them the
            # planner guesses a tag matches a few rows and walks every link of a common one.
            conn.execute("VACUUM ANALYZE inbox_conversation")
            conn.execute("ANALYZE tagging_conversationtag")
            populate_s = time.perf_counter() - started
            if not out:
                # The sweep runs in a long-lived worker: warm this process first (imports, the
                # broker connection, the ORM's caches) with a small sweep, outside the timing.
                conn.execute(MAKE_DUE, {"due": 10})
                sweep(limit=10)
            conn.execute(MAKE_DUE, {"due": due})
            began = time.perf_counter()
            result = sweep(limit=due * 2)
            took = time.perf_counter() - began
            out[str(size)] = {
                "open": size,
                "due": due,
                "sweep_ms": round(1000 * took, 1),
                "breaches": result.breaches,
                "warnings": result.warnings,
                "populate_s": round(populate_s, 1),
                # quick: the list and page steps time these views on realistic data
                "views": {} if quick else time_views(stack, 20),
            }
    return out


def table(results: dict) -> str:
    lines = [f"{'figure':<46} {'value':>14}"]

    def row(name, value):
        lines.append(f"{name:<46} {'' if value is None else value:>14}")

    for name in ("webhook", "email"):
        r = results.get(name)
        if not r:
            continue
        row(f"{name}: accepted/s", r["accepted_per_s"])
        row(f"{name}: ack p50 / p95 / p99 ms", f"{r['p50_ms']} / {r['p95_ms']} / {r['p99_ms']}")
        row(f"{name}: fully processed/s", r["processed_per_s"])
        row(
            f"{name}: CPU ms per request (web) / event (worker)",
            f"{r.get('web_cpu_ms_per_request')} / {r.get('worker_cpu_ms_per_event')}",
        )
        row(f"{name}: load client CPU ms per request", r.get("client_cpu_ms_per_request"))
        row(
            f"{name}: requests, errors, unprocessed",
            f"{r['requests']}, {sum(r['errors'].values())}, {r['unprocessed']}",
        )
        for label, value in media.table_rows(name, r):
            row(label, value)
    for size, r in (results.get("sla") or {}).items():
        row(f"SLA sweep, {int(size):,} open, {r['due']} due: ms", r["sweep_ms"])
        for name, v in r.get("views", {}).items():
            row(f"{name} at {int(size):,}: p50 / p95 ms", f"{v['p50_ms']} / {v['p95_ms']}")
    for kind in ("list", "page"):
        label = "list API" if kind == "list" else "inbox page"
        for size, views in (results.get(kind) or {}).items():
            for name, v in views.items():
                row(
                    f"{label} {name} at {int(size):,}: p50/p95 ms, q, web CPU ms",
                    f"{v['p50_ms']} / {v['p95_ms']}, {v['queries']}, {v.get('web_cpu_ms')}",
                )
    for size, d in (results.get("data") or {}).items():
        if d.get("generated_per_s"):
            row(f"generate_load to {int(size):,}: conversations/s", d["generated_per_s"])
    if results.get("bulk"):
        b = results["bulk"]
        row(f"bulk reassign of {b['conversations']:,}: s", b["seconds"])
    if results.get("live"):
        v = results["live"]
        row(
            "live update p50 / p95 ms (missed)",
            f"{v.get('p50_ms')} / {v.get('p95_ms')} ({v['missed']})",
        )
    if results.get("reports"):
        from benchmarks.reports import table_rows

        for name, value in table_rows(results["reports"]):
            row(name, value)
    if results.get("workspace"):
        from benchmarks.workspace import table_rows as workspace_rows

        for name, value in workspace_rows(results["workspace"]):
            row(name, value)
    if results.get("load"):
        from benchmarks.load_floor import table_rows as load_rows

        for name, value in load_rows(results["load"]):
            row(name, value)
    for name, mb in (results.get("rss_mb") or {}).items():
        row(f"peak RSS of one {name} process, MB", mb)
    return "\n".join(lines)


STEPS = ("webhook", "email", "sla", "list", "page", "bulk", "live")
# Asked for by name only: filling a million conversations for the reports takes most of an hour;
# load (generate_load against the floor of this PostgreSQL, benchmarks/load_floor.py) empties the
# inbox the other steps filled.
# workspace drives Chromium (benchmarks/workspace.py) over 100,000 conversations.
EXTRA_STEPS = ("reports", "load", "workspace")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds not minutes")
    parser.add_argument(
        "--only",
        default=",".join(STEPS),
        help=f"comma-separated: {','.join(STEPS + EXTRA_STEPS)}",
    )
    parser.add_argument(
        "--sizes",
        default="",
        help="comma-separated inbox sizes for the list and page steps (default 100000,1000000)",
    )
    parser.add_argument("--database", default="switchboard_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--flush-redis",
        action="store_true",
        help="empty the Redis database even if it is database 0 or holds keys the benchmark did "
        "not write (refused without this flag)",
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="leave the PostgreSQL database in place after the run (dropped by default)",
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=1,
        help="Celery worker processes (prefork); with INBOUND_PARTITIONS > 1 their drains apply"
        " side by side",
    )
    parser.add_argument(
        "--output", default="", help="results file (default benchmarks/results/<date>.json)"
    )
    parser.add_argument("--no-media", action="store_true", help="no files in webhook and email")
    args = parser.parse_args()
    # A SIGTERM (timeout, Ctrl-C from a supervisor) stops the stack it started, not just us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    only = set(args.only.split(","))
    if args.sizes:
        scale.ONLY_SIZES[:] = [int(s) for s in args.sizes.split(",")]
    unknown = only - set(STEPS + EXTRA_STEPS)
    if unknown:
        parser.error(
            f"unknown step(s): {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(STEPS + EXTRA_STEPS)}"
        )
    results: dict = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "quick": args.quick,
        "machine": machine(),
    }
    took: dict = {}

    def step(name, run):
        began = time.perf_counter()
        value = run()
        took[name] = round(time.perf_counter() - began, 1)
        return value

    results["worker_concurrency"] = args.worker_concurrency
    results["inbound_partitions"] = os.environ.get("INBOUND_PARTITIONS", "default")
    stack = Stack(
        database=args.database,
        redis_url=args.redis_url,
        flush_redis=args.flush_redis,
        keep_database=args.keep_database,
        worker_concurrency=args.worker_concurrency,
    )
    try:
        claim_redis(args.redis_url, force=args.flush_redis)
    except NotOurs as refused:
        parser.exit(2, f"python -m benchmarks: {refused}\n")
    results["media_every"] = None if args.no_media else media.MEDIA_EVERY
    with stack, media.serving(stack, enabled=not args.no_media):
        step("setup", lambda: (stack.reset_database(), stack.start()))
        if "webhook" in only:
            results["webhook"] = step("webhook", lambda: bench_webhook(stack, args.quick))
        if "email" in only:
            results["email"] = step("email", lambda: bench_email(stack, args.quick))
        if "sla" in only:
            results["sla"] = step("sla", lambda: bench_sla(stack, args.quick))
        if only & {"list", "page"}:
            big = step(
                "list+page",
                lambda: scale.bench_list_and_page(
                    stack, args.quick, api="list" in only, page="page" in only
                ),
            )
            results.update({k: v for k, v in big.items() if v})
        if "bulk" in only:
            results["bulk"] = step("bulk", lambda: scale.bench_bulk(stack, args.quick))
        if "live" in only:
            results["live"] = step("live", lambda: scale.bench_live(stack, args.quick))
        if "reports" in only:
            from benchmarks.reports import bench_reports

            results["reports"] = step("reports", lambda: bench_reports(stack, args.quick))
        if "workspace" in only:
            from benchmarks.workspace import bench_workspace

            results["workspace"] = step("workspace", lambda: bench_workspace(stack, args.quick))
        if "load" in only:
            from benchmarks.load_floor import bench_load

            results["load"] = step("load", lambda: bench_load(stack, args.quick))
        results["rss_mb"] = stack.rss()
    results["step_seconds"] = took
    print(table(results))
    print("\nseconds per step: " + ", ".join(f"{k} {v}" for k, v in took.items()))
    output = (
        Path(args.output)
        if args.output
        else RESULTS / f"{dt.date.today().isoformat()}{'-quick' if args.quick else ''}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwritten to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
