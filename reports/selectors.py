"""The report numbers: every read the Reports page, its CSV downloads and /api/v1/reports/ make.

Counts come from the daily rollups. Medians and 90th percentiles: over ranges holding fewer than
settings.REPORTS_EXACT_PERCENTILE_LIMIT values, exactly from the conversation facts (PostgreSQL
computes percentile_cont; SQLite, the embedded database, has none, so the values are fetched and
interpolated the same way in Python); over larger ranges from the daily duration histograms
(reports.histograms: within one log-spaced bucket, about 5 %, of the exact value), which costs a
sum over a few hundred buckets a day instead of sorting every fact. The reports say which.
Everything is scoped like the inbox: accounts.permissions.conversation_scope applies to the
rollup, histogram and fact tables unchanged.

This module holds what every report shares (filters, periods, scoped sources, percentiles);
the reports themselves are in reports.metrics (REPORTS names them).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Sum, Value
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from accounts.models import Team, User
from accounts.permissions import sees_everything
from inbox.access import conversation_scope
from inbox.models import OPEN_STATUSES, Channel, Conversation, Severity
from reports import histograms
from reports.days import day_bounds, today, zone
from reports.models import ConversationFact, DailyRollup, DurationHistogram, TeamDurationHistogram
from tagging.models import ConversationTag, Tag

GROUPINGS = ("day", "week", "month")
WEEKLY = ("tags", "nps", "ces")  # reports grouped by week unless group_by says otherwise
MAX_DAYS = 731
PERCENTILES = (0.5, 0.9)
SLA_TARGETS = ("first_response", "next_response", "resolution")


class FilterError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Filters:
    date_from: dt.date
    date_to: dt.date
    group_by: str = "day"
    team: Team | None = None
    channel: Channel | None = None
    tag: Tag | None = None
    severity: int | None = None
    agent: User | None = None

    def query(self) -> dict:
        """The filters as query parameters (for links: CSV downloads, the API)."""
        out = {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "group_by": self.group_by,
        }
        for name, value in (
            ("team", getattr(self.team, "slug", None)),
            ("channel", getattr(self.channel, "slug", None)),
            ("tag", getattr(self.tag, "slug", None)),
            ("severity", Severity(self.severity).label if self.severity else None),
            ("agent", getattr(self.agent, "username", None)),
        ):
            if value:
                out[name] = value
        return out


def _date(params, name: str, default: dt.date) -> dt.date:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise FilterError(name, f"{name} must be a date like 2026-01-31, not {raw!r}.") from None


def _lookup(params, name: str, model, field: str):
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    found = model.objects.filter(**{field: raw}).first()
    if found is None:
        raise FilterError(name, f"There is no {name} {raw!r}.")
    return found


def parse_filters(params, *, default_group: str = "day") -> Filters:
    """Filters from query parameters: from, to (dates, inclusive; default the last 30 days),
    group_by (day, week, month), team, channel, tag (slugs), severity (name), agent (username).
    Raises FilterError naming the parameter."""
    date_to = _date(params, "to", today())
    date_from = _date(params, "from", date_to - dt.timedelta(days=29))
    if date_from > date_to:
        raise FilterError("from", "from must be on or before to.")
    if (date_to - date_from).days >= MAX_DAYS:
        raise FilterError("from", f"A report covers at most {MAX_DAYS} days.")
    group_by = (params.get("group_by") or default_group).strip()
    if group_by not in GROUPINGS:
        raise FilterError("group_by", "group_by must be day, week or month.")
    severity = (params.get("severity") or "").strip()
    try:
        severity_rank = Severity.from_name(severity).value if severity else None
    except ValueError:
        raise FilterError(
            "severity", "severity must be one of " + ", ".join(s.label for s in Severity) + "."
        ) from None
    return Filters(
        date_from=date_from,
        date_to=date_to,
        group_by=group_by,
        team=_lookup(params, "team", Team, "slug"),
        channel=_lookup(params, "channel", Channel, "slug"),
        tag=_lookup(params, "tag", Tag, "slug"),
        severity=severity_rank,
        agent=_lookup(params, "agent", User, "username"),
    )


# --- periods --------------------------------------------------------------------------------------


def period_of(day: dt.date, group_by: str) -> dt.date:
    if group_by == "week":
        return day - dt.timedelta(days=day.weekday())
    if group_by == "month":
        return day.replace(day=1)
    return day


def periods(f: Filters) -> list[dt.date]:
    out, day = [], f.date_from
    while day <= f.date_to:
        start = period_of(day, f.group_by)
        if not out or out[-1] != start:
            out.append(start)
        day += dt.timedelta(days=1)
    return out


# --- scoped sources ------------------------------------------------------------------------------


def _dimensions(qs, f: Filters):
    if f.team:
        qs = qs.filter(team_id=f.team.pk)
    if f.channel:
        qs = qs.filter(channel_id=f.channel.pk)
    if f.severity:
        qs = qs.filter(severity=f.severity)
    if f.agent:
        qs = qs.filter(assignee_id=f.agent.pk)
    return qs


def rollups(user, f: Filters, model=DailyRollup, *, before: bool = False):
    """Rollup rows in the range (or, with before=True, every day before it), scoped and filtered.
    Without a tag filter, the untagged rows (every conversation once)."""
    qs = model.objects.filter(conversation_scope(user))
    qs = (
        qs.filter(day__lt=f.date_from)
        if before
        else qs.filter(day__gte=f.date_from, day__lte=f.date_to)
    )
    qs = qs.filter(tag_id=f.tag.pk) if f.tag else qs.filter(tag__isnull=True)
    return _dimensions(qs, f)


def facts(user, f: Filters):
    qs = _dimensions(ConversationFact.objects.filter(conversation_scope(user)), f)
    if f.tag:
        qs = qs.filter(
            conversation_id__in=ConversationTag.objects.filter(tag_id=f.tag.pk).values(
                "conversation_id"
            )
        )
    return qs


def _conversation_ids(user, f: Filters):
    """The conversations a user may see that match the dimension filters, as a subquery."""
    qs = _dimensions(Conversation.objects.visible_to(user), f)
    if f.tag:
        qs = qs.filter(tag_links__tag_id=f.tag.pk)
    return qs.values("pk")


def open_breaches(user, f: Filters) -> list[dict]:
    """Breaches no one has answered yet: running clocks (of open conversations the user may see,
    matching the filters) whose due time has passed, as rows of day (the due time's, in the
    report zone), team_id, severity and one sla_<target>_missed count per target; the rollups
    count a clock only once it stops, so these are added to them."""
    now = timezone.now()
    start, end = day_bounds(f.date_from)[0], day_bounds(f.date_to)[1]
    conversations = _dimensions(
        Conversation.objects.visible_to(user).filter(status__in=OPEN_STATUSES), f
    )
    if f.tag:
        conversations = conversations.filter(tag_links__tag_id=f.tag.pk)
    out = []
    for target in SLA_TARGETS:
        due = f"{target}_due"
        late = conversations.filter(**{f"{due}__gte": start, f"{due}__lt": min(end, now)})
        for row in (
            late.annotate(day=TruncDate(due, tzinfo=zone()))
            .values("day", "team_id", "severity")
            .annotate(n=Count("pk", distinct=True))
            .order_by()
        ):
            out.append(
                {
                    "day": _as_date(row["day"]),
                    "team_id": row["team_id"],
                    "severity": row["severity"],
                    f"sla_{target}_missed": row["n"],
                }
            )
    return out


def _by_day(qs, *names) -> dict:
    return {
        row["day"]: row
        for row in qs.values("day").annotate(**{n: Sum(n) for n in names}).order_by("day")
    }


def _per_period(f: Filters, by_day: dict, names) -> dict:
    out = {p: dict.fromkeys(names, 0) for p in periods(f)}
    for day, row in by_day.items():
        bucket = out[period_of(day, f.group_by)]
        for n in names:
            bucket[n] += row[n] or 0
    return out


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- percentiles -------------------------------------------------------------------------------


def percentile_cont(sorted_values: list, fraction: float) -> float | None:
    """The same interpolation as PostgreSQL's percentile_cont, on a sorted list."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower = int(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * (position - lower)


