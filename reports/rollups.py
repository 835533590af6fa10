"""Keep the report tables current: conversation facts and daily rollups.

Everything here is derived, so every function is idempotent: a day's rollup rows are deleted and
recomputed from the source tables in one transaction, a conversation's fact row likewise.
`refresh()` (periodic, Celery beat) reads the outbox (inbox Event rows) since the last run, plus
the last few minutes again so that a transaction committing late is not missed, recomputes the
facts of the conversations those events name and the rollups of every day they touch.
`rebuild()` (python manage.py rebuild_report_rollups) recomputes everything.

Days are days in REPORTS_TIME_ZONE. Dimensions are a conversation's current team, channel,
severity and assignee (and, for tagged rows, each of its tags).
"""

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q
from django.db.models.fields.json import KT
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from inbox.models import Activity, Conversation, Event, Message, Status
from reports.histograms import bucket_expression
from reports.models import (
    ConversationFact,
    DailyRollup,
    DurationHistogram,
    HourlyArrivals,
    RollupState,
    SatisfactionSurvey,
    TeamDurationHistogram,
)
from routing import hours
from routing.models import SLAMeasurement, SLAPolicy, TeamPolicy

OVERLAP = dt.timedelta(minutes=5)
EVENT_BATCH = 20_000
FACT_BATCH = 2_000
DIMS = ("team_id", "channel_id", "severity", "assignee_id")
COUNTERS = [
    f.name
    for f in DailyRollup._meta.get_fields()
    if f.get_internal_type() == "PositiveIntegerField"
]


def zone() -> ZoneInfo:
    return ZoneInfo(settings.REPORTS_TIME_ZONE)


