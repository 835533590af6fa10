"""Conversation facts: one row per conversation with its report dimensions and durations
(first response, resolution, in wall or business time), recomputed from the source tables;
rebuilt set-wise in SQL on PostgreSQL."""

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.db.models.fields.json import KT

from inbox.models import Activity, Conversation, Message, Status
from reports.days import day_of
from reports.models import ConversationFact, SatisfactionSurvey
from routing import hours
from routing.models import SLAMeasurement, SLAPolicy, TeamPolicy

FACT_BATCH = 2_000


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
        SatisfactionSurvey.objects.filter(
            conversation_id__in=ids, score__isnull=False, kind=SatisfactionSurvey.Kind.CSAT
        ).values_list("conversation_id", "score")
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
    """Fast twin of refresh_facts (REPORTS_SQL_REBUILD), held to it by tests/reports/test_rebuild.py.

    Every fact row, set-wise (PostgreSQL): FACTS_SQL over ranges of SQL_FACT_SPAN ids, the
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
