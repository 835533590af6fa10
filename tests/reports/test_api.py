"""/api/v1/reports/...: JSON, CSV downloads, input errors, scope, schema; the Reports page."""

import csv
import io

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from reports.models import ConversationFact, DailyRollup, RollupState
from reports.rollups import rebuild
from tests.reports.scenario import WEEK, Week, at

pytestmark = pytest.mark.django_db
RANGE = f"from={WEEK[0]}&to={WEEK[1]}"


@pytest.fixture
def week(settings):
    settings.REPORTS_TIME_ZONE = "UTC"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    w = Week().play()
    w.roll_up()
    return w


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def get(user, path):
    with time_machine.travel(at(23, 12), tick=False):
        return client_for(user).get(path)


def test_volume_over_the_api(week):
    response = get(week.lead, f"/api/v1/reports/volume/?{RANGE}&group_by=week")
    assert response.status_code == 200
    body = response.json()
    assert body["filters"] == {"from": WEEK[0], "to": WEEK[1], "group_by": "week"}
    assert body["rows"] == [
        {"period": "2026-11-16", "created": 4, "resolved": 5, "reopened": 1, "backlog": 1}
    ]


def test_every_report_answers_json(week):
    for name in (
        "response-times",
        "sla",
        "first-contact-resolution",
        "csat",
        "workload",
        "tags",
        "phrases",
        "busiest-hours",
    ):
        response = get(week.lead, f"/api/v1/reports/{name}/?{RANGE}")
        assert response.status_code == 200, name
    body = get(week.lead, f"/api/v1/reports/response-times/?{RANGE}").json()
    assert body["totals"]["first_response"]["median_seconds"] == 4500.0


