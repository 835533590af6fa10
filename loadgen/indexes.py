"""Secondary indexes during a bulk load: dropped (their definitions stashed in a table, so a
killed load restores them on the next run), rebuilt in sorted builds, then ANALYZE."""

import re
from concurrent.futures import ThreadPoolExecutor, as_completed

from django.db import connection, transaction

from loadgen.workers import parallel_ok

BULK_TABLES = [
    "inbox_contact",
    "inbox_contactidentity",
    "inbox_conversation",
    "inbox_message",
    "tagging_conversationtag",
]
STASH = "generate_load_deferred_index"


def is_superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def defer_indexes() -> int:
    """Drop the non-unique secondary indexes of the loaded tables, keeping their definitions in a
    table in the same transaction, so that an interrupted load (even a killed one) restores them
    on the next run. Primary keys and unique indexes stay: they keep the data correct."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {STASH} (name text PRIMARY KEY, definition text)"
        )
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary "
            "AND t.relnamespace = 'public'::regnamespace",
            [BULK_TABLES],
        )
        found = cursor.fetchall()
        for name, definition in found:
            cursor.execute(
                f"INSERT INTO {STASH} VALUES (%s, %s) ON CONFLICT DO NOTHING",  # noqa: S608
                [name, definition],
            )
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    return len(found)


def deferred_count() -> int:
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [STASH])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(f"SELECT count(*) FROM {STASH}")  # noqa: S608
        return cursor.fetchone()[0]


# Biggest builds first, so that the two connections finish together.
BUILD_ORDER = ["inbox_message", "inbox_conversation", "inbox_contactidentity", "inbox_contact"]


def _build_cost(definition: str) -> tuple[bool, int]:
    table = _table_of(definition)
    rank = BUILD_ORDER.index(table) if table in BUILD_ORDER else len(BUILD_ORDER)
    return "USING gin" not in definition, rank


def restore_indexes(progress=None, *, workers: int = 2, analyze_after: bool = False) -> int:
    """Build every index a bulk load dropped (one sorted build each, far cheaper than keeping
    them up to date row by row), then forget the stash. `workers` connections build side by
    side (CREATE INDEX lets other index builds on the table run), the GIN index first: it is
    the longest and PostgreSQL builds it on one core. With `analyze_after`, each loaded table is
    analyzed as soon as its last index is built, while the other connection is still building
    (ANALYZE waits for the builds on its own table, not for the others')."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [STASH])
        if not cursor.fetchone()[0]:
            if analyze_after:
                analyze()
            return 0
        cursor.execute(f"SELECT name, definition FROM {STASH}")  # noqa: S608
        rows = sorted(cursor.fetchall(), key=lambda row: _build_cost(row[1]))

    def build(row) -> None:
        name, definition = row
        if progress:
            progress(name)
        with transaction.atomic(), connection.cursor() as cursor:
            # Nothing is lost if a crash takes the last commits: the stash keeps the index.
            cursor.execute("SET LOCAL synchronous_commit TO off")
            cursor.execute("SET LOCAL maintenance_work_mem TO '512MB'")
            cursor.execute(definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            cursor.execute(f"DELETE FROM {STASH} WHERE name = %s", [name])  # noqa: S608

    def apart(task, *args) -> None:
        try:
            task(*args)
        finally:
            connection.close()  # this thread's connection, back to the pool

    if workers < 2 or not parallel_ok():  # inside a transaction only this connection sees it
        for row in rows:
            build(row)
        if analyze_after:
            analyze()
    else:
        left = {table: 0 for table in BULK_TABLES} if analyze_after else {}
        for row in rows:
            table = _table_of(row[1])
            if table in left:
                left[table] += 1
        with ThreadPoolExecutor(max_workers=workers) as builders:
            builds = {builders.submit(apart, build, row): _table_of(row[1]) for row in rows}
            # Tables that lost no index wait for no build: queued behind the builds.
            analyses = [builders.submit(apart, _analyze, t) for t, n in left.items() if not n]
            for future in as_completed(builds):
                future.result()
                table = builds[future]
                if table in left:
                    left[table] -= 1
                    if not left[table]:
                        analyses.append(builders.submit(apart, _analyze, table))
            for future in analyses:
                future.result()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STASH}")
    return len(rows)


def _table_of(definition: str) -> str | None:
    table = re.search(r" ON (?:public\.)?(\w+) ", definition)
    return table[1] if table else None


def analyze() -> None:
    for table in BULK_TABLES:
        _analyze(table)


def _analyze(table: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
