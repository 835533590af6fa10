"""The reports: volume, response times, SLA, first contact resolution, CSAT, workload, tag
trends, phrases and busiest hours, each a read over the scoped sources of reports.selectors;
REPORTS names them for the page, the CSV downloads and /api/v1/reports/."""

import re
from collections import Counter, defaultdict

from django.conf import settings
from django.db.models import OuterRef, Subquery, Sum

from accounts.models import Team, User
from accounts.permissions import sees_everything
from inbox.access import conversation_scope
from inbox.models import Conversation, Message, Severity
from reports.days import day_bounds
from reports.models import DailyRollup, DurationHistogram, HourlyArrivals, SatisfactionSurvey
from reports.selectors import (
    EXACT,
    HISTOGRAM,
    SLA_TARGETS,
    TOTAL,
    Filters,
    _as_date,
    _by_day,
    _conversation_ids,
    _dimensions,
    _per_period,
    _period_expression,
    _rounded,
    _share,
    duration_stats,
    facts,
    open_breaches,
    period_of,
    periods,
    rollups,
)
from reports.survey_metrics import ces, nps
from tagging.models import Tag

VOLUME = ("created", "resolved", "reopened")


def volume(user, f: Filters) -> dict:
    """Created, resolved and reopened per period, and the backlog (open conversations) at the
    end of each period: everything created minus resolves plus reopens, up to then."""
    base = rollups(user, f, before=True).aggregate(**{n: Sum(n) for n in VOLUME})
    backlog = (base["created"] or 0) - (base["resolved"] or 0) + (base["reopened"] or 0)
    per = _per_period(f, _by_day(rollups(user, f), *VOLUME), VOLUME)
    rows = []
    for period, counts in per.items():
        backlog += counts["created"] - counts["resolved"] + counts["reopened"]
        rows.append({"period": period, **counts, "backlog": backlog})
    totals = {n: sum(r[n] for r in rows) for n in VOLUME}
    totals["backlog"] = backlog
    return {"filters": f.query(), "totals": totals, "rows": rows}


def response_times(user, f: Filters) -> dict:
    """First response and resolution time, median and 90th percentile, per period: first
    responses by the day they were sent, resolutions by the day of the (current) resolution.
    Seconds of business time for conversations whose SLA policy counts business hours."""
    scoped = facts(user, f)
    first = scoped.filter(first_response_day__gte=f.date_from, first_response_day__lte=f.date_to)
    resolved = scoped.filter(resolved_day__gte=f.date_from, resolved_day__lte=f.date_to)
    metric = DurationHistogram.Metric
    first_by, first_method = duration_stats(
        user,
        f,
        metric.FIRST_RESPONSE,
        first.annotate(_period=_period_expression("first_response_day", f.group_by)),
        "first_response_seconds",
        "_period",
        by_period=True,
    )
    resolved_by, resolved_method = duration_stats(
        user,
        f,
        metric.RESOLUTION,
        resolved.annotate(_period=_period_expression("resolved_day", f.group_by)),
        "resolution_seconds",
        "_period",
        by_period=True,
    )
    first_total, resolved_total = first_by.pop(TOTAL, None), resolved_by.pop(TOTAL, None)
    first_by = {_as_date(k): v for k, v in first_by.items()}
    resolved_by = {_as_date(k): v for k, v in resolved_by.items()}
    rows = [
        {
            "period": p,
            "first_response": _rounded(first_by.get(p)),
            "resolution": _rounded(resolved_by.get(p)),
        }
        for p in periods(f)
    ]
    totals = {
        "first_response": _rounded(first_total),
        "resolution": _rounded(resolved_total),
        "business_hours_conversations": resolved.filter(business_hours=True).count(),
    }
    method = HISTOGRAM if HISTOGRAM in (first_method, resolved_method) else EXACT
    return {"filters": f.query(), "totals": totals, "rows": rows, "percentiles": method}


