"""Who is sending what right now. A worker holds a PostgreSQL session advisory lock on an outbound
message or a webhook delivery while it sends it, and the lock dies with the worker's connection.
So a claim whose lock is free belongs to a worker that was killed mid-send: the redelivered task
(late acks) takes it over at once instead of waiting for the claim to age out. On SQLite
(embedded: one process, tasks in-process) there is no such lock and claims age out as before.
"""

from contextlib import contextmanager

from django.db import connection

OUTBOUND_MESSAGE = 1
WEBHOOK_DELIVERY = 2


@contextmanager
def sending(kind: int, pk: int):
    """Yield True when this process now holds the send lock, False when a live process holds
    it, None when the database has no such locks (SQLite)."""
    if connection.vendor != "postgresql":
        yield None
        return
    key = (kind << 48) | pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
