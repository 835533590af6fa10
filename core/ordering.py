"""Rows an admin puts in order by hand (a `position` column, lower first; ties by id), routing and
classification rules, and rows switched on and off (`is_active`), those and SLA policies. Callers
check who may."""

from typing import TypeVar

from django.db import models, transaction
from django.db.models import Max

M = TypeVar("M", bound=models.Model)
STEP = 10  # room between neighbours, so a row can be placed between two without renumbering


def next_position(model: type[models.Model]) -> int:
    """The position that puts a new row after every row of `model`."""
    last = model._default_manager.aggregate(last=Max("position"))["last"]
    return (last or 0) + STEP


@transaction.atomic
def move(model: type[models.Model], row: models.Model, *, up: bool) -> None:
    """Swap `row` with the one before (up) or after it; positions become 10, 20, ... Locks every
    row of `model` while it renumbers."""
    ordered = list(model._default_manager.select_for_update().order_by("position", "id"))
    at = next(i for i, r in enumerate(ordered) if r.pk == row.pk)
    other = at - 1 if up else at + 1
    if 0 <= other < len(ordered):
        ordered[at], ordered[other] = ordered[other], ordered[at]
    for i, each in enumerate(ordered, start=1):
        if each.position != i * STEP:  # type: ignore[attr-defined]
            each.position = i * STEP  # type: ignore[attr-defined]
            each.save(update_fields=["position"])


def set_active(row: M, *, active: bool) -> M:
    """Switch `row` on or off; saves that one field."""
    row.is_active = active  # type: ignore[attr-defined]
    row.save(update_fields=["is_active"])
    return row