def _sla_columns() -> list[str]:
    return [f"sla_{t}_{k}" for t in SLA_TARGETS for k in ("met", "missed")]


def sla(user, f: Filters) -> dict:
    """SLA compliance per target (share of measured clocks that met their due time), per period,
    and breaches (missed targets) by team and severity. A clock still running past its due time
    (no one has answered yet) counts as missed on the day it fell due."""
    columns = _sla_columns()
    scoped = rollups(user, f)
    by_day = _by_day(scoped, *columns)
    still_open = open_breaches(user, f)
    for row in still_open:
        day = by_day.setdefault(row["day"], dict.fromkeys(columns, 0))
        for c in columns:
            day[c] = (day[c] or 0) + row.get(c, 0)
    per = _per_period(f, by_day, columns)

    def targets(counts: dict) -> dict:
        out = {}
        for target in SLA_TARGETS:
            met, missed = counts[f"sla_{target}_met"], counts[f"sla_{target}_missed"]
            out[target] = {"met": met, "missed": missed, "share_met": _share(met, met + missed)}
        return out

    rows = [{"period": p, **targets(c)} for p, c in per.items()]
    total_counts = {c: sum(r[c] for r in per.values()) for c in columns}
    teams = dict(Team.objects.values_list("pk", "slug"))
    missed: dict = defaultdict(lambda: dict.fromkeys(SLA_TARGETS, 0))
    for row in [
        *scoped.values("team_id", "severity")
        .annotate(**{c: Sum(c) for c in columns if c.endswith("_missed")})
        .order_by(),
        *still_open,
    ]:
        for t in SLA_TARGETS:
            missed[(row["team_id"], row["severity"])][t] += row.get(f"sla_{t}_missed") or 0
    breaches = [
        {
            "team": teams.get(team_id),
            "severity": Severity(severity).label,
            **counts,
            "total": sum(counts.values()),
        }
        for (team_id, severity), counts in missed.items()
        if any(counts.values())
    ]
    breaches.sort(key=lambda b: (-b["total"], b["team"] or "", b["severity"]))
    return {
        "filters": f.query(),
        "totals": targets(total_counts),
        "rows": rows,
        "breaches": breaches,
    }


def first_contact_resolution(user, f: Filters) -> dict:
    """Of the conversations resolved in each period (by their current resolution), the share
    resolved with exactly one agent reply and never reopened."""
    names = ("resolved_conversations", "first_contact_resolutions")
    per = _per_period(f, _by_day(rollups(user, f), *names), names)
    rows = [
        {
            "period": p,
            "resolved": c["resolved_conversations"],
            "first_contact": c["first_contact_resolutions"],
            "rate": _share(c["first_contact_resolutions"], c["resolved_conversations"]),
        }
        for p, c in per.items()
    ]
    resolved = sum(r["resolved"] for r in rows)
    first = sum(r["first_contact"] for r in rows)
    return {
        "filters": f.query(),
        "totals": {"resolved": resolved, "first_contact": first, "rate": _share(first, resolved)},
        "rows": rows,
    }


def _surveys(user, f: Filters):
    qs = SatisfactionSurvey.objects.all()
    if not sees_everything(user) or any((f.team, f.channel, f.tag, f.severity, f.agent)):
        qs = qs.filter(conversation_id__in=_conversation_ids(user, f))
    return qs


SCORES = range(1, 6)