TOTAL = "__total__"


def percentiles(qs, value: str, group: str | None = None, *, with_total: bool = False) -> dict:
    """{group value: {"count": n, "median": s, "p90": s}} of a float column, nulls left out;
    without a group, or with with_total, the overall figures under the key TOTAL. One pass over
    the rows: PostgreSQL computes percentile_cont per GROUPING SET, elsewhere Python does."""
    qs = qs.filter(**{f"{value}__isnull": False})
    out: dict = {}
    if connection.vendor == "postgresql":
        base = qs.annotate(_v=F(value), _g=F(group) if group else Value(0)).values("_g", "_v")
        sql, params = base.query.sql_with_params()
        sets = "(_g), ()" if group and with_total else "(_g)"
        fractions = ", ".join(
            f"percentile_cont({float(p)}) WITHIN GROUP (ORDER BY _v)" for p in PERCENTILES
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # A 90-day range sorts a few hundred thousand values: in memory, not on disk.
            cursor.execute(f"SET LOCAL work_mem = '{int(settings.REPORTS_SORT_MEMORY_MB)}MB'")
            cursor.execute(
                f"SELECT GROUPING(_g), _g, count(_v), {fractions} "  # noqa: S608 - no input
                f"FROM ({sql}) AS facts GROUP BY GROUPING SETS ({sets})",
                params,
            )
            rows = cursor.fetchall()
        for total, key, n, median, p90 in rows:
            if n:
                key = TOTAL if (total or not group) else key
                out[key] = {"count": n, "median": median, "p90": p90}
        return out
    values = defaultdict(list)
    for key, found in qs.values_list(group or Value(0), value):
        if group:
            values[key].append(found)
        if with_total or not group:
            values[TOTAL].append(found)
    for key, found in values.items():
        found.sort()
        out[key] = {
            "count": len(found),
            "median": percentile_cont(found, PERCENTILES[0]),
            "p90": percentile_cont(found, PERCENTILES[1]),
        }
    return out


EXACT = {"method": "exact", "relative_error": None}
HISTOGRAM = {"method": "histogram", "relative_error": histograms.RELATIVE_ERROR}


def histogram_rows(user, f: Filters, metric: int, *, per_agent: bool = False):
    """Duration histogram rows of one metric in the range, scoped and filtered like rollups:
    from the per-team table (far fewer rows) unless the user's scope, the channel, severity or
    agent filter, or the grouping (per_agent) needs the other dimensions."""
    model = DurationHistogram
    if sees_everything(user) and not (f.channel or f.severity or f.agent or per_agent):
        model = TeamDurationHistogram
    return rollups(user, f, model).filter(metric=metric)


def duration_stats(
    user, f: Filters, metric: int, exact, value: str, group: str, *, by_period: bool = False
) -> tuple[dict, dict]:
    """percentiles() of `value` grouped by `group` with the total under TOTAL, and the method
    used: from the histograms of `metric` when the range holds at least
    REPORTS_EXACT_PERCENTILE_LIMIT values, else exactly from `exact` (facts in the range, with
    `group` annotated). With by_period the histogram days are summed into the filter's periods."""
    key = "day" if by_period else group
    counts: dict = defaultdict(lambda: defaultdict(int))
    total: dict = defaultdict(int)
    n = 0
    for found, bucket, count in (
        histogram_rows(user, f, metric, per_agent=key == "assignee_id")
        .values(key, "bucket")
        .annotate(n=Sum("count"))
        .values_list(key, "bucket", "n")
    ):
        if by_period:
            found = period_of(found, f.group_by)
        counts[found][bucket] += count
        total[bucket] += count
        n += count
    if n < settings.REPORTS_EXACT_PERCENTILE_LIMIT:
        return percentiles(exact, value, group, with_total=True), EXACT
    out = {k: histograms.summary(c) for k, c in counts.items()}
    out[TOTAL] = histograms.summary(total)
    return {k: v for k, v in out.items() if v}, HISTOGRAM


def _period_expression(field: str, group_by: str):
    if group_by == "week":
        return TruncWeek(field)
    if group_by == "month":
        return TruncMonth(field)
    return F(field)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def _rounded(stats: dict | None) -> dict:
    stats = stats or {}
    return {
        "count": stats.get("count", 0),
        "median_seconds": None if stats.get("median") is None else round(stats["median"], 1),
        "p90_seconds": None if stats.get("p90") is None else round(stats["p90"], 1),
    }