def test_comments_are_paginated(week):
    body = get(week.lead, f"/api/v1/reports/csat/comments/?{RANGE}&limit=1").json()
    assert body["count"] == 2
    assert [c["comment"] for c in body["results"]] == ["Had to write twice"]
    assert body["results"][0]["team"] == "support"
    assert body["next"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-13-01", "from"),
        ("from=2026-11-20&to=2026-11-01", "from"),
        ("from=2020-01-01&to=2026-11-01", "from"),
        ("group_by=year", "group_by"),
        ("team=nope", "team"),
        ("severity=urgent", "severity"),
        ("agent=ghost", "agent"),
    ],
)
def test_bad_filters_are_a_clear_400(week, query, field):
    response = get(week.lead, f"/api/v1/reports/volume/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filter"
    assert body["field"] == field
    assert body["detail"]


def test_reports_need_a_login():
    assert APIClient().get("/api/v1/reports/volume/").status_code in (401, 403)
    assert APIClient().get("/api/v1/reports/volume/export.csv").status_code in (401, 403)


def test_an_agent_gets_their_scope_over_the_api(week):
    body = get(week.bob, f"/api/v1/reports/volume/?{RANGE}").json()
    assert body["totals"]["created"] == 1


def rows_of(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_downloads(week):
    volume = rows_of(get(week.lead, f"/api/v1/reports/volume/export.csv?{RANGE}"))
    assert volume[0] == ["period", "created", "resolved", "reopened", "backlog"]
    assert volume[1] == ["2026-11-16", "1", "2", "0", "0"]
    assert len(volume) == 8
    times = rows_of(get(week.lead, f"/api/v1/reports/response-times/export.csv?{RANGE}"))
    assert times[1][:4] == ["2026-11-16", "2", "8100.0", "8820.0"]
    breaches = rows_of(get(week.lead, f"/api/v1/reports/sla-breaches/export.csv?{RANGE}"))
    assert breaches[1] == ["support", "normal", "2", "0", "0", "2"]  # B, and D never answered
    heat = rows_of(get(week.lead, f"/api/v1/reports/busiest-hours/export.csv?{RANGE}"))
    assert heat[1][0] == "Mon" and heat[1][1 + 8] == "1"
    tags = rows_of(get(week.lead, f"/api/v1/reports/tags/export.csv?{RANGE}"))
    assert ["2026-11-16", "feature-request", "2"] in tags
    comments = rows_of(get(week.lead, f"/api/v1/reports/csat-comments/export.csv?{RANGE}"))
    assert comments[1][3:5] == ["2", "Had to write twice"]
    assert get(week.lead, "/api/v1/reports/nope/export.csv").status_code == 404


def test_csv_cells_cannot_run_as_formulas(week):
    from reports import services
    from tests.reports.scenario import survey_token

    with time_machine.travel(at(20, 9), tick=False):
        services.answer_survey(token=survey_token(week.e), score=1, comment="=HYPERLINK(1)")
    rows = rows_of(get(week.lead, f"/api/v1/reports/csat-comments/export.csv?{RANGE}"))
    assert any(r[4] == "'=HYPERLINK(1)" for r in rows)


def test_the_schema_documents_the_reports(week):
    schema = APIClient().get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/reports/volume/",
        "/api/v1/reports/response-times/",
        "/api/v1/reports/sla/",
        "/api/v1/reports/csat/comments/",
        "/api/v1/reports/{report}/export.csv",
    ):
        assert path in schema["paths"], path
    params = {p["name"] for p in schema["paths"]["/api/v1/reports/volume/"]["get"]["parameters"]}
    assert {"from", "to", "group_by", "team", "channel", "tag", "severity", "agent"} <= params


def test_the_reports_page_renders_every_chart_with_its_csv(week, client):
    client.force_login(week.lead)
    with time_machine.travel(at(23, 12), tick=False):
        page = client.get(f"/reports/?{RANGE}")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("volume", "response-times", "sla", "csat", "workload", "busiest-hours"):
        assert f'data-chart="{name}"' in html
        assert f"/api/v1/reports/{name}/export.csv?" in html
    assert 'id="data-volume" type="application/json"' in html
    assert "<script>" not in html  # the CSP forbids inline script; data travels as JSON blocks
    assert "Had to write twice" in html
    bad = client.get("/reports/?from=yesterday")
    assert bad.status_code == 400
    assert "from must be a date" in bad.content.decode()


def test_the_nav_links_to_reports(week, client):
    client.force_login(week.alice)
    assert 'href="/reports/"' in client.get("/inbox/").content.decode()


def test_rebuild_command_shows_progress_and_rebuilds(week, capsys):
    DailyRollup.objects.all().delete()
    ConversationFact.objects.all().delete()
    with time_machine.travel(at(23, 12), tick=False):
        call_command("rebuild_report_rollups")
    out = capsys.readouterr()
    assert "Rebuilt report rollups: 5 conversations" in out.out
    assert "conversations" in out.err and "100%" in out.err
    assert ConversationFact.objects.count() == 5
    assert RollupState.objects.get().rebuilt_at is not None
    body = get(week.lead, f"/api/v1/reports/volume/?{RANGE}").json()
    assert body["totals"] == {"created": 4, "resolved": 5, "reopened": 1, "backlog": 1}


def test_the_refresh_is_on_the_beat_schedule(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["report-rollups"]
    assert entry["task"] == "reports.tasks.refresh_rollups"
    app.loader.import_default_modules()
    assert "reports.tasks.refresh_rollups" in app.tasks


def test_the_task_folds_in_new_changes(week):
    from inbox.services import set_status
    from reports.tasks import refresh_rollups

    with time_machine.travel(at(23, 12), tick=False):
        rebuild()  # built once, as seed_demo or the first periodic run leaves them
        assert refresh_rollups.apply().get()["conversations"] == 0  # nothing new: no work
        set_status(conversation_id=week.d.pk, status="resolved", actor=week.alice)
    with time_machine.travel(at(23, 12, 1), tick=False):
        result = refresh_rollups.apply().get()
    assert result["conversations"] == 1
    assert (
        ConversationFact.objects.get(conversation=week.d).resolved_day.isoformat() == "2026-11-23"
    )


def test_the_task_rebuilds_rollups_a_migration_marked_stale(week):
    """An upgrade that adds rollup columns marks the rollups stale; the periodic task rebuilds
    them once, then goes back to folding in changes."""
    from core.cache import shared as shared_cache
    from reports.rollups import REBUILD_LOCK
    from reports.tasks import refresh_rollups

    RollupState.objects.update_or_create(pk=1, defaults={"rebuilt_at": None})
    shared_cache().add(REBUILD_LOCK, 1, timeout=60)  # another worker is rebuilding
    with time_machine.travel(at(23, 12), tick=False):
        assert refresh_rollups.apply().get() == {"rebuild": "already running"}
    shared_cache().delete(REBUILD_LOCK)
    with time_machine.travel(at(23, 12), tick=False):
        refresh_rollups.apply().get()
    assert RollupState.objects.get(pk=1).rebuilt_at is not None
    assert ConversationFact.objects.filter(conversation=week.d).exists()
    with time_machine.travel(at(23, 12, 1), tick=False):
        assert refresh_rollups.apply().get()["conversations"] == 0
