"""Fast twins are chosen by settings, never by the database engine.

A fast twin is a second path to the same rows (a set-wise drain, one JSON INSERT for many rows, a
report rebuilt in SQL, the ASGI accept door). Each sits beside the function it mirrors, names it
and its equivalence test in its first docstring line, and is switched by a boolean setting
(config/settings.py, "Fast twins"). The twins that need PostgreSQL's SQL refuse to run elsewhere
instead of quietly taking the plain path, so a test that asks for a twin on SQLite fails loudly
rather than comparing a path with itself.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction


def chosen(name: str, connection=None) -> bool:
    """Whether the fast twin switched by setting `name` is on. It needs PostgreSQL: on another
    database a twin that is on raises ImproperlyConfigured."""
    if not getattr(settings, name):
        return False
    connection = connection or transaction.get_connection()
    if connection.vendor != "postgresql":
        raise ImproperlyConfigured(
            f"{name} needs PostgreSQL; switch it off on {connection.vendor}."
        )
    return True
