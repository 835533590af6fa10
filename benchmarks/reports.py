"""The reports step: `python -m benchmarks --only reports`.

Populates a history of conversations spread over SPAN_DAYS days up to now (1,000,000 at full
size; with messages, assignments, resolves, reopens, SLA measurements, tags and answered
surveys) straight in SQL, rebuilds the report rollups with the real code
(reports.rollups.rebuild, what `manage.py rebuild_report_rollups` runs), then times a 90-day
report: every report's selector in-process, each /api/v1/reports/ endpoint, and the whole
Reports page (all nine reports in one request) over HTTP.
"""

import math
import os
import re
import time

import httpx
import psycopg

from benchmarks.stack import Stack

SPAN_DAYS = 365
RANGE_DAYS = 90

CONVERSATIONS = """
INSERT INTO inbox_conversation (
    subject, status, severity, created_at, updated_at, last_message_at, last_inbound_at, snippet,
    message_count, sla_breached, arrived_outside_hours, reopened_count, reply_token, channel_id,
    contact_id, team_id, assignee_id, first_response_at, resolved_at)
SELECT s.subject, CASE WHEN s.resolved THEN 'resolved' ELSE 'open' END, 1 + g %% 4, s.created,
       now(), s.created, s.created, 'report load', 2, false, false, CASE WHEN g %% 25 = 0 THEN 1 ELSE 0 END,
       md5(%(salt)s || g::text), (%(channels)s::bigint[])[1 + g %% array_length(%(channels)s::bigint[], 1)],
       %(contact)s, (%(teams)s::bigint[])[1 + g %% array_length(%(teams)s::bigint[], 1)],
       CASE WHEN g %% 10 = 0 THEN NULL
            ELSE (%(agents)s::bigint[])[1 + (g / 3) %% array_length(%(agents)s::bigint[], 1)] END,
       CASE WHEN g %% 20 = 0 THEN NULL ELSE s.created + make_interval(secs => (g::bigint * 7919) %% 14400) END,
       CASE WHEN s.resolved THEN s.created + make_interval(secs => 3600 + (g::bigint * 104729) %% 172800) END
FROM (
    SELECT g,
           now() - make_interval(secs => (%(n)s - g)::float8 * %(span)s * 86400 / %(n)s) AS created,
           (g %% 20 < 17 AND %(n)s - g > %(n)s / 100) AS resolved,
           CASE WHEN g %% 11 = 0
                THEN 'Please add dark mode to the ' || (ARRAY['dashboard', 'reports', 'app'])[1 + g %% 3]
                ELSE 'Question ' || g END AS subject
    FROM generate_series(1, %(n)s) g
) s
"""

MESSAGES = """
INSERT INTO inbox_message (conversation_id, channel_id, direction, kind, sender_contact_id,
    sender_user_id, text, html, original_text, headers, auto_kind, delivery_status,
    delivery_error, send_attempts, created_at)
SELECT c.id, c.channel_id, 'in', 'message', c.contact_id, NULL::bigint, 'Hello, ' || c.subject, '', '',
       '{}'::jsonb, '', '', '', 0, c.created_at
FROM inbox_conversation c WHERE c.id > %(after)s
UNION ALL
SELECT c.id, c.channel_id, 'out', 'message', NULL::bigint, coalesce(c.assignee_id, %(fallback)s), 'Thanks!',
       '', '', '{}'::jsonb, '', 'sent', '', 1, c.first_response_at
FROM inbox_conversation c WHERE c.id > %(after)s AND c.first_response_at IS NOT NULL
UNION ALL
SELECT c.id, c.channel_id, 'out', 'message', NULL::bigint, coalesce(c.assignee_id, %(fallback)s), 'More.',
       '', '', '{}'::jsonb, '', 'sent', '', 1, c.first_response_at + interval '30 minutes'
FROM inbox_conversation c WHERE c.id > %(after)s AND c.first_response_at IS NOT NULL AND c.id %% 3 = 0
"""

ACTIVITIES = """
INSERT INTO inbox_activity (conversation_id, actor_id, verb, from_value, to_value, reason, created_at)
SELECT c.id, NULL::bigint, 'assigned', '{"team": null, "assignee": null}'::jsonb,
       jsonb_build_object('team', t.slug, 'assignee', u.username), '', c.created_at + interval '2 minutes'
FROM inbox_conversation c JOIN accounts_team t ON t.id = c.team_id
JOIN accounts_user u ON u.id = c.assignee_id WHERE c.id > %(after)s
UNION ALL
SELECT c.id, c.assignee_id, 'status', '"open"'::jsonb, '"resolved"'::jsonb, '', c.resolved_at
FROM inbox_conversation c WHERE c.id > %(after)s AND c.status = 'resolved'
UNION ALL
SELECT c.id, c.assignee_id, 'status', '"open"'::jsonb, '"resolved"'::jsonb, '', c.created_at + interval '20 minutes'
FROM inbox_conversation c WHERE c.id > %(after)s AND c.reopened_count > 0
UNION ALL
SELECT c.id, NULL::bigint, 'status', '"resolved"'::jsonb, '"open"'::jsonb, 'customer wrote again',
       c.created_at + interval '40 minutes'
FROM inbox_conversation c WHERE c.id > %(after)s AND c.reopened_count > 0
"""

