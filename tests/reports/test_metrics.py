"""Every report over the known week (tests/reports/scenario.py), against numbers worked out by
hand. The same expectations hold on SQLite (percentiles in Python) and PostgreSQL
(percentile_cont): the suite runs on both."""

import datetime as dt

import pytest
import time_machine

from inbox.outbound.replies import send_reply
from reports import metrics, rollups, selectors
from reports.models import ConversationFact, DailyRollup
from tests.reports.scenario import WEEK, Week, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def week(settings):
    settings.REPORTS_TIME_ZONE = "UTC"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    w = Week().play()
    w.roll_up()
    return w


def report(name, user, **params):
    params.setdefault("from", WEEK[0])
    params.setdefault("to", WEEK[1])
    with time_machine.travel(at(23, 12), tick=False):
        return metrics.REPORTS[name](user, selectors.parse_filters(params))


def by_period(rows):
    return {str(r["period"]): r for r in rows}


def test_volume_counts_creates_resolves_reopens_and_the_backlog(week):
    data = report("volume", week.lead)
    rows = by_period(data["rows"])
    assert [rows[d]["created"] for d in sorted(rows)] == [1, 1, 1, 1, 0, 0, 0]
    assert [rows[d]["resolved"] for d in sorted(rows)] == [2, 1, 1, 1, 0, 0, 0]
    assert [rows[d]["reopened"] for d in sorted(rows)] == [0, 0, 1, 0, 0, 0, 0]
    # B was open before the week: 1; Mon +A -A -B = 0; Tue +C -C = 0; Wed +D +C -C = 1 ...
    assert [rows[d]["backlog"] for d in sorted(rows)] == [0, 0, 1, 1, 1, 1, 1]
    assert data["totals"] == {"created": 4, "resolved": 5, "reopened": 1, "backlog": 1}


def test_volume_by_week_and_by_month(week):
    weekly = report("volume", week.lead, group_by="week")["rows"]
    assert [(str(r["period"]), r["created"], r["backlog"]) for r in weekly] == [
        ("2026-11-16", 4, 1)
    ]
    monthly = report("volume", week.lead, **{"from": "2026-11-01", "to": "2026-11-30"})
    assert monthly["totals"]["created"] == 5  # B too, on the 13th
    by_month = report(
        "volume", week.lead, group_by="month", **{"from": "2026-11-01", "to": "2026-11-30"}
    )
    assert [(str(r["period"]), r["created"], r["resolved"]) for r in by_month["rows"]] == [
        ("2026-11-01", 5, 5)
    ]


def test_first_response_and_resolution_times_in_business_hours(week):
    data = report("response-times", week.lead)
    # FRT: E 1200 (sales: wall clock), C 1800, A 7200, B 9000 business seconds (66.5 h wall).
    assert data["totals"]["first_response"] == {
        "count": 4,
        "median_seconds": 4500.0,  # (1800 + 7200) / 2
        "p90_seconds": 8460.0,  # 7200 + 0.7 * (9000 - 7200)
    }
    # Resolution: E 3600, A 10800, B 18000, C 28800 (first arrival to final resolve).
    assert data["totals"]["resolution"] == {
        "count": 4,
        "median_seconds": 14400.0,
        "p90_seconds": 25560.0,  # 18000 + 0.7 * (28800 - 18000)
    }
    assert data["totals"]["business_hours_conversations"] == 3  # A, B, C; not E
    rows = by_period(data["rows"])
    assert rows["2026-11-16"]["first_response"] == {
        "count": 2,
        "median_seconds": 8100.0,
        "p90_seconds": 8820.0,
    }
    assert rows["2026-11-18"]["resolution"]["median_seconds"] == 28800.0
    assert rows["2026-11-20"]["first_response"] == {
        "count": 0,
        "median_seconds": None,
        "p90_seconds": None,
    }


def test_fact_rows_hold_the_measured_times(week):
    b = ConversationFact.objects.get(conversation=week.b)
    assert b.first_response_seconds == 9000.0
    assert b.business_hours is True
    assert b.created_day == dt.date(2026, 11, 13)
    e = ConversationFact.objects.get(conversation=week.e)
    assert (e.first_response_seconds, e.business_hours) == (1200.0, False)


def test_sla_compliance_per_target_and_breaches_by_team_and_severity(week):
    data = report("sla", week.lead)
    assert data["totals"] == {
        "first_response": {"met": 3, "missed": 2, "share_met": 0.6},  # B missed, D still open
        "next_response": {"met": 1, "missed": 0, "share_met": 1.0},  # C after the reopen
        "resolution": {"met": 5, "missed": 0, "share_met": 1.0},  # C measured twice
    }
    assert data["breaches"] == [
        {
            "team": "support",
            "severity": "normal",
            "first_response": 2,
            "next_response": 0,
            "resolution": 0,
            "total": 2,
        }
    ]
    assert by_period(data["rows"])["2026-11-16"]["first_response"]["share_met"] == 0.5


def test_a_breach_no_one_answered_yet_counts_on_the_day_it_fell_due_and_once(week):
    # D (support, business hours): created Wed 12:00 UTC, first response due Wed 14:00 UTC.
    rows = by_period(report("sla", week.lead)["rows"])
    assert rows["2026-11-18"]["first_response"] == {"met": 0, "missed": 1, "share_met": 0.0}
    assert report("sla", week.bob)["totals"]["first_response"]["missed"] == 0  # sales only
    with time_machine.travel(at(18, 13), tick=False):  # an hour before it falls due: not yet
        early = metrics.sla(week.lead, selectors.parse_filters({"from": WEEK[0], "to": WEEK[1]}))
    assert early["totals"]["first_response"]["missed"] == 1  # B only
    with time_machine.travel(at(23, 10), tick=False):  # answered at last: missed, on the 23rd
        send_reply(conversation_id=week.d.pk, actor=week.alice, text="Sorry for the wait.")
    week.roll_up()
    data = report("sla", week.lead, to="2026-11-23")
    assert data["totals"]["first_response"]["missed"] == 2  # B and D, D not twice
    assert by_period(data["rows"])["2026-11-18"]["first_response"]["missed"] == 0


