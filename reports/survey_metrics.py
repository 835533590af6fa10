"""The NPS and CES reports, read from the surveys themselves (reports.models.SatisfactionSurvey;
CSAT has its own daily rollups, reports.metrics.csat).

NPS: of the answers (0-10), the percentage of promoters (9-10) minus the percentage of detractors
(0-6), from -100 to 100; passives (7-8) count only in the total. CES: the average of the answers
(1-7, higher is easier) and how many gave each score. Both per period (weekly on the page), and per
team, agent (the conversation's current team and assignee, as every report counts them), channel
and tag (a conversation with two tags counts in both). Answers count on the day they were given,
surveys sent on the day they went out, days in REPORTS_TIME_ZONE.

A few thousand answers a week at most (one survey per customer per SURVEY_MIN_INTERVAL_DAYS), so
these are grouped counts over the survey table, a query per grouping, never a row per survey.
"""

from collections import Counter, defaultdict

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from accounts.models import Team, User
from accounts.permissions import sees_everything
from inbox.models import Channel
from reports.days import day_bounds, zone
from reports.models import SatisfactionSurvey
from reports.selectors import Filters, _as_date, _conversation_ids, _share, period_of, periods
from reports.surveys import SCALES
from tagging.models import Tag

Kind = SatisfactionSurvey.Kind
PROMOTER_FROM = 9  # 9 and 10
DETRACTOR_UP_TO = 6  # 0 to 6

# grouping: (the model its ids name, the name shown)
BREAKDOWNS = {
    "team": (Team, "slug"),
    "agent": (User, "username"),
    "channel": (Channel, "slug"),
    "tag": (Tag, "slug"),
}


def nps_of(scores: Counter) -> dict:
    """Answers, promoters, passives, detractors and the NPS (None without answers) of a
    {score: count} tally of 0-10 answers."""
    answered = sum(scores.values())
    promoters = sum(n for score, n in scores.items() if score >= PROMOTER_FROM)
    detractors = sum(n for score, n in scores.items() if score <= DETRACTOR_UP_TO)
    return {
        "answered": answered,
        "promoters": promoters,
        "passives": answered - promoters - detractors,
        "detractors": detractors,
        "nps": round(100 * (promoters - detractors) / answered, 1) if answered else None,
    }


def ces_of(scores: Counter) -> dict:
    """Answers, the average score (None without answers) and the count of each score 1-7."""
    answered = sum(scores.values())
    total = sum(score * n for score, n in scores.items())
    return {
        "answered": answered,
        "average": round(total / answered, 2) if answered else None,
        "distribution": {str(s): scores.get(s, 0) for s in SCALES[Kind.CES].scores},
    }


def _scoped(user, f: Filters, kind: str):
    qs = SatisfactionSurvey.objects.filter(kind=kind)
    if not sees_everything(user) or any((f.team, f.channel, f.tag, f.severity, f.agent)):
        qs = qs.filter(conversation_id__in=_conversation_ids(user, f))
    return qs


def _tallies(qs, keys: tuple) -> dict:
    """{value of the key (a tuple of values for several keys): Counter({score: answers})}."""
    out: dict = defaultdict(Counter)
    for *found, score, n in (
        qs.values(*keys, "score")
        .annotate(n=Count("id"))
        .order_by()
        .values_list(*keys, "score", "n")
    ):
        out[found[0] if len(keys) == 1 else tuple(found)][score] += n
    return out


def _fold(tallies: dict, position: int) -> dict:
    """Tallies keyed by tuples, summed over one position of the tuple."""
    out: dict = defaultdict(Counter)
    for key, scores in tallies.items():
        out[key[position]].update(scores)
    return out


def _survey_report(user, f: Filters, kind: str, summarize) -> dict:
    start, end = day_bounds(f.date_from)[0], day_bounds(f.date_to)[1]
    scoped = _scoped(user, f, kind)
    answered = scoped.filter(answered_at__gte=start, answered_at__lt=end, score__isnull=False)
    by_period: dict = {p: Counter() for p in periods(f)}
    for day, scores in _tallies(
        answered.annotate(_day=TruncDate("answered_at", tzinfo=zone())), ("_day",)
    ).items():
        by_period[period_of(_as_date(day), f.group_by)].update(scores)
    sent_by_period: Counter = Counter()
    sent_total = sent_answered = 0
    for day, n, done in (
        scoped.filter(sent_at__gte=start, sent_at__lt=end)
        .annotate(_day=TruncDate("sent_at", tzinfo=zone()))
        .values("_day")
        .annotate(n=Count("id"), done=Count("id", filter=Q(answered_at__isnull=False)))
        .order_by()
        .values_list("_day", "n", "done")
    ):
        sent_by_period[period_of(_as_date(day), f.group_by)] += n
        sent_total += n
        sent_answered += done
    all_scores: Counter = sum(by_period.values(), Counter())
    rows = [
        {"period": p, "sent": sent_by_period[p], **summarize(scores)}
        for p, scores in by_period.items()
    ]
    breakdown = {}
    # Team and agent in one pass over the conversations; the tag pass joins only tagged ones.
    by_person = _tallies(answered, ("conversation__team_id", "conversation__assignee_id"))
    tallies_of = {
        "team": _fold(by_person, 0),
        "agent": _fold(by_person, 1),
        "channel": _tallies(answered, ("channel_id",)),
        "tag": _tallies(
            answered.filter(conversation__tag_links__isnull=False),
            ("conversation__tag_links__tag_id",),
        ),
    }
    for grouping, (model, label) in BREAKDOWNS.items():
        tallies = tallies_of[grouping]
        names = dict(
            model.objects.filter(pk__in=[k for k in tallies if k is not None]).values_list(
                "pk", label
            )
        )
        found = [
            {"name": names.get(k, str(k)) if k is not None else None, **summarize(scores)}
            for k, scores in tallies.items()
        ]
        found.sort(key=lambda r: (-r["answered"], r["name"] or ""))
        breakdown[grouping] = found
    scale = SCALES[kind]
    return {
        "filters": f.query(),
        "totals": {
            "sent": sent_total,
            "answered_of_sent": sent_answered,
            "response_rate": _share(sent_answered, sent_total),
            **summarize(all_scores),
            # Every score of the scale, also for NPS, whose rows show only the three groups.
            "distribution": {str(s): all_scores.get(s, 0) for s in scale.scores},
        },
        "rows": rows,
        "breakdown": breakdown,
    }


def nps(user, f: Filters) -> dict:
    """Net Promoter Score per period and per team, agent, channel and tag (see the module)."""
    return _survey_report(user, f, Kind.NPS, nps_of)


def ces(user, f: Filters) -> dict:
    """Customer Effort Score: average and spread per period and per team, agent, channel, tag."""
    return _survey_report(user, f, Kind.CES, ces_of)
