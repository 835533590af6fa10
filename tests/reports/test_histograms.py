"""Medians and 90th percentiles over large ranges come from the daily duration histograms: they
must agree with the exact figures within the documented bound, and the histograms must follow
every change the rollup refresh sees. Runs on SQLite and PostgreSQL (the suite runs on both)."""

import datetime as dt
import math
import random
from collections import Counter

import pytest
import time_machine
from django.db.models import F

from inbox.models import Conversation
from reports import daily, histograms, metrics, rollups, selectors
from reports.histograms import RELATIVE_ERROR, bucket_of
from reports.models import ConversationFact, DurationHistogram, TeamDurationHistogram
from tests.accounts.factories import AdminFactory, AgentFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ContactFactory
from tests.reports.scenario import WEEK, Week, at

pytestmark = pytest.mark.django_db

FIRST = dt.date(2026, 10, 1)
DAYS = 28


def test_buckets_are_log_spaced_and_hold_their_values():
    assert bucket_of(0) == 0 and bucket_of(0.99) == 0 and bucket_of(1) == 1
    for seconds in (1.5, 59, 3600, 86400 * 3, 86400 * 90):
        low, high = histograms.bounds(bucket_of(seconds))
        assert low <= seconds < high
        assert high / low == pytest.approx(1 + RELATIVE_ERROR, abs=0.001)
    assert bucket_of(10**12) == histograms.LAST
    # Rank interpolation inside one bucket: three equal values read back inside their bucket.
    low, high = histograms.bounds(bucket_of(500))
    assert low <= histograms.percentile({bucket_of(500): 3}, 0.5) < high
    assert histograms.percentile({}, 0.5) is None


def test_the_sql_bucket_is_the_python_bucket():
    seconds = [0, 0.5, 1, 1.0001, 2.7, 59.9, 61, 3599, 3601, 86400, 123456.7, 7_776_000, 1e10]
    rows = _facts(seconds)
    got = dict(
        ConversationFact.objects.filter(pk__in=[r.pk for r in rows])
        .annotate(b=histograms.bucket_expression("resolution_seconds"))
        .values_list("resolution_seconds", "b")
    )
    assert got == {s: bucket_of(s) for s in seconds}


def _facts(resolution_seconds):
    """Conversations with fact rows carrying these resolution times (one day, no team)."""
    channel, contact = ChannelFactory(), ContactFactory()
    when = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    conversations = Conversation.objects.bulk_create(
        Conversation(
            channel=channel,
            contact=contact,
            subject="x",
            created_at=when,
            last_message_at=when,
            last_inbound_at=when,
        )
        for _ in resolution_seconds
    )
    return ConversationFact.objects.bulk_create(
        ConversationFact(
            conversation=c,
            severity=2,
            created_at=when,
            created_day=when.date(),
            resolved_day=when.date(),
            resolution_seconds=s,
        )
        for c, s in zip(conversations, resolution_seconds, strict=True)
    )


