"""The `load` step (`python -m benchmarks --only load`): generate_load against the floor of this
machine's PostgreSQL.

generate_load fills an empty inbox, then the same rows are written again the cheapest way
PostgreSQL has: `INSERT ... SELECT` from the tables just loaded (nothing to parse, nothing to
compute, no foreign keys to check, two connections, batches of 5,000 conversations as
generate_load writes them) into a scratch schema with the same primary keys and unique indexes,
after which the same secondary indexes are built two at a time and the tables analyzed. That is
what any generator would at least pay here, whatever it computes; the gap between the two rates
is all that a faster generator could win.
"""

import os
import re
import resource
import threading
import time
from pathlib import Path

import psycopg

from benchmarks.scale import clear_conversations, generate_load
from benchmarks.stack import Stack

TABLES = {  # table -> the column its batches are cut by
    "inbox_contact": "id",
    "inbox_contactidentity": "contact_id",
    "inbox_conversation": "id",
    "inbox_message": "conversation_id",
    "tagging_conversationtag": "conversation_id",
}
SCRATCH = "load_floor"
BATCH = 5000


def postgres_cpu_seconds() -> float | None:
    """CPU of every PostgreSQL process on this machine, the exited backends included (their
    parent, the postmaster, counts them): whatever else uses the server is counted too, so the
    figure means something on a quiet machine only. None where /proc does not show them."""
    ticks, seen = 0, False
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if not Path(f"/proc/{pid}/comm").read_text().startswith("postgres"):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen = True
        ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK") if seen else None


def _spent(before: float | None) -> float | None:
    after = postgres_cpu_seconds()
    return round(after - before, 2) if before is not None and after is not None else None


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def generate(stack: Stack, total: int) -> dict:
    pg, py = postgres_cpu_seconds(), children_cpu_seconds()
    made = generate_load(stack, "floor", total)
    return {
        "per_s": made["per_s"],
        "seconds": made["seconds"],
        "wall_s_with_start": made["wall_s"],
        "python_cpu_s": round(children_cpu_seconds() - py, 2),
        "postgres_cpu_s_machine": _spent(pg),
    }


def floor(database_url: str, *, batch: int = BATCH) -> dict:
    """Write the loaded rows again at PostgreSQL's own cost; see the module's docstring."""
    try:
        return _floor(database_url, batch)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")


def cuts(low: int | None, high: int | None, parts: int) -> list[tuple[int, int]]:
    """[low, high] cut into `parts` consecutive integer ranges [start, end): integers, so that
    PostgreSQL compares them with the indexed column as it is (a float bound made it cast the
    column and read the whole table for every batch)."""
    if low is None:
        return [(0, 0)] * parts
    span = high - low + 1
    return [(low + part * span // parts, low + (part + 1) * span // parts) for part in range(parts)]


def _floor(database_url: str, batch: int) -> dict:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCRATCH} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCRATCH}")
        indexes = conn.execute(
            "SELECT x.indisunique OR x.indisprimary, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace",
            [list(TABLES)],
        ).fetchall()
        secondary = []
        for table in TABLES:  # LIKE copies no foreign keys: no triggers to fire
            conn.execute(f"CREATE TABLE {SCRATCH}.{table} (LIKE public.{table} INCLUDING DEFAULTS)")
        for unique, definition in indexes:
            definition = re.sub(
                r"INDEX (\w+) ON public\.", rf"INDEX \1 ON {SCRATCH}.", definition, count=1
            )
            if unique:
                conn.execute(definition)
            else:
                secondary.append(definition)
        source = {}
        ranges = {}
        conversations = conn.execute("SELECT count(*) FROM public.inbox_conversation").fetchone()[0]
        parts = max(1, -(-conversations // batch))
        for table, key in TABLES.items():
            low, high, count = conn.execute(
                f"SELECT min({key}), max({key}), count(*) FROM public.{table}"  # noqa: S608
            ).fetchone()
            source[table] = count
            ranges[table] = cuts(low, high, parts)

    def write(worker: int) -> None:
        with psycopg.connect(database_url) as conn:
            conn.execute("SET synchronous_commit TO off")
            for part in range(worker, parts, 2):
                for table, key in TABLES.items():
                    conn.execute(
                        f"INSERT INTO {SCRATCH}.{table} SELECT * FROM public.{table} "  # noqa: S608
                        f"WHERE {key} >= %s AND {key} < %s",
                        ranges[table][part],
                    )
                conn.commit()

    secondary.sort(key=lambda d: "USING gin" not in d)  # the longest build first
    queue = list(secondary)
    lock = threading.Lock()

    def build(_: int) -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("SET synchronous_commit TO off")
            conn.execute("SET maintenance_work_mem TO '512MB'")
            while True:
                with lock:
                    if not queue:
                        return
                    definition = queue.pop(0)
                conn.execute(definition)

    def side_by_side(task) -> float:
        """task(0) and task(1) on two threads; the first error of either is raised here."""
        errors = []

        def run(worker: int) -> None:
            try:
                task(worker)
            except BaseException as error:  # raised again below
                errors.append(error)

        began = time.perf_counter()
        threads = [threading.Thread(target=run, args=(worker,)) for worker in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return time.perf_counter() - began

    pg = postgres_cpu_seconds()
    insert_s = side_by_side(write)
    index_s = side_by_side(build)
    began = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f"ANALYZE {SCRATCH}.{table}")
        analyze_s = time.perf_counter() - began
        rows = {
            table: conn.execute(f"SELECT count(*) FROM {SCRATCH}.{table}").fetchone()[0]  # noqa: S608
            for table in TABLES
        }
        built = conn.execute(
            "SELECT count(*) FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relnamespace = %s::regnamespace AND NOT x.indisunique",
            [SCRATCH],
        ).fetchone()[0]
    cpu = _spent(pg)
    total = insert_s + index_s + analyze_s
    return {
        "conversations": rows["inbox_conversation"],
        "batches": parts,
        "rows": rows,
        "source_rows": source,
        "secondary_indexes": built,
        "insert_s": round(insert_s, 2),
        "index_s": round(index_s, 2),
        "analyze_s": round(analyze_s, 2),
        "per_s": round(rows["inbox_conversation"] / total) if total else None,
        "postgres_cpu_s_machine": cpu,
    }


def bench_load(stack: Stack, quick: bool) -> dict:
    total = 2_000 if quick else 100_000
    clear_conversations(stack)
    generated = generate(stack, total)
    # Quick: batches of 500, so that both connections and the cutting are exercised.
    written = floor(stack.database_url, batch=500 if quick else BATCH)
    return {"conversations": total, "generate_load": generated, "floor": written}


def table_rows(r: dict) -> list[tuple[str, str]]:
    n = f"{r['conversations']:,}"
    g, f = r["generate_load"], r["floor"]
    return [
        (f"generate_load to {n}: conversations/s", g["per_s"]),
        (
            "  CPU s, Python / PostgreSQL (all of it)",
            f"{g['python_cpu_s']} / {g['postgres_cpu_s_machine']}",
        ),
        (f"floor, the same {n} by INSERT ... SELECT: /s", f["per_s"]),
        (
            "  s: inserts / index builds / ANALYZE",
            f"{f['insert_s']} / {f['index_s']} / {f['analyze_s']}",
        ),
        ("  CPU s, PostgreSQL (all of it)", f["postgres_cpu_s_machine"]),
    ]