MEASUREMENTS = """
INSERT INTO routing_slameasurement (conversation_id, target, policy_id, started_at, due_at,
    stopped_at, elapsed_seconds, met, business_hours)
SELECT c.id, 'first_response', NULL::bigint, c.created_at, c.created_at + interval '2 hours',
       c.first_response_at, extract(epoch FROM c.first_response_at - c.created_at),
       c.first_response_at <= c.created_at + interval '2 hours', false
FROM inbox_conversation c WHERE c.id > %(after)s AND c.first_response_at IS NOT NULL
UNION ALL
SELECT c.id, 'resolution', NULL::bigint, c.created_at, c.created_at + interval '1 day', c.resolved_at,
       extract(epoch FROM c.resolved_at - c.created_at), c.resolved_at <= c.created_at + interval '1 day', false
FROM inbox_conversation c WHERE c.id > %(after)s AND c.status = 'resolved'
"""

TAGS = """
INSERT INTO tagging_conversationtag (conversation_id, tag_id, added_at)
SELECT c.id, t.id, c.created_at FROM inbox_conversation c JOIN tagging_tag t
  ON (t.slug = 'feature-request' AND c.id %% 11 = 0) OR (t.slug = 'incident' AND c.id %% 13 = 0)
WHERE c.id > %(after)s
ON CONFLICT DO NOTHING
"""

SURVEYS = """
INSERT INTO reports_satisfactionsurvey (conversation_id, channel_id, contact_id, token_hash,
    sent_at, score, comment, answered_at)
SELECT c.id, c.channel_id, c.contact_id, md5(%(salt)s || c.id::text) || md5(c.id::text || %(salt)s),
       c.resolved_at, CASE WHEN c.id %% 3 = 0 THEN 1 + c.id %% 5 END,
       CASE WHEN c.id %% 9 = 0 THEN 'Comment ' || c.id ELSE '' END,
       CASE WHEN c.id %% 3 = 0 THEN c.resolved_at + interval '1 hour' END
FROM inbox_conversation c WHERE c.id > %(after)s AND c.status = 'resolved' AND c.id %% 5 = 0
"""


def _django(stack: Stack) -> None:
    for key in (
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_TASK_ALWAYS_EAGER",
        "EMBEDDED_SCHEDULER",
        "DJANGO_SETTINGS_MODULE",
        "SWITCHBOARD_DATA_DIR",
    ):
        os.environ[key] = stack.env[key]
    import django

    django.setup()


def populate(database_url: str, n: int, *, span_days: int = SPAN_DAYS) -> dict:
    """n conversations over span_days up to now, with what the reports read. Returns counts."""
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        teams = [r[0] for r in conn.execute("SELECT id FROM accounts_team ORDER BY id")]
        channels = [r[0] for r in conn.execute("SELECT id FROM inbox_channel ORDER BY id")]
        agents = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM accounts_user WHERE role IN ('agent', 'lead') ORDER BY id"
            )
        ]
        conn.execute(
            "INSERT INTO inbox_contact (name, email, phone, attributes, created_at) "
            "VALUES ('Report load', 'report-load@example.com', '', '{}', now())"
        )
        contact = conn.execute("SELECT max(id) FROM inbox_contact").fetchone()[0]
        for slug in ("feature-request", "incident"):
            conn.execute(
                "INSERT INTO tagging_tag (slug, name, color, description, is_default, created_at) "
                "VALUES (%s, %s, '#718096', '', true, now()) ON CONFLICT (slug) DO NOTHING",
                [slug, slug],
            )
        after = conn.execute("SELECT coalesce(max(id), 0) FROM inbox_conversation").fetchone()[0]
        args = {
            "n": n,
            "span": span_days,
            "salt": f"r{n}",
            "channels": channels,
            "teams": teams,
            "agents": agents,
            "contact": contact,
            "after": after,
            "fallback": agents[0],
        }
        for sql in (CONVERSATIONS, MESSAGES, ACTIVITIES, MEASUREMENTS, TAGS, SURVEYS):
            conn.execute(sql, args)
        for table in (
            "inbox_conversation",
            "inbox_message",
            "inbox_activity",
            "routing_slameasurement",
            "tagging_conversationtag",
            "reports_satisfactionsurvey",
        ):
            conn.execute(f"VACUUM ANALYZE {table}")
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("inbox_conversation", "inbox_message", "inbox_activity")
        }
    return {"populate_s": round(time.perf_counter() - started, 1), "rows": counts}


