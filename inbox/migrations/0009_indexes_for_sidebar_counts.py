"""Indexes for the sidebar's capped counts.

A covering partial index of the open conversations: every built-in view counts open
conversations the user may see (team or assignee), some of them with a tag. With the scope
columns in the index each sub-count is an index-only scan, and a tag view merges it with the
(tag, conversation) links in conversation order instead of visiting a heap page per candidate
row: alice's twelve counts took 97 ms at 100,000 conversations and 2.5 s at 1,000,000, now 16 ms
and about 120 ms (EXPLAIN ANALYZE; the README has the conditions). PostgreSQL only: SQLite has no
INCLUDE, and the embedded inbox is small.

The response-due indexes only hold open conversations: SLA at risk (open, a due time within the
hour) then reads the two due ranges alone, where the planner ANDed them with a bitmap of every
open conversation (80 ms at 1,000,000). Due times only matter while a conversation is open, and
the indexes shrink to the open fifth of the table."""

from django.db import migrations, models


def create_open_scope(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS conv_open_scope ON inbox_conversation (id) "
        "INCLUDE (team_id, assignee_id, sla_breached, arrived_outside_hours) "
        "WHERE status = 'open'"
    )


def drop_open_scope(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS conv_open_scope")


def open_due_index(column: str) -> models.Index:
    return models.Index(
        condition=models.Q((f"{column}__isnull", False), ("status", "open")),
        fields=[column],
        name=f"conv_{column}",
    )


class Migration(migrations.Migration):
    dependencies = [("inbox", "0008_conversation_indexes_for_sweep_and_sidebar")]
    operations = [
        migrations.RunPython(create_open_scope, drop_open_scope),
        migrations.RemoveIndex(model_name="conversation", name="conv_first_response_due"),
        migrations.RemoveIndex(model_name="conversation", name="conv_next_response_due"),
        migrations.AddIndex(model_name="conversation", index=open_due_index("first_response_due")),
        migrations.AddIndex(model_name="conversation", index=open_due_index("next_response_due")),
    ]
