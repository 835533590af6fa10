"""Keyset (cursor) pagination for the conversation list: the cost of a page does not depend on
how deep it is or on how many conversations there are, and there is no COUNT(*)."""

import base64
import datetime as dt
import json

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from inbox.orderings import ORDERINGS, Ordering

MAX_PAGE_SIZE = 100


def _encode(values: list) -> str:
    raw = json.dumps(values, default=lambda v: v.isoformat()).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if (
            not isinstance(values, list)
            or len(values) != 2
            or not isinstance(values[1], int)
            or not 0 < values[1] < 2**63
        ):
            raise ValueError
        return values
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc


def _coerce(ordering: Ordering, value):
    if value is None:
        return value
    if ordering.field == "severity":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError({"cursor": ["Invalid cursor."]})
        return value
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc


def after(ordering: Ordering, value, pk: int) -> Q:
    """Rows strictly after (value, pk) in this ordering; nulls sort last in both directions."""
    f = ordering.field
    cmp = "lt" if ordering.descending else "gt"
    if value is None:  # inside the trailing block of nulls: only the id moves on
        return Q(**{f"{f}__isnull": True, f"id__{cmp}": pk})
    q = Q(**{f"{f}__{cmp}": value}) | Q(**{f: value, f"id__{cmp}": pk})
    if ordering.nullable:
        q |= Q(**{f"{f}__isnull": True})
    return q


class KeysetPagination:
    page_size = 25

    def paginate(
        self, queryset, request, ordering_key: str, values: tuple[str, ...] = (), annotate=None
    ):
        """The page after the request's cursor: model instances, or dicts of `values` (and of
        `annotate`'s names, computed for the page's rows only)."""
        ordering = ORDERINGS[ordering_key]
        self.request = request
        self.ordering = ordering
        try:
            size = int(request.query_params.get("page_size", self.page_size))
        except ValueError as exc:
            raise ValidationError({"page_size": ["A whole number, 1 to 100."]}) from exc
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationError({"page_size": ["A whole number, 1 to 100."]})
        cursor = request.query_params.get("cursor")
        queryset = queryset.order_by(*ordering.order_by())
        if cursor:
            value, pk = _decode(cursor)
            queryset = queryset.filter(after(ordering, _coerce(ordering, value), pk))
        # The page's ids first, from the filtered rows alone (no join: `.values()` and
        # select_related are not applied yet), then those rows with what they show. A search
        # that sorts its matches (inbox.search) would otherwise join every match to its contact,
        # channel, team and agent before the sort kept a page of them.
        ids = queryset.values("pk")[: size + 1]
        if values:
            # Dict rows: the page's ids carry every filter, so the outer query is the bare table
            # (its filters again only made PostgreSQL plan longer), ordered the same way.
            page = queryset.model._base_manager.filter(pk__in=ids).order_by(*ordering.order_by())
            rows = list(page.annotate(**(annotate or {})).values(*values, *(annotate or {})))
        else:
            rows = list(queryset.filter(pk__in=ids))
        self.has_next = len(rows) > size
        self.page = rows[:size]
        return self.page

    def next_link(self):
        if not self.has_next or not self.page:
            return None
        last = self.page[-1]
        if isinstance(last, dict):  # a .values() page
            cursor = _encode([last[self.ordering.field], last["id"]])
        else:
            cursor = _encode([getattr(last, self.ordering.field), last.pk])
        return replace_query_param(self.request.build_absolute_uri(), "cursor", cursor)

    def get_paginated_response(self, data):
        return Response({"next": self.next_link(), "previous": None, "results": data})
