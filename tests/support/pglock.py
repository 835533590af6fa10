"""Hold PostgreSQL locks from a connection of the test's own, so that the application's next
statement on the locked table or row waits: the instant a fault test acts on ("mid-task", "at
the same time")."""

import psycopg
from django.db import connection


def direct_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=int(s["PORT"] or 5432),
        user=s["USER"] or "postgres",
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
    )


class HeldLock:
    """`HeldLock("LOCK TABLE inbox_message IN ACCESS EXCLUSIVE MODE")` or a `SELECT ... FOR
    UPDATE`; kept until `release()`."""

    def __init__(self, sql: str, params=()):
        self.conn = direct_connection()
        self.conn.execute(sql, params)

    def waiters(self) -> int:
        # pg_locks is read live (pg_stat_activity would be a snapshot for the transaction).
        row = self.conn.execute(
            "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
        ).fetchone()
        return row[0]

    def someone_waits(self) -> bool:
        return self.waiters() > 0

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()