@pytest.fixture
def generated(settings):
    """4,000 conversations over four weeks, two teams and three agents, with first response,
    resolution and handle times spread log-normally from seconds to weeks; facts written
    directly, rollups and histograms by the real refresh."""
    settings.REPORTS_TIME_ZONE = "UTC"
    rng = random.Random(90)
    teams = [TeamFactory(slug="north"), TeamFactory(slug="south")]
    agents = [AgentFactory(username=f"agent{i}") for i in range(3)]
    channel, contact = ChannelFactory(), ContactFactory()
    rows = []
    for i in range(4000):
        day = FIRST + dt.timedelta(days=i % DAYS)
        when = dt.datetime.combine(day, dt.time(8 + i % 10), tzinfo=dt.UTC)
        rows.append((day, when, teams[i % 2], agents[i % 3]))
    conversations = Conversation.objects.bulk_create(
        Conversation(
            channel=channel,
            contact=contact,
            team=team,
            assignee=agent,
            subject="x",
            created_at=when,
            last_message_at=when,
            last_inbound_at=when,
        )
        for day, when, team, agent in rows
    )
    facts = []
    for c, (day, when, team, agent) in zip(conversations, rows, strict=True):
        first = rng.lognormvariate(math.log(1800), 1.5)
        resolved = rng.random() < 0.8
        resolution = first + rng.lognormvariate(math.log(20000), 1.2) if resolved else None
        facts.append(
            ConversationFact(
                conversation=c,
                team=team,
                channel=channel,
                assignee=agent,
                severity=1 + c.pk % 4,
                created_at=when,
                created_day=day,
                first_response_day=day,
                first_response_seconds=first,
                resolved_day=day + dt.timedelta(days=int(resolution // 86400))
                if resolved
                else None,
                resolution_seconds=resolution,
                handle_seconds=resolution * rng.uniform(0.3, 1) if resolved else None,
            )
        )
    ConversationFact.objects.bulk_create(facts)
    daily.refresh_days([FIRST + dt.timedelta(days=d) for d in range(DAYS + 60)])
    return AdminFactory()


def _close(estimate, exact):
    assert estimate is not None and exact is not None
    assert abs(estimate - exact) <= RELATIVE_ERROR * exact + 0.1, (estimate, exact)


def _report_with(name, user, settings, exact, **params):
    settings.REPORTS_EXACT_PERCENTILE_LIMIT = 10**9 if exact else 0
    query = {"from": FIRST.isoformat(), "to": (FIRST + dt.timedelta(days=DAYS - 1)).isoformat()}
    query.update(params)
    return metrics.REPORTS[name](user, selectors.parse_filters(query))


@pytest.mark.parametrize("params", [{"group_by": "week"}, {"group_by": "week", "team": "north"}])
def test_histogram_percentiles_agree_with_exact_ones(generated, settings, params):
    exact = _report_with("response-times", generated, settings, True, **params)
    approx = _report_with("response-times", generated, settings, False, **params)
    assert exact["percentiles"] == {"method": "exact", "relative_error": None}
    assert approx["percentiles"] == {"method": "histogram", "relative_error": RELATIVE_ERROR}
    for metric in ("first_response", "resolution"):
        assert approx["totals"][metric]["count"] == exact["totals"][metric]["count"] > 500
        for figure in ("median_seconds", "p90_seconds"):
            _close(approx["totals"][metric][figure], exact["totals"][metric][figure])
        for a, e in zip(approx["rows"], exact["rows"], strict=True):
            assert a["period"] == e["period"]
            assert a[metric]["count"] == e[metric]["count"]
            if e[metric]["count"] >= 100:
                for figure in ("median_seconds", "p90_seconds"):
                    _close(a[metric][figure], e[metric][figure])


def test_histogram_handle_times_per_agent_and_team_agree(generated, settings):
    exact = _report_with("workload", generated, settings, True)
    approx = _report_with("workload", generated, settings, False)
    assert approx["percentiles"]["method"] == "histogram"
    assert exact["percentiles"]["method"] == "exact"
    for group in ("agents", "teams"):
        assert [r["name"] for r in approx[group]] == [r["name"] for r in exact[group]]
        for a, e in zip(approx[group], exact[group], strict=True):
            _close(a["median_handle_seconds"], e["median_handle_seconds"])


def test_small_ranges_stay_exact_and_large_ones_switch(generated, settings):
    settings.REPORTS_EXACT_PERCENTILE_LIMIT = 20_000
    f = selectors.parse_filters(
        {"from": FIRST.isoformat(), "to": (FIRST + dt.timedelta(days=DAYS - 1)).isoformat()}
    )
    assert metrics.response_times(generated, f)["percentiles"]["method"] == "exact"
    settings.REPORTS_EXACT_PERCENTILE_LIMIT = 3000  # 4,000 first responses in range
    assert metrics.response_times(generated, f)["percentiles"]["method"] == "histogram"


def _from_facts() -> Counter:
    """What the histogram rows must hold, recomputed from the facts in Python."""
    from tagging.models import ConversationTag

    tags: dict = {}
    for conversation_id, tag_id in ConversationTag.objects.values_list("conversation_id", "tag_id"):
        tags.setdefault(conversation_id, []).append(tag_id)
    out: Counter = Counter()
    for fact in ConversationFact.objects.all():
        dims = (fact.team_id, fact.channel_id, fact.severity, fact.assignee_id)
        for metric, day, value in (
            (1, fact.first_response_day, fact.first_response_seconds),
            (2, fact.resolved_day, fact.resolution_seconds),
            (3, fact.resolved_day, fact.handle_seconds),
        ):
            if value is None:
                continue
            for tag in [None, *tags.get(fact.conversation_id, [])]:
                out[(day, metric, bucket_of(value), tag, *dims)] += 1
    return out


def _histogram_rows() -> Counter:
    return Counter(
        {
            (day, metric, bucket, tag, *dims): n
            for day, metric, bucket, tag, *dims, n in DurationHistogram.objects.values_list(
                "day",
                "metric",
                "bucket",
                "tag_id",
                "team_id",
                "channel_id",
                "severity",
                "assignee_id",
                F("count"),
            )
        }
    )


def _team_rows_match() -> bool:
    """The per-team histogram holds the full one summed over channels, severities, assignees."""
    summed: Counter = Counter()
    for (*key, team_id, _channel, _severity, _assignee), n in _histogram_rows().items():
        summed[(*key, team_id)] += n
    team = Counter()
    for *key, n in TeamDurationHistogram.objects.values_list(
        "day", "metric", "bucket", "tag_id", "team_id", "count"
    ):
        team[tuple(key)] += n
    return bool(team) and team == summed


def test_refresh_keeps_histograms_consistent_through_reopen_and_resolve(settings):
    from inbox.services import set_status

    settings.REPORTS_TIME_ZONE = "UTC"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    week = Week().play()
    week.roll_up()
    assert _histogram_rows() == _from_facts() and _histogram_rows()
    assert _team_rows_match()
    resolution = DurationHistogram.Metric.RESOLUTION
    before = _histogram_rows()
    # A (resolved Monday) is reopened on the 24th, D (open) resolved the same day.
    with time_machine.travel(at(24, 9), tick=False):
        set_status(conversation_id=week.a.pk, status="open", actor=week.alice)
        set_status(conversation_id=week.d.pk, status="resolved", actor=week.alice)
    week.roll_up(at(24, 9, 1))
    after = _histogram_rows()
    assert after == _from_facts()
    assert after != before
    assert _team_rows_match()
    monday = dt.date(2026, 11, 16)
    assert sum(n for k, n in after.items() if k[:2] == (monday, resolution) and k[3] is None) == 1
    d = ConversationFact.objects.get(pk=week.d.pk)
    assert d.resolved_day == dt.date(2026, 11, 24)
    on_24 = {
        k[2]: n for k, n in after.items() if k[:2] == (d.resolved_day, resolution) and k[3] is None
    }
    assert on_24 == {bucket_of(d.resolution_seconds): 1}
    # The refresh is idempotent and a rebuild gives the same rows.
    week.roll_up(at(24, 9, 2))
    assert _histogram_rows() == after
    with time_machine.travel(at(24, 10), tick=False):
        rollups.rebuild()
    assert _histogram_rows() == after
    assert _team_rows_match()
    # The histogram path of the response-times report reads the new state.
    settings.REPORTS_EXACT_PERCENTILE_LIMIT = 0
    with time_machine.travel(at(24, 12), tick=False):
        data = metrics.response_times(
            week.lead, selectors.parse_filters({"from": WEEK[0], "to": "2026-11-24"})
        )
    assert data["percentiles"]["method"] == "histogram"
    assert (
        data["totals"]["resolution"]["count"]
        == ConversationFact.objects.filter(resolved_day__isnull=False).count()
    )
