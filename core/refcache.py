"""Per-process copies of reference rows that every inbound message reads and people rarely edit:
channels, classification and routing rules, SLA and team policies, calendars, webhook endpoints.

One generation number lives in the shared cache (Redis in distributed mode). Saving or deleting a
watched row bumps it at once and again after commit, and drops this process's copies; other
processes notice the new number within CHECK_SECONDS and reload. So an edit reaches every worker
within about a second, and a copy is never kept across the commit that changed its rows.

While a transaction that edited watched rows is open, copies are neither used nor stored (it may
roll back); nor when the shared cache cannot be reached (the database is read every time).
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypedDict

from django.db import connection, transaction

from core.cache import shared as shared_cache

logger = logging.getLogger(__name__)

CHECK_SECONDS = 1.0
KEY = "refcache:generation"

_lock = threading.Lock()
_copies: dict[str, tuple[int, Any]] = {}


class _State(TypedDict):
    generation: int | None
    checked_at: float
    dirty: bool


_state: _State = {"generation": None, "checked_at": 0.0, "dirty": False}


def _shared_generation() -> int | None:
    try:
        value = shared_cache().get(KEY)
        if value is None:
            # First use, or the cache was flushed: start from the clock so a number is never
            # reused for different contents.
            shared_cache().add(KEY, int(time.time() * 1000), timeout=None)
            value = shared_cache().get(KEY)
    except Exception:
        logger.warning("reference cache: shared generation unavailable, reading the database")
        return None
    return value


def _generation() -> int | None:
    now = time.monotonic()
    if _state["generation"] is None or now - _state["checked_at"] >= CHECK_SECONDS:
        _state["generation"] = _shared_generation()
        _state["checked_at"] = now
    return _state["generation"]


def get(name: str, load: Callable[[], Any]) -> Any:
    """The current copy named `name`, loaded with `load()` when missing or outdated. Treat the
    value as read-only: it is shared by every caller in this process."""
    if _state["dirty"]:
        if connection.in_atomic_block:
            return load()
        _state["dirty"] = False
    generation = _generation()
    if generation is None:
        return load()
    with _lock:
        hit = _copies.get(name)
    if hit is not None and hit[0] == generation:
        return hit[1]
    value = load()
    with _lock:
        _copies[name] = (generation, value)
    return value


def _bump_shared() -> None:
    try:
        shared_cache().incr(KEY)
    except ValueError:  # missing (first edit, or the cache was flushed)
        shared_cache().add(KEY, int(time.time() * 1000), timeout=None)
    except Exception:
        logger.warning("reference cache: could not bump the shared generation")


def reset(*, pending: bool = False) -> None:
    """Forget every copy in this process (and the generation last seen); with `pending`, also
    forget that an open transaction edited watched rows (tests roll theirs back)."""
    with _lock:
        _copies.clear()
    _state["generation"], _state["checked_at"] = None, 0.0
    if pending:
        _state["dirty"] = False


def changed(**_kwargs) -> None:
    """Watched rows changed: drop copies here, tell other processes now and after commit."""
    reset()
    _bump_shared()
    if connection.in_atomic_block:
        _state["dirty"] = True
        transaction.on_commit(_after_commit)


def _after_commit() -> None:
    _state["dirty"] = False
    reset()
    _bump_shared()


def watch(*models, ignore_fields: Callable[[Any], bool] | None = None) -> None:
    """Bump the generation whenever a row of one of `models` is saved or deleted, or a
    many-to-many link of it changes. `ignore_fields(update_fields)` may skip saves of columns no
    copy holds (e.g. a round-robin pointer)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    def on_save(sender, update_fields=None, **kwargs):
        if ignore_fields is not None and update_fields and ignore_fields(set(update_fields)):
            return
        changed()

    for model in models:
        post_save.connect(on_save, sender=model, weak=False, dispatch_uid=f"refcache-save-{model}")
        post_delete.connect(
            changed, sender=model, weak=False, dispatch_uid=f"refcache-delete-{model}"
        )
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                changed,
                sender=field.remote_field.through,
                weak=False,
                dispatch_uid=f"refcache-m2m-{model}-{field.name}",
            )
