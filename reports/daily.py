"""The day tables: daily rollups, hourly arrivals and the duration histograms, each day's rows
deleted and recomputed from the facts and the source tables."""

import datetime as dt
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.fields.json import KT
from django.db.models.functions import ExtractHour, TruncDate

from inbox.models import Activity, Conversation, Status
from reports.days import day_bounds, zone
from reports.histograms import bucket_expression
from reports.models import (
    ConversationFact,
    DailyRollup,
    DurationHistogram,
    HourlyArrivals,
    SatisfactionSurvey,
    TeamDurationHistogram,
)
from routing.models import SLAMeasurement

DIMS = ("team_id", "channel_id", "severity", "assignee_id")
COUNTERS = [
    f.name
    for f in DailyRollup._meta.get_fields()
    if f.get_internal_type() == "PositiveIntegerField"
]


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
        # The csat_* counts are CSAT's alone; NPS and CES are read from the surveys themselves.
        csat = SatisfactionSurvey.objects.filter(kind=SatisfactionSurvey.Kind.CSAT)
        sent = csat.filter(sent_at__gte=start, sent_at__lt=end).annotate(
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
        answered = csat.filter(
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
