"""Keep the report tables current: conversation facts and daily rollups.

Everything here is derived, so every function is idempotent: a day's rollup rows are deleted and
recomputed from the source tables in one transaction, a conversation's fact row likewise.
`refresh()` (periodic, Celery beat) reads the outbox (inbox Event rows) since the last run, plus
the last few minutes again so that a transaction committing late is not missed, recomputes the
facts of the conversations those events name and the rollups of every day they touch.
`rebuild()` (python manage.py rebuild_report_rollups) recomputes everything.

Days are days in REPORTS_TIME_ZONE. Dimensions are a conversation's current team, channel,
severity and assignee (and, for tagged rows, each of its tags).

The facts are computed in reports.facts, the day tables in reports.daily, report days in
reports.days; this module keeps them current (refresh, rebuild, ensure_current).
"""

import datetime as dt

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from core import fastpaths
from inbox.models import Activity, Conversation, Event
from reports.daily import DAY_TABLES, refresh_days
from reports.days import day_of, today
from reports.facts import FACT_BATCH, _Calendars, _rebuild_facts_in_sql, refresh_facts
from reports.models import ConversationFact, RollupState, SatisfactionSurvey
from routing.models import SLAMeasurement

OVERLAP = dt.timedelta(minutes=5)
EVENT_BATCH = 20_000


def _state() -> RollupState:
    """The singleton, locked: one refresh or rebuild at a time (two would interleave a day's
    delete and insert)."""
    RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update().get(pk=1)


def _history_days(conversation_ids) -> set[dt.date]:
    """Every day on which these conversations have something a rollup counts: their events
    are counted under their current dimensions, which may just have changed."""
    days = set()
    for at in Activity.objects.filter(
        conversation_id__in=conversation_ids, verb__in=("status", "assigned")
    ).values_list("created_at", flat=True):
        days.add(day_of(at))
    for at in SLAMeasurement.objects.filter(conversation_id__in=conversation_ids).values_list(
        "stopped_at", flat=True
    ):
        days.add(day_of(at))
    for sent, answered in SatisfactionSurvey.objects.filter(
        conversation_id__in=conversation_ids
    ).values_list("sent_at", "answered_at"):
        days.update(day_of(at) for at in (sent, answered) if at)
    return days


@transaction.atomic
def refresh(*, now: dt.datetime | None = None) -> dict:
    """Bring facts and rollups up to date with the outbox. Safe to repeat and to run late."""
    now = now or timezone.now()
    state = _state()
    last = state.last_event_id
    conversation_ids: set[int] = set()
    days: set[dt.date] = set()
    events = Event.objects.filter(Q(pk__gt=last) | Q(created_at__gte=now - OVERLAP)).order_by("pk")
    newest = last
    for pk, conversation_id, created_at in events.values_list(
        "pk", "conversation_id", "created_at"
    ).iterator(chunk_size=EVENT_BATCH):
        newest = max(newest, pk)
        days.add(day_of(created_at))
        if conversation_id:
            conversation_ids.add(conversation_id)
    calendars = _Calendars()
    ids = sorted(conversation_ids)
    for start in range(0, len(ids), FACT_BATCH):
        chunk = ids[start : start + FACT_BATCH]
        days |= refresh_facts(chunk, calendars)
        days |= _history_days(chunk)
    refreshed = refresh_days(days)
    state.last_event_id = newest
    state.refreshed_at = now
    state.save(update_fields=["last_event_id", "refreshed_at"])
    return {"conversations": len(ids), "days": refreshed, "last_event": newest}


@transaction.atomic
def rebuild(*, progress=None) -> dict:
    """Recompute every fact and every day from scratch. `progress(total, unit)` returns an
    object with update(n) (a tqdm bar), or None for no progress display."""
    state = _state()
    newest = Event.objects.aggregate(m=Max("pk"))["m"] or 0
    now = timezone.now()
    ConversationFact.objects.all().delete()
    for model in DAY_TABLES:
        model.objects.all().delete()
    calendars = _Calendars()
    if fastpaths.chosen("REPORTS_SQL_REBUILD"):
        count = Conversation.objects.count()
        bar = progress(count, "conversations") if progress else None
        _rebuild_facts_in_sql(calendars, bar)
    else:
        ids = list(Conversation.objects.order_by("pk").values_list("pk", flat=True))
        count = len(ids)
        bar = progress(count, "conversations") if progress else None
        for start in range(0, count, FACT_BATCH):
            chunk = ids[start : start + FACT_BATCH]
            refresh_facts(chunk, calendars)
            if bar:
                bar.update(len(chunk))
    first = Conversation.objects.order_by("created_at").values_list("created_at", flat=True).first()
    days = []
    if first is not None:
        day, last_day = day_of(first), today()
        while day <= last_day:
            days.append(day)
            day += dt.timedelta(days=1)
    refresh_days(days, progress=progress(len(days), "days") if progress else None)
    state.last_event_id = newest
    state.refreshed_at = state.rebuilt_at = now
    state.save(update_fields=["last_event_id", "refreshed_at", "rebuilt_at"])
    return {"conversations": count, "days": len(days)}


REBUILD_LOCK = "reports:rebuild"
REBUILD_LOCK_SECONDS = 3600


def ensure_current() -> dict:
    """Rebuild when the rollups were never built (a new install, or a migration that added
    columns the refresh cannot fill for past days), else fold in what changed since the last
    run. Setup commands call it so the Reports page shows their data straight away, and so does
    the periodic task, so an upgraded install heals without anyone running a command. Only one
    rebuild runs at a time; a task that finds one running does nothing."""
    from core.cache import shared as shared_cache

    state, _ = RollupState.objects.get_or_create(pk=1)
    if state.rebuilt_at is not None:
        return refresh()
    cache = shared_cache()
    if not cache.add(REBUILD_LOCK, 1, timeout=REBUILD_LOCK_SECONDS):
        return {"rebuild": "already running"}
    try:
        return rebuild()
    finally:
        cache.delete(REBUILD_LOCK)
