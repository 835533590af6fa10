import json

from django.db import transaction
from django.utils import timezone

from core import fastpaths
from inbox.models import Activity, Conversation


def record(
    *,
    conversation: Conversation,
    actor,
    verb: str,
    from_value=None,
    to_value=None,
    reason: str = "",
) -> Activity:
    """Write one audit row. Called by services inside their transaction, nowhere else."""
    return Activity.objects.create(
        conversation=conversation,
        actor=actor if getattr(actor, "pk", None) else None,
        verb=verb,
        from_value=from_value,
        to_value=to_value,
        reason=reason,
        created_at=timezone.now(),
    )


INSERT_ACTIVITIES = (
    "INSERT INTO inbox_activity (conversation_id, actor_id, verb, from_value, to_value, reason, "
    "created_at) SELECT c, a, v, f, t, r, at FROM jsonb_to_recordset(%s::jsonb) AS u(c bigint, "
    "a bigint, v text, f jsonb, t jsonb, r text, at timestamptz)"
)


def record_many(rows: list[dict]) -> None:
    """Fast twin of record() for many rows (BULK_JSON_INSERT), held to it by tests/inbox/test_activity.py.

    Write many audit rows at once (bulk actions), inside the caller's transaction. Each row is
    a dict of Activity fields (conversation_id, actor_id, verb, from_value, to_value, reason,
    created_at): ten thousand model instances would cost more than the INSERT. With BULK_JSON_INSERT
    one INSERT of the whole batch sent as one JSON document; otherwise bulk_create (held to the
    same rows by tests/inbox/test_activity.py::test_record_many_writes_the_rows_of_record)."""
    if not rows:
        return
    if not fastpaths.chosen("BULK_JSON_INSERT"):
        Activity.objects.bulk_create([Activity(**row) for row in rows], batch_size=2000)
        return
    now = timezone.now()
    batch = [
        {
            "c": row["conversation_id"],
            "a": row.get("actor_id"),
            "v": row["verb"],
            "f": row.get("from_value"),
            "t": row.get("to_value"),
            "r": row.get("reason", ""),
            "at": (row.get("created_at") or now).isoformat(),
        }
        for row in rows
    ]
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(INSERT_ACTIVITIES, [json.dumps(batch)])
