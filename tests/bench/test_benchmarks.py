"""`python -m benchmarks --quick` runs every step against the real stack, so the benchmark command
cannot rot. Times are recorded, never asserted; what is asserted is that each step measured
something real."""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from benchmarks.scale import SEARCH_WORDS

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]


def drop(database: str) -> None:
    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [database]
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')


def quick_benchmark(
    tmp_path, suffix: str, *options: str
) -> tuple[subprocess.CompletedProcess, dict]:
    """`python -m benchmarks --quick` on a database of its own beside the test database (so
    parallel runs and CI never collide), dropped afterwards: the run and its results."""
    database = f"{settings.DATABASES['default']['NAME']}_{suffix}"
    output = tmp_path / "results.json"
    try:
        run = subprocess.run(
            [
                sys.executable, "-m", "benchmarks", "--quick", *options, "--database", database,
                "--redis-url", settings.REDIS_URL, "--output", str(output),
            ],
            cwd=ROOT, capture_output=True, text=True, timeout=280,
        )  # fmt: skip
    finally:
        drop(database)
    assert run.returncode == 0, run.stderr[-3000:]
    return run, json.loads(output.read_text())


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(300)
def test_quick_benchmark_runs_every_step(tmp_path):
    run, results = quick_benchmark(tmp_path, "bench")
    assert "figure" in run.stdout and "written to" in run.stdout  # the table was printed

    assert results["machine"]["cpus"] >= 1 and results["machine"]["postgresql"]
    for step in ("webhook", "email"):
        r = results[step]
        assert r["requests"] > 0 and not r["errors"], r
        assert r["unprocessed"] == 0 and r["failed"] == 0, r
    # One message in 10 carries a file: the webhook step's are downloaded from the local media
    # server (each with the served size), the email step's come attached.
    webhook = results["webhook"]
    assert webhook["media_downloaded"] == webhook["attachments_with_the_served_size"] > 0
    assert webhook["media_pending"] == webhook["media_unavailable"] == 0, webhook
    assert results["email"]["attachments"] > 0
    assert all(s["sweep_ms"] > 0 for s in results["sla"].values())

    sizes = sorted(results["list"], key=int)
    assert len(sizes) == 2
    views = {"mine", "unassigned", "team", "tag=feature-request", "sla_breached", "full-text q"}
    assert set(results["page"][sizes[0]]) == views | {"sidebar counts"}
    assert set(results["list"][sizes[0]]) == views | {
        f"q {kind} ({word}), {view}"
        for kind, word in SEARCH_WORDS.items()
        for view in ("mine", "all", "team", "unassigned")
    }
    for kind in ("list", "page"):
        small, big = (results[kind][s] for s in sizes)
        for view, figures in big.items():
            assert figures["p95_ms"] >= figures["p50_ms"] > 0
            # The list costs the same queries however big the inbox is (an empty page reads
            # no tags: a rare word may match nothing among the quick run's first 1,000).
            if bool(figures.get("rows", 1)) == bool(small[view].get("rows", 1)):
                assert figures["queries"] == small[view]["queries"], (kind, view)
    assert results["list"][sizes[-1]]["q common (invoice), all"]["rows"] == 25
    assert results["list"][sizes[-1]]["q no match (zebra), all"]["rows"] == 0
    assert int(sizes[-1]) <= results["data"][sizes[-1]]["conversations"]

    assert results["bulk"]["updated"] == results["bulk"]["conversations"] > 0
    assert results["live"]["missed"] == 0 and results["live"]["p95_ms"] >= 0
    assert results["rss_mb"]["web"] > 0 and results["rss_mb"]["worker"] > 0


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(300)
def test_the_load_step_measures_generate_load_against_the_same_rows_written_at_no_cost(tmp_path):
    run, results = quick_benchmark(tmp_path, "load", "--only", "load")
    load = results["load"]
    assert "floor, the same 2,000 by INSERT ... SELECT" in run.stdout
    assert load["generate_load"]["per_s"] > 0
    floor = load["floor"]
    # Every row generate_load wrote was written again, batch by batch on both connections, and
    # every secondary index of those tables was built on the copies.
    assert floor["batches"] == 4
    assert floor["rows"] == floor["source_rows"]
    assert floor["rows"]["inbox_conversation"] == load["conversations"] == 2000
    assert floor["rows"]["inbox_message"] > 2000 and floor["rows"]["inbox_contact"] > 0
    assert floor["secondary_indexes"] > 20
    assert floor["per_s"] > 0


def test_the_floor_cuts_each_key_range_into_batches_that_cover_it_once():
    from benchmarks.load_floor import cuts

    for low, high, parts in [(1, 100_000, 20), (7, 9, 4), (5, 5, 1), (1, 399_776, 20)]:
        ranges = cuts(low, high, parts)
        assert len(ranges) == parts
        assert ranges[0][0] == low and ranges[-1][1] == high + 1
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
        assert all(isinstance(bound, int) for r in ranges for bound in r)  # the index stays usable