def csat(user, f: Filters) -> dict:
    """Surveys sent and answered per period, the average score of the answers, the response
    rate (of the surveys sent in the range, the share answered so far) and the score spread."""
    names = (
        "csat_sent",
        "csat_sent_answered",
        "csat_answered",
        "csat_score_sum",
        *(f"csat_score_{s}" for s in SCORES),
    )
    per = _per_period(f, _by_day(rollups(user, f), *names), names)
    rows = [
        {
            "period": p,
            "sent": c["csat_sent"],
            "answered": c["csat_answered"],
            "average_score": round(c["csat_score_sum"] / c["csat_answered"], 2)
            if c["csat_answered"]
            else None,
        }
        for p, c in per.items()
    ]
    total = {n: sum(c[n] for c in per.values()) for n in names}
    answered, sent = total["csat_answered"], total["csat_sent"]
    return {
        "filters": f.query(),
        "totals": {
            "sent": sent,
            "answered_of_sent": total["csat_sent_answered"],
            "response_rate": _share(total["csat_sent_answered"], sent),
            "answered": answered,
            "average_score": round(total["csat_score_sum"] / answered, 2) if answered else None,
            "scores": {str(s): total[f"csat_score_{s}"] for s in SCORES},
        },
        "rows": rows,
    }


def csat_comments(user, f: Filters):
    """Answered surveys with a comment in the range, newest first (a queryset to paginate)."""
    start, end = day_bounds(f.date_from)[0], day_bounds(f.date_to)[1]
    return (
        _surveys(user, f)
        .filter(kind=SatisfactionSurvey.Kind.CSAT, answered_at__gte=start, answered_at__lt=end)
        .exclude(comment="")
        .select_related("conversation", "conversation__team", "conversation__assignee", "channel")
        .order_by("-answered_at", "-id")
    )


def workload(user, f: Filters) -> dict:
    """Per agent and per team: assignments received, resolves, and the median handle time (from
    the last assignment, or arrival, to resolution) of the conversations resolved in the range."""
    scoped = rollups(user, f)
    resolved = facts(user, f).filter(resolved_day__gte=f.date_from, resolved_day__lte=f.date_to)
    out: dict = {"percentiles": EXACT}
    for dimension, model, label in (
        ("assignee_id", User, "username"),
        ("team_id", Team, "slug"),
    ):
        counts = {
            row[dimension]: row
            for row in scoped.values(dimension)
            .annotate(assigned=Sum("assigned"), resolved=Sum("resolved"))
            .order_by()
        }
        handle, method = duration_stats(
            user, f, DurationHistogram.Metric.HANDLE, resolved, "handle_seconds", dimension
        )
        handle.pop(TOTAL, None)
        if method is HISTOGRAM:
            out["percentiles"] = HISTOGRAM
        keys = {k for k in set(counts) | set(handle) if k is not None}
        names = dict(model.objects.filter(pk__in=keys).values_list("pk", label))
        rows = []
        for key in keys:
            c = counts.get(key, {})
            h = handle.get(key, {})
            if not (c.get("assigned") or c.get("resolved") or h):
                continue
            rows.append(
                {
                    "name": names.get(key, str(key)),
                    "assigned": c.get("assigned") or 0,
                    "resolved": c.get("resolved") or 0,
                    "median_handle_seconds": None
                    if h.get("median") is None
                    else round(h["median"], 1),
                }
            )
        rows.sort(key=lambda r: (-r["resolved"], -r["assigned"], r["name"]))
        out["agents" if dimension == "assignee_id" else "teams"] = rows
    return {"filters": f.query(), **out}


def tag_trends(user, f: Filters) -> dict:
    """Conversations created per period for each tag (a tag filter narrows to that tag)."""
    qs = DailyRollup.objects.filter(
        conversation_scope(user), day__gte=f.date_from, day__lte=f.date_to, tag__isnull=False
    )
    qs = _dimensions(qs, f)
    if f.tag:
        qs = qs.filter(tag_id=f.tag.pk)
    slugs = dict(Tag.objects.values_list("pk", "slug"))
    grid: dict = {p: defaultdict(int) for p in periods(f)}
    totals: Counter = Counter()
    for day, tag_id, n in (
        qs.values("day", "tag_id").annotate(n=Sum("created")).values_list("day", "tag_id", "n")
    ):
        if not n:
            continue
        slug = slugs.get(tag_id, str(tag_id))
        grid[period_of(day, f.group_by)][slug] += n
        totals[slug] += n
    tags = [slug for slug, _ in totals.most_common()]
    rows = [
        {"period": p, "counts": {t: counts.get(t, 0) for t in tags}} for p, counts in grid.items()
    ]
    return {"filters": f.query(), "tags": tags, "totals": dict(totals), "rows": rows}


