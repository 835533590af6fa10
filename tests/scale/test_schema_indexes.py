"""Every index costs each insert of its table; each one must answer something no other does."""

import pytest
from django.apps import apps
from django.db import connection

OURS = {"accounts", "inbox", "tagging", "routing", "reports", "integrations"}
# Tables that grow with traffic: an arrival, a reply, a delivery or a rule writes them.
BUSY = {
    "inbox_contact", "inbox_contactidentity", "inbox_conversation", "inbox_message",
    "inbox_activity", "inbox_event", "inbox_inboundevent", "tagging_conversationtag",
    "tagging_tagsuggestion", "routing_slaalert", "integrations_webhookdelivery",
}  # fmt: skip


def our_tables() -> set[str]:
    return {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=False)
        if model._meta.app_label in OURS and model._meta.managed
    }


def btree_indexes() -> list[tuple]:
    """(table, index, key column numbers, operator classes, unique) of each plain btree index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, i.relname, x.indkey::int2[], "
            "ARRAY(SELECT o.opcname FROM unnest(x.indclass::oid[]) WITH ORDINALITY AS c(oid, n) "
            "JOIN pg_opclass o ON o.oid = c.oid ORDER BY c.n), x.indisunique "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_am a ON a.oid = i.relam "
            "WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace "
            "AND a.amname = 'btree' AND x.indpred IS NULL "
            "AND x.indexprs IS NULL",
            [sorted(our_tables())],
        )
        return cursor.fetchall()


@pytest.mark.postgres
def test_no_index_repeats_the_leading_columns_of_a_wider_one(db):
    indexes = btree_indexes()
    assert len(indexes) > 40  # the query sees the schema
    repeated = [
        f"{name} repeats {other} on {table}"
        for table, name, keys, classes, unique in indexes
        for other_table, other, other_keys, other_classes, _ in indexes
        if table == other_table
        and name != other
        and not unique  # a unique one is a constraint, not only a lookup
        and len(keys) <= len(other_keys)
        and list(other_keys[: len(keys)]) == list(keys)
        and list(other_classes[: len(classes)]) == list(classes)
    ]
    assert repeated == []


@pytest.mark.postgres
def test_busy_tables_keep_no_prefix_search_twins(db):
    twins = [
        name
        for table, name, _, classes, _ in btree_indexes()
        if table in BUSY and any(c.endswith("_pattern_ops") for c in classes)
    ]
    assert twins == []
