"""Many rows of a model in one INSERT on PostgreSQL, sent as one JSON document."""

import json

from django.db import connection
from django.utils import timezone


def insert(model, objects: list, *, computed: dict | None = None, extra: list | None = None):
    """INSERT the unsaved `objects` of `model` in one statement and set their ids; returns them.
    PostgreSQL only.
    The rows travel as one JSON document (jsonb_to_recordset): bulk_create() spent more time
    preparing and binding a parameter per field and row than PostgreSQL spent on the rows.
    `computed`: column -> SQL over the record `u`, whose `extra` keys (one dict per object, names
    starting with "_") are there for it."""
    if not objects:
        return objects
    computed = computed or {}
    fields = [
        f for f in model._meta.concrete_fields if not f.primary_key and f.column not in computed
    ]
    now = timezone.now()
    rows = []
    for n, obj in enumerate(objects):
        for f in fields:
            if getattr(f, "auto_now", False) or (
                getattr(f, "auto_now_add", False) and getattr(obj, f.attname) is None
            ):
                setattr(obj, f.attname, now)
        row = {f.column: getattr(obj, f.attname) for f in fields}
        row["_n"] = n
        if extra:
            row.update(extra[n])
        rows.append(row)
    ids = _insert(
        model, fields, rows, computed=computed, extra_keys=list(extra[0]) if extra else []
    )
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def insert_values(model, rows: list[dict]) -> None:
    """INSERT `rows` of `model`, each a dict of field attnames (every row the same keys, the
    other columns left to the database), in one statement: insert() without model instances,
    for batches so large that building them would cost more than the INSERT. PostgreSQL only."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in rows[0]]
    document = [
        {"_n": n, **{f.column: row[f.attname] for f in fields}} for n, row in enumerate(rows)
    ]
    _insert(model, fields, document, returning=False)


def _insert(model, fields, rows, *, computed=None, extra_keys=(), returning=True):
    """The one INSERT ... SELECT FROM jsonb_to_recordset: columns and their types from the
    model's _meta, the rows (dicts by column, with their order in "_n") as one parameter."""
    computed = computed or {}
    quote = connection.ops.quote_name
    record = [f"{quote(f.column)} {f.db_type(connection)}" for f in fields]
    record += [f"{key} text" for key in extra_keys]
    columns = [quote(f.column) for f in fields] + [quote(column) for column in computed]
    values = [f"u.{quote(f.column)}" for f in fields] + list(computed.values())
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 - names only
        f"SELECT {', '.join(values)} FROM jsonb_to_recordset(%s::jsonb) "
        f"AS u(_n int, {', '.join(record)}) ORDER BY u._n"
    )
    if returning:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, default=_json_value)])
        return [row[0] for row in cursor.fetchall()] if returning else []


def _json_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a row document")