def test_first_contact_resolution(week):
    data = report("first-contact-resolution", week.lead)
    # Resolved in the week: A (1 reply), B (2 replies), C (reopened), E (1 reply).
    assert data["totals"] == {"resolved": 4, "first_contact": 2, "rate": 0.5}
    rows = by_period(data["rows"])
    assert (rows["2026-11-16"]["resolved"], rows["2026-11-16"]["first_contact"]) == (2, 1)
    assert rows["2026-11-16"]["rate"] == 0.5
    assert rows["2026-11-19"]["rate"] == 1.0
    assert rows["2026-11-17"]["rate"] is None  # C's first resolve no longer stands


def test_csat_average_response_rate_and_comments(week):
    data = report("csat", week.lead)
    assert data["totals"] == {
        "sent": 4,  # A, B, C (once, though resolved twice), E
        "answered_of_sent": 2,
        "response_rate": 0.5,
        "answered": 2,
        "average_score": 3.5,
        "scores": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }
    rows = by_period(data["rows"])
    assert (rows["2026-11-16"]["sent"], rows["2026-11-16"]["answered"]) == (2, 1)  # A, B
    assert rows["2026-11-18"]["average_score"] == 2.0
    with time_machine.travel(at(23, 12), tick=False):
        comments = list(
            metrics.csat_comments(week.lead, selectors.parse_filters({"from": WEEK[0]}))
        )
    assert [(c.conversation_id, c.score, c.comment) for c in comments] == [
        (week.c.pk, 2, "Had to write twice"),
        (week.a.pk, 5, "Quick and kind"),
    ]


def test_workload_per_agent_and_team(week):
    data = report("workload", week.lead)
    # alice: assigned A and C in the week (B on the 13th); resolves A, B, C twice.
    # handle: A 11:00-08:05 = 10500 s, C Wed 10:00 - Tue 10:05 = 86100 s,
    #         B Mon 12:00 - Fri 15:10 = 247800 s: median 86100.
    assert data["agents"] == [
        {"name": "alice", "assigned": 2, "resolved": 4, "median_handle_seconds": 86100.0},
        {"name": "bob", "assigned": 1, "resolved": 1, "median_handle_seconds": 3300.0},
    ]
    assert data["teams"] == [
        {"name": "support", "assigned": 2, "resolved": 4, "median_handle_seconds": 86100.0},
        {"name": "sales", "assigned": 1, "resolved": 1, "median_handle_seconds": 3300.0},
    ]


def test_tag_trends_per_week_and_recurring_phrases(week):
    data = report("tags", week.lead, group_by="week")
    assert data["tags"] == ["feature-request", "incident"]
    assert [(str(r["period"]), r["counts"]) for r in data["rows"]] == [
        ("2026-11-16", {"feature-request": 2, "incident": 1})
    ]
    phrases = report("phrases", week.lead)
    assert phrases["sampled"] == 2
    assert phrases["phrases"] == [{"phrase": "dark mode", "conversations": 2}]


def test_busiest_hours_heatmap(week):
    data = report("busiest-hours", week.lead)
    grid = {r["weekday"]: r["hours"] for r in data["rows"]}
    assert grid["Mon"][8] == 1 and grid["Tue"][10] == 1
    assert grid["Wed"][12] == 1 and grid["Thu"][9] == 1
    assert data["total"] == 4


def test_filters_narrow_every_report(week):
    sales = report("volume", week.lead, team="sales")
    assert sales["totals"] == {"created": 1, "resolved": 1, "reopened": 0, "backlog": 0}
    incident = report("volume", week.lead, tag="incident")
    assert incident["totals"] == {"created": 1, "resolved": 2, "reopened": 1, "backlog": 0}
    assert (
        report("response-times", week.lead, tag="incident")["totals"]["resolution"][
            "median_seconds"
        ]
        == 28800.0
    )
    assert report("first-contact-resolution", week.lead, agent="bob")["totals"]["rate"] == 1.0
    assert report("csat", week.lead, channel="sales-mail")["totals"]["sent"] == 1
    assert report("sla", week.lead, severity="high")["totals"]["first_response"]["met"] == 0


def test_an_agent_sees_their_own_teams_only(week):
    bob = report("volume", week.bob)
    assert bob["totals"]["created"] == 1  # E, sales
    assert [r["name"] for r in report("workload", week.bob)["agents"]] == ["bob"]
    alice = report("response-times", week.alice)
    assert alice["totals"]["first_response"]["count"] == 3  # A, B, C


def test_refresh_is_idempotent_and_rebuild_gives_the_same_rows(week):
    def snapshot():
        return sorted(
            repr(sorted((k, v) for k, v in row.items() if k != "id"))
            for row in DailyRollup.objects.values()
        )

    first = snapshot()
    week.roll_up()
    assert snapshot() == first
    with time_machine.travel(at(23, 12), tick=False):
        rollups.rebuild()
    assert snapshot() == first


def test_a_later_change_reaches_the_rollups_on_the_next_refresh(week):
    from inbox.services import set_status

    with time_machine.travel(at(24, 9), tick=False):
        set_status(conversation_id=week.d.pk, status="resolved", actor=week.alice)
    week.roll_up(at(24, 9, 1))
    data = report("volume", week.lead, to="2026-11-24")
    assert data["totals"]["backlog"] == 0
    assert by_period(data["rows"])["2026-11-24"]["resolved"] == 1