def _p(times: list[float]) -> dict:
    times = sorted(times)
    return {
        "p50_ms": round(times[len(times) // 2], 1),
        "p95_ms": round(times[math.ceil(0.95 * len(times)) - 1], 1),
        "max_ms": round(times[-1], 1),
    }


def bench_reports(stack: Stack, quick: bool) -> dict:
    # BENCH_REPORTS_CONVERSATIONS sizes the history when a million would take too long.
    n = int(os.environ.get("BENCH_REPORTS_CONVERSATIONS") or (20_000 if quick else 1_000_000))
    repeats = 3 if quick else 20
    out = {"conversations": n, "span_days": SPAN_DAYS, "range_days": RANGE_DAYS}
    out.update(populate(stack.database_url, n))
    _django(stack)
    import datetime as dt

    from django.db import connection

    from accounts.models import User
    from reports import days, metrics, rollups, selectors
    from reports.models import ConversationFact

    began = time.perf_counter()
    result = rollups.rebuild()
    out["rebuild_s"] = round(time.perf_counter() - began, 1)
    out["rebuilt"] = result
    with connection.cursor() as cursor:
        for table in (
            "reports_conversationfact",
            "reports_dailyrollup",
            "reports_hourlyarrivals",
            "reports_durationhistogram",
            "reports_teamdurationhistogram",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    today = days.today()
    params = {
        "from": (today - dt.timedelta(days=RANGE_DAYS - 1)).isoformat(),
        "to": today.isoformat(),
    }
    out["in_range"] = ConversationFact.objects.filter(created_day__gte=params["from"]).count()
    selectors_ms = {}
    for username in ("admin", "lead"):
        user = User.objects.get(username=username)
        f = selectors.parse_filters(params)
        per = {}
        total = []
        for _ in range(repeats):
            began_all = time.perf_counter()
            for name, report in metrics.REPORTS.items():
                began = time.perf_counter()
                report(user, f)
                per.setdefault(name, []).append(1000 * (time.perf_counter() - began))
            total.append(1000 * (time.perf_counter() - began_all))
        selectors_ms[username] = {"all reports": _p(total), **{k: _p(v) for k, v in per.items()}}
    out["selectors"] = selectors_ms
    # The percentile reports again with the exact path forced (what they cost before the
    # duration histograms, and what a range under REPORTS_EXACT_PERCENTILE_LIMIT costs).
    from django.conf import settings

    limit = settings.REPORTS_EXACT_PERCENTILE_LIMIT
    settings.REPORTS_EXACT_PERCENTILE_LIMIT = 10**12
    try:
        user = User.objects.get(username="admin")
        f = selectors.parse_filters(params)
        exact = {}
        for name in ("response-times", "workload"):
            times = []
            for _ in range(repeats):
                began = time.perf_counter()
                metrics.REPORTS[name](user, f)
                times.append(1000 * (time.perf_counter() - began))
            exact[name] = _p(times)
        out["selectors_exact_percentiles"] = exact
    finally:
        settings.REPORTS_EXACT_PERCENTILE_LIMIT = limit
    out["http"] = time_http(stack, params, repeats)
    out["http"].update(
        time_http(
            stack, params, repeats, username="lead", paths={"Reports page, lead": "/reports/"}
        )
    )
    return out


def time_http(
    stack: Stack, params: dict, repeats: int, *, username: str = "admin", paths=None
) -> dict:
    """Sequential requests from one client on 127.0.0.1, logged in as `username`; by default
    the whole page and every report's API and a CSV download."""
    if paths is None:
        paths = {"Reports page (all reports)": "/reports/"}
        for name in selectors_names():
            paths[f"API {name}"] = f"/api/v1/reports/{name}/"
        paths["CSV volume"] = "/api/v1/reports/volume/export.csv"
    out = {}
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        page = client.get("/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        client.post(
            "/login/",
            data={"username": username, "password": "demo", "csrfmiddlewaretoken": token},
            headers={"Referer": f"{stack.base_url}/login/"},
        )
        for name, path in paths.items():
            client.get(path, params=params)  # warm
            times = []
            for _ in range(repeats):
                began = time.perf_counter()
                response = client.get(path, params=params)
                times.append(1000 * (time.perf_counter() - began))
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
            out[name] = _p(times)
    return out


def selectors_names() -> list[str]:
    from reports.metrics import REPORTS

    return list(REPORTS)


def table_rows(r: dict) -> list[tuple[str, str]]:
    n = f"{r['conversations']:,}"
    rows = [
        (f"reports: populate {n} conversations, s", r["populate_s"]),
        (f"reports: rebuild rollups over {n}, s", r["rebuild_s"]),
        (f"reports: conversations in the {r['range_days']}-day range", f"{r['in_range']:,}"),
    ]
    for user, timings in r["selectors"].items():
        t = timings["all reports"]
        rows.append(
            (f"reports: all 9, in-process ({user}) p50/p95 ms", f"{t['p50_ms']} / {t['p95_ms']}")
        )
    for name, t in r["http"].items():
        rows.append((f"reports: {name} p50/p95 ms", f"{t['p50_ms']} / {t['p95_ms']}"))
    return rows