def day_of(instant: dt.datetime) -> dt.date:
    return instant.astimezone(zone()).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = zone()
    return (
        dt.datetime.combine(day, dt.time.min, tzinfo=tz),
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


def today() -> dt.date:
    return day_of(timezone.now())


# --- facts ----------------------------------------------------------------------------------------


class _Calendars:
    """SLA policies and team calendars, loaded once per refresh."""

    def __init__(self):
        self.policies = {
            p.pk: p for p in SLAPolicy.objects.select_related("business_hours").order_by("id")
        }
        self.team_hours = {
            p.team_id: p.business_hours for p in TeamPolicy.objects.select_related("business_hours")
        }

    def calendar(self, policy_id, team_id):
        """The calendar a conversation's times are counted on: its SLA policy's when the policy
        counts business hours (its own calendar, else the team's), else None (wall clock)."""
        try:
            policy = self.policies.get(int(policy_id)) if policy_id is not None else None
        except (TypeError, ValueError):
            policy = None
        if policy is None or not policy.business_hours_only:
            return None
        if policy.business_hours_id:
            return policy.business_hours
        return self.team_hours.get(team_id)


def refresh_facts(conversation_ids, calendars: _Calendars | None = None) -> set[dt.date]:
    """Recompute the fact rows of these conversations; returns the days whose rollups read them
    (before and after)."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return set()
    calendars = calendars or _Calendars()
    days: set[dt.date] = set()
    for old in ConversationFact.objects.filter(conversation_id__in=ids).values_list(
        "created_day", "first_response_day", "resolved_day"
    ):
        days.update(d for d in old if d)
    rows = list(
        Conversation.objects.filter(pk__in=ids)
        .annotate(policy_id=KT("sla_clock__policy"))
        .values_list(
            "pk",
            "team_id",
            "channel_id",
            "assignee_id",
            "severity",
            "created_at",
            "first_response_at",
            "resolved_at",
            "status",
            "reopened_count",
            "policy_id",
        )
    )
    replies = dict(
        Message.objects.filter(
            conversation_id__in=ids,
            direction=Message.Direction.OUT,
            kind=Message.Kind.MESSAGE,
            sender_user__isnull=False,
        )
        .values("conversation_id")
        .annotate(n=Count("id"))
        .values_list("conversation_id", "n")
    )
    measured = {
        conversation_id: (seconds, business, policy_id)
        for conversation_id, seconds, business, policy_id in SLAMeasurement.objects.filter(
            conversation_id__in=ids, target="first_response"
        )
        .order_by("stopped_at")
        .values_list("conversation_id", "elapsed_seconds", "business_hours", "policy_id")
    }
    assigned = dict(
        Activity.objects.filter(conversation_id__in=ids, verb="assigned")
        .values("conversation_id")
        .annotate(at=Max("created_at"))
        .values_list("conversation_id", "at")
    )
    scores = dict(
        SatisfactionSurvey.objects.filter(conversation_id__in=ids, score__isnull=False).values_list(
            "conversation_id", "score"
        )
    )
    facts = []
    for (
        pk,
        team_id,
        channel_id,
        assignee_id,
        severity,
        created_at,
        first_response_at,
        resolved_at,
        status,
        reopened_count,
        policy_id,
    ) in rows:
        if policy_id is None and pk in measured:
            policy_id = measured[pk][2]
        calendar = calendars.calendar(policy_id, team_id)
        business = calendar is not None and not calendar.always_open
        first_response_seconds = None
        if pk in measured:
            first_response_seconds, business_measured, _ = measured[pk]
            business = business or business_measured
        elif first_response_at is not None:
            first_response_seconds = hours.elapsed(calendar, created_at, first_response_at)
        resolved = status == Status.RESOLVED and resolved_at is not None
        resolution_seconds = handle_seconds = None
        if resolved:
            resolution_seconds = hours.elapsed(calendar, created_at, resolved_at)
            handed = assigned.get(pk)
            if handed is None or handed > resolved_at:
                handed = created_at
            handle_seconds = (resolved_at - handed).total_seconds()
        agent_replies = replies.get(pk, 0)
        fact = ConversationFact(
            conversation_id=pk,
            team_id=team_id,
            channel_id=channel_id,
            assignee_id=assignee_id,
            severity=severity,
            created_at=created_at,
            created_day=day_of(created_at),
            first_response_day=day_of(first_response_at) if first_response_at else None,
            first_response_seconds=first_response_seconds,
            resolved_day=day_of(resolved_at) if resolved else None,
            resolution_seconds=resolution_seconds,
            handle_seconds=handle_seconds,
            business_hours=business,
            agent_replies=agent_replies,
            reopened_count=reopened_count,
            first_contact_resolution=resolved and agent_replies == 1 and reopened_count == 0,
            csat_score=scores.get(pk),
        )
        days.update(d for d in (fact.created_day, fact.first_response_day, fact.resolved_day) if d)
        facts.append(fact)
    with transaction.atomic():
        ConversationFact.objects.filter(conversation_id__in=ids).delete()
        ConversationFact.objects.bulk_create(facts, batch_size=1000)
    return days


# The facts of a range of conversations in one statement (PostgreSQL): what refresh_facts computes,
# for every conversation whose times are wall-clock ones. A conversation whose SLA policy counts
# business hours on a calendar that is not always open (the policy's, else its team's) is left
# out: its business seconds need routing.hours, so rebuild() passes those to refresh_facts.
# The policy is the one the SLA clock names, else the one of its latest first-response
# measurement, like _Calendars.calendar reads them.
CONVERSATIONS_SQL = r"""
WITH c AS (
    SELECT c.*,
           m.elapsed_seconds AS measured_seconds, m.business_hours AS measured_business,
           c.status = %(resolved)s AND c.resolved_at IS NOT NULL AS is_resolved,
           CASE WHEN c.sla_clock ->> 'policy' IS NULL THEN m.policy_id
                WHEN c.sla_clock ->> 'policy' ~ '^\s*[0-9]{1,18}\s*$'
                THEN (c.sla_clock ->> 'policy')::bigint END AS policy_id
    FROM inbox_conversation c
    LEFT JOIN LATERAL (
        SELECT elapsed_seconds, business_hours, policy_id FROM routing_slameasurement
        WHERE conversation_id = c.id AND target = 'first_response'
        ORDER BY stopped_at DESC LIMIT 1
    ) m ON true
    WHERE c.id BETWEEN %(first)s AND %(last)s
), calendars AS (
    SELECT c.id, bh.always_open
    FROM c JOIN routing_slapolicy p ON p.id = c.policy_id AND p.business_hours_only
    LEFT JOIN routing_teampolicy tp ON tp.team_id = c.team_id
    JOIN routing_businesshours bh ON bh.id = coalesce(p.business_hours_id, tp.business_hours_id)
)
"""

FACTS_SQL = (
    CONVERSATIONS_SQL  # noqa: S608 (constants only; the values are parameters)
    + """, replies AS (
    SELECT conversation_id, count(*) AS n FROM inbox_message
    WHERE conversation_id BETWEEN %(first)s AND %(last)s AND direction = 'out'
      AND kind = 'message' AND sender_user_id IS NOT NULL
    GROUP BY conversation_id
), assigned AS (
    SELECT conversation_id, max(created_at) AS at FROM inbox_activity
    WHERE conversation_id BETWEEN %(first)s AND %(last)s AND verb = 'assigned'
    GROUP BY conversation_id
), facts AS (
    SELECT c.*, coalesce(r.n, 0) AS agent_replies, a.at AS assigned_at
    FROM c LEFT JOIN replies r ON r.conversation_id = c.id
    LEFT JOIN assigned a ON a.conversation_id = c.id
    WHERE NOT EXISTS (SELECT 1 FROM calendars k WHERE k.id = c.id AND NOT k.always_open)
)
INSERT INTO reports_conversationfact (
    conversation_id, team_id, channel_id, assignee_id, severity, created_at, created_day,
    first_response_day, first_response_seconds, resolved_day, resolution_seconds, handle_seconds,
    business_hours, agent_replies, reopened_count, first_contact_resolution, csat_score)
SELECT f.id, f.team_id, f.channel_id, f.assignee_id, f.severity, f.created_at,
       (f.created_at AT TIME ZONE %(zone)s)::date,
       (f.first_response_at AT TIME ZONE %(zone)s)::date,
       CASE WHEN f.measured_seconds IS NOT NULL THEN f.measured_seconds
            WHEN f.first_response_at IS NOT NULL
            THEN greatest(extract(epoch FROM f.first_response_at - f.created_at), 0) END,
       CASE WHEN f.is_resolved THEN (f.resolved_at AT TIME ZONE %(zone)s)::date END,
       CASE WHEN f.is_resolved
            THEN greatest(extract(epoch FROM f.resolved_at - f.created_at), 0) END,
       CASE WHEN f.is_resolved THEN extract(epoch FROM f.resolved_at - CASE
            WHEN f.assigned_at IS NULL OR f.assigned_at > f.resolved_at THEN f.created_at
            ELSE f.assigned_at END) END,
       coalesce(f.measured_business, false),
       f.agent_replies, f.reopened_count,
       f.is_resolved AND f.agent_replies = 1 AND f.reopened_count = 0,
       s.score
FROM facts f
LEFT JOIN reports_satisfactionsurvey s ON s.conversation_id = f.id AND s.score IS NOT NULL
"""
)

# The conversations of a range that FACTS_SQL leaves to refresh_facts.
BUSINESS_HOURS_SQL = (
    CONVERSATIONS_SQL  # noqa: S608 (constants only)
    + "SELECT k.id FROM calendars k WHERE NOT k.always_open ORDER BY k.id"
)

SQL_FACT_SPAN = 50_000


def _rebuild_facts_in_sql(calendars: _Calendars, bar) -> None:
    """Every fact row, set-wise (PostgreSQL): FACTS_SQL over ranges of SQL_FACT_SPAN ids, the
    business-hours conversations of each range through refresh_facts."""
    bounds = Conversation.objects.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return
    for first in range(bounds["first"], bounds["last"] + 1, SQL_FACT_SPAN):
        args = {
            "first": first,
            "last": first + SQL_FACT_SPAN - 1,
            "zone": settings.REPORTS_TIME_ZONE,
            "resolved": Status.RESOLVED,
        }
        with connection.cursor() as cursor:
            cursor.execute(FACTS_SQL, args)
            done = cursor.rowcount
            cursor.execute(BUSINESS_HOURS_SQL, args)
            business = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(business), FACT_BATCH):
            refresh_facts(business[start : start + FACT_BATCH], calendars)
        if bar:
            bar.update(done + len(business))


# --- daily rollups ----------------------------------------------------------------------------------


def _status_events():
    return Activity.objects.filter(verb="status")


def _resolves():
    return _status_events().filter(to_value=Status.RESOLVED)


def _reopens():
    return _status_events().filter(from_value=Status.RESOLVED).exclude(to_value=Status.RESOLVED)


def _grouping(
    qs, prefix: str, *, tagged: bool, extra=(), tag_path: str | None = None, **aggregates
):
    """`qs` grouped by the dimensions (reached through `prefix`, selected as _team_id, ...), and
    by tag (_tag) when `tagged`, and by `extra`, with the aggregates."""
    names = {f"_{d}": F(f"{prefix}{d}") for d in DIMS}
    if tagged:
        path = tag_path if tag_path is not None else prefix
        qs = qs.filter(**{f"{path}tag_links__isnull": False})
        names["_tag"] = F(f"{path}tag_links__tag_id")
    qs = qs.annotate(**names)
    keys = (["_tag"] if tagged else []) + [f"_{d}" for d in DIMS] + list(extra)
    return qs.values(*keys).annotate(**aggregates).order_by()


def _grouped(qs, prefix: str, *, tagged: bool, extra=(), tag_path: str | None = None, **aggregates):
    """_grouping()'s rows; yields ((tag_id, team_id, channel_id, severity, assignee_id), row)."""
    grouped = _grouping(qs, prefix, tagged=tagged, extra=extra, tag_path=tag_path, **aggregates)
    for row in grouped:
        key = (row["_tag"] if tagged else None, *(row[f"_{d}"] for d in DIMS))
        yield key, row


HISTOGRAMS = (
    (DurationHistogram.Metric.FIRST_RESPONSE, "first_response_day", "first_response_seconds"),
    (DurationHistogram.Metric.RESOLUTION, "resolved_day", "resolution_seconds"),
    (DurationHistogram.Metric.HANDLE, "resolved_day", "handle_seconds"),
)

HISTOGRAM_INSERT = """
INSERT INTO reports_durationhistogram
    (day, metric, bucket, tag_id, team_id, channel_id, severity, assignee_id, count)
SELECT "_day", %s, "_bucket", {tag}, "_team_id", "_channel_id", "_severity", "_assignee_id", "n"
FROM ({grouped}) AS grouped
"""


def _insert_histograms(first: dt.date, last: dt.date) -> None:
    """The duration histogram rows of the days first..last, from the facts, bucketed and
    counted in the database (INSERT ... SELECT: a month at a million conversations is a quarter
    of a million rows, too many to carry through Python)."""
    for metric, day_field, value in HISTOGRAMS:
        facts = ConversationFact.objects.filter(
            **{f"{day_field}__gte": first, f"{day_field}__lte": last, f"{value}__isnull": False}
        ).annotate(_day=F(day_field), _bucket=bucket_expression(value))
        for tagged in (False, True):
            grouped = _grouping(
                facts,
                "",
                tagged=tagged,
                tag_path="conversation__",
                extra=("_day", "_bucket"),
                n=Count("conversation_id"),
            )
            sql, params = grouped.query.sql_with_params()
            insert = HISTOGRAM_INSERT.format(tag='"_tag"' if tagged else "NULL", grouped=sql)
            with connection.cursor() as cursor:
                cursor.execute(insert, [int(metric), *params])


def _compute_days(first: dt.date, last: dt.date, usernames: dict) -> tuple[list, list]:
    """The rollup and hourly-arrival rows of the days first..last, from the source tables: one
    query per source grouped by day, so rebuilding a year costs a dozen queries per month."""
    start, end = day_bounds(first)[0], day_bounds(last)[1]
    counts: dict = defaultdict(lambda: defaultdict(int))
    arrivals: dict = defaultdict(int)
    tz = zone()
    in_range = {"created_at__gte": start, "created_at__lt": end}
    via = "conversation__"
    on_day = TruncDate("created_at", tzinfo=tz)

    def add(day, key, name, n):
        counts[(day, *key)][name] += n

    for tagged in (False, True):
        conversations = Conversation.objects.filter(**in_range).annotate(
            hour=ExtractHour("created_at", tzinfo=tz), _day=on_day
        )
        for key, row in _grouped(
            conversations, "", tagged=tagged, extra=("_day", "hour"), n=Count("id")
        ):
            add(row["_day"], key, "created", row["n"])
            arrivals[(row["_day"], *key, row["hour"])] += row["n"]
        for name, qs in (("resolved", _resolves()), ("reopened", _reopens())):
            for key, row in _grouped(
                qs.filter(**in_range).annotate(_day=on_day),
                via,
                tagged=tagged,
                extra=("_day",),
                n=Count("id"),
            ):
                add(row["_day"], key, name, row["n"])
        facts = ConversationFact.objects.filter(resolved_day__gte=first, resolved_day__lte=last)
        for key, row in _grouped(
            facts.annotate(_day=F("resolved_day")),
            "",
            tagged=tagged,
            tag_path=via,
            extra=("_day",),
            n=Count("conversation_id"),
            fcr=Count("conversation_id", filter=Q(first_contact_resolution=True)),
        ):
            add(row["_day"], key, "resolved_conversations", row["n"])
            add(row["_day"], key, "first_contact_resolutions", row["fcr"])
        measurements = SLAMeasurement.objects.filter(
            stopped_at__gte=start, stopped_at__lt=end
        ).annotate(_day=TruncDate("stopped_at", tzinfo=tz))
        for key, row in _grouped(
            measurements, via, tagged=tagged, extra=("_day", "target", "met"), n=Count("id")
        ):
            outcome = "met" if row["met"] else "missed"
            add(row["_day"], key, f"sla_{row['target']}_{outcome}", row["n"])
        sent = SatisfactionSurvey.objects.filter(sent_at__gte=start, sent_at__lt=end).annotate(
            _day=TruncDate("sent_at", tzinfo=tz)
        )
        for key, row in _grouped(
            sent,
            via,
            tagged=tagged,
            extra=("_day",),
            n=Count("id"),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
        ):
            add(row["_day"], key, "csat_sent", row["n"])
            add(row["_day"], key, "csat_sent_answered", row["answered"])
        answered = SatisfactionSurvey.objects.filter(
            answered_at__gte=start, answered_at__lt=end, score__isnull=False
        ).annotate(_day=TruncDate("answered_at", tzinfo=tz))
        for key, row in _grouped(
            answered, via, tagged=tagged, extra=("_day", "score"), n=Count("id")
        ):
            add(row["_day"], key, "csat_answered", row["n"])
            add(row["_day"], key, "csat_score_sum", row["score"] * row["n"])
            add(row["_day"], key, f"csat_score_{row['score']}", row["n"])
        assignments = (
            Activity.objects.filter(verb="assigned", **in_range)
            .annotate(who=KT("to_value__assignee"), _day=on_day)
            .exclude(who__isnull=True)
        )
        for key, row in _grouped(
            assignments, via, tagged=tagged, extra=("_day", "who"), n=Count("id")
        ):
            user_id = usernames.get(row["who"])
            if user_id is not None:
                add(row["_day"], (*key[:4], user_id), "assigned", row["n"])
    rollups = [
        DailyRollup(
            day=_as_date(key[0]),
            tag_id=key[1],
            team_id=key[2],
            channel_id=key[3],
            severity=key[4],
            assignee_id=key[5],
            **values,
        )
        for key, values in counts.items()
        if any(values.values())
    ]
    hourly = [
        HourlyArrivals(
            day=_as_date(key[0]),
            tag_id=key[1],
            team_id=key[2],
            channel_id=key[3],
            severity=key[4],
            assignee_id=key[5],
            hour=key[6],
            created=n,
        )
        for key, n in arrivals.items()
    ]
    return rollups, hourly


def _as_date(value) -> dt.date:
    if isinstance(value, str):  # SQLite
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


RUN_DAYS = 31


def _runs(days) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days in runs of at most RUN_DAYS."""
    runs: list = []
    for day in sorted(set(days)):
        if (
            runs
            and day - runs[-1][1] == dt.timedelta(days=1)
            and (day - runs[-1][0]).days < RUN_DAYS
        ):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [tuple(r) for r in runs]


def _usernames() -> dict:
    from accounts.models import User

    return dict(User.objects.values_list("username", "pk"))


DAY_TABLES = (DailyRollup, HourlyArrivals, DurationHistogram, TeamDurationHistogram)

TEAM_HISTOGRAM_SQL = """
INSERT INTO reports_teamdurationhistogram (day, metric, bucket, tag_id, team_id, count)
SELECT day, metric, bucket, tag_id, team_id, sum(count)
FROM reports_durationhistogram WHERE day >= %s AND day <= %s
GROUP BY day, metric, bucket, tag_id, team_id
"""


def refresh_days(days, *, progress=None) -> int:
    """Recompute the rollups of these days (each run of days replaced in one transaction);
    returns how many days."""
    usernames = _usernames()
    done = 0
    for first, last in _runs(days):
        rollups, hourly = _compute_days(first, last, usernames)
        with transaction.atomic():
            for model in DAY_TABLES:
                model.objects.filter(day__gte=first, day__lte=last).delete()
            DailyRollup.objects.bulk_create(rollups, batch_size=2000)
            HourlyArrivals.objects.bulk_create(hourly, batch_size=2000)
            _insert_histograms(first, last)
            with connection.cursor() as cursor:
                cursor.execute(TEAM_HISTOGRAM_SQL, [first, last])
        span = (last - first).days + 1
        done += span
        if progress:
            progress.update(span)
    return done


# --- keeping current ---------------------------------------------------------------------------


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
    if connection.vendor == "postgresql":
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