_STOPWORDS = """a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just me more
most my no nor not now of off on once only or other our ours out over own please re same she should
so some such than thank thanks that the their them then there these they this those through to too
under until up us very was we were what when where which while who whom why will with would you
your yours hi hello hey also get got like can't don't i'm it's we're you're"""
STOPWORDS = frozenset(_STOPWORDS.split())
WORD = re.compile(r"[a-z0-9][a-z0-9'+-]*")
PHRASE_SAMPLE = 2000


def phrases(user, f: Filters, *, limit: int = 15) -> dict:
    """Recurring two- and three-word phrases in the subject and first message of feature-request
    conversations created in the range (the latest PHRASE_SAMPLE), by how many conversations use
    them; a phrase inside a longer one that is just as frequent is left out."""
    tag = Tag.objects.filter(slug=settings.REPORTS_FEATURE_REQUEST_TAG).first()
    if tag is None:
        return {
            "filters": f.query(),
            "tag": settings.REPORTS_FEATURE_REQUEST_TAG,
            "sampled": 0,
            "phrases": [],
        }
    start, end = day_bounds(f.date_from)[0], day_bounds(f.date_to)[1]
    first_text = Message.objects.filter(
        conversation_id=OuterRef("pk"), direction=Message.Direction.IN
    ).order_by("created_at", "id")
    texts = list(
        _dimensions(Conversation.objects.visible_to(user), f)
        .filter(created_at__gte=start, created_at__lt=end, tag_links__tag_id=tag.pk)
        .annotate(first_text=Subquery(first_text.values("text")[:1]))
        .order_by("-created_at")
        .values_list("subject", "first_text")[:PHRASE_SAMPLE]
    )
    counts: Counter = Counter()
    for subject, text in texts:
        words = WORD.findall(f"{subject or ''}\n{(text or '')[:2000]}".lower())
        seen = set()
        for n in (2, 3):
            for i in range(len(words) - n + 1):
                gram = words[i : i + n]
                if gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
                    continue
                seen.add(" ".join(gram))
        counts.update(seen)
    frequent = [(p, n) for p, n in counts.items() if n >= 2]
    frequent.sort(key=lambda item: (-item[1], -len(item[0].split()), item[0]))
    kept: list = []
    for phrase, n in frequent:
        if any(
            n == m and f" {phrase} " in f" {longer} " for longer, m in frequent if longer != phrase
        ):
            continue
        kept.append({"phrase": phrase, "conversations": n})
        if len(kept) >= limit:
            break
    return {"filters": f.query(), "tag": tag.slug, "sampled": len(texts), "phrases": kept}


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def busiest_hours(user, f: Filters) -> dict:
    """Arrivals (conversations created) by weekday and hour of day, over the range."""
    grid = [[0] * 24 for _ in WEEKDAYS]
    for day, hour, n in (
        rollups(user, f, HourlyArrivals)
        .values("day", "hour")
        .annotate(n=Sum("created"))
        .values_list("day", "hour", "n")
    ):
        grid[day.weekday()][hour] += n or 0
    return {
        "filters": f.query(),
        "time_zone": settings.REPORTS_TIME_ZONE,
        "weekdays": list(WEEKDAYS),
        "rows": [{"weekday": d, "hours": grid[i]} for i, d in enumerate(WEEKDAYS)],
        "total": sum(map(sum, grid)),
    }


REPORTS = {
    "volume": volume,
    "response-times": response_times,
    "sla": sla,
    "first-contact-resolution": first_contact_resolution,
    "csat": csat,
    "workload": workload,
    "tags": tag_trends,
    "phrases": phrases,
    "busiest-hours": busiest_hours,
    "nps": nps,
    "ces": ces,
}
