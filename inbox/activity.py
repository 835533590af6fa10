from django.utils import timezone

from core import bulk, fastpaths
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
    bulk.insert_values(
        Activity,
        [
            {
                "conversation_id": row["conversation_id"],
                "actor_id": row.get("actor_id"),
                "verb": row["verb"],
                "from_value": row.get("from_value"),
                "to_value": row.get("to_value"),
                "reason": row.get("reason", ""),
                "created_at": row.get("created_at") or now,
            }
            for row in rows
        ],
    )
