"""Trigram indexes for the workspace's contact search (inbox.search.contacts_matching), on
PostgreSQL only: its whole-word regular expressions and phone LIKEs read a handful of index
pages instead of every contact (100,000 contacts: ~1 ms for a name, against 60 ms a column).

Built CONCURRENTLY (contacts keep arriving meanwhile). Where pg_trgm cannot be created (a
database role without the right), the migration says so and leaves the indexes out: the search
gives the same answers, scanning. Not in the model state (an expression index with an operator
class SQLite cannot build); SQLite needs nothing."""

import logging

from django.db import DatabaseError, migrations

logger = logging.getLogger(__name__)

INDEXES = {
    "contact_search_trgm": (
        "inbox_contact",
        "((name || ' ' || email || ' ' || phone) gin_trgm_ops)",
    ),
    "identity_search_trgm": ("inbox_contactidentity", "(external_id gin_trgm_ops)"),
}


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        logger.warning("pg_trgm is not available (%s); contact search will scan", exc)
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" USING gin {expression}'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("inbox", "0011_inbound_event_partition")]

    operations = [migrations.RunPython(add_indexes, drop_indexes, elidable=False)]
