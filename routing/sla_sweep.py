"""The SLA sweep: raises warnings, breaches and reminders, and escalates breaches.

The sweep reads conversations whose `sla_next_check_at` has come (a partial index), so its cost
follows what is due, not how many conversations are open. Each alert is unique on (conversation,
target, kind, due time) in the database and is inserted together with its outbox event in one
transaction: two sweeps at once, a sweep killed halfway, or a sweep an hour late all end with every
alert raised exactly once.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import metrics
from inbox import activity, events
from inbox.models import OPEN_STATUSES, Conversation, Event, Severity
from routing.models import SLAAlert, TeamPolicy
from routing.sla import (
    CLAIM_FIELDS,
    DUE_FIELDS,
    UTC,
    Clock,
    Context,
    _pending_alerts,
    _write_clocks,
)


@dataclass
class SweepResult:
    warnings: int = 0
    breaches: int = 0
    reminders: int = 0
    conversations: int = 0


COUNTERS = {"warning": "warnings", "breach": "breaches", "reminder": "reminders"}


def late_after() -> dt.timedelta:
    return dt.timedelta(seconds=max(2 * settings.SLA_SWEEP_SECONDS, 60))


SWEEP_BATCH = 1000
KIND_EVENTS = {"warning": "sla.warning", "breach": "sla.breached", "reminder": "sla.reminder"}


@metrics.SLA_SWEEP_SECONDS.time()
def sweep(*, now: dt.datetime | None = None, limit: int = 100_000) -> SweepResult:
    """Raise every alert that has come due, a batch of conversations per transaction. Safe to run
    concurrently (rows are claimed with SKIP LOCKED, alerts are unique) and to repeat; a sweep
    killed mid-batch rolls that batch back and the next sweep does it again."""
    now = now or timezone.now()
    result = SweepResult()
    done = 0
    while done < limit:
        claimed = _sweep_batch(now, min(SWEEP_BATCH, limit - done), result)
        done += claimed
        if claimed < SWEEP_BATCH:
            break
    return result


def _sweep_batch(now: dt.datetime, size: int, result: SweepResult) -> int:
    """One batch, set-wise: a fixed number of statements whatever its size (claim, tags when a
    policy names one, one INSERT of the alerts, one of their outbox events, one UPDATE of the
    clocks and breach flags); per row only arithmetic on the clocks. Escalations, which go
    through the severity and assignment services, are the one per-row exception."""
    with transaction.atomic():
        rows = list(
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(sla_next_check_at__lte=now)
            .order_by("sla_next_check_at")
            .only(*CLAIM_FIELDS)[:size]
        )
        if not rows:
            return 0
        result.conversations += len(rows)
        ctx = Context.load(rows, raised=False)
        clocks = {c.pk: Clock.load(c, ctx) for c in rows}
        wanted = []
        late = late_after()
        for conversation in rows:
            for target, kind, due, raise_at in _pending_alerts(
                conversation, clocks[conversation.pk], ctx
            ):
                if raise_at is None or raise_at > now:
                    continue
                if kind == SLAAlert.Kind.WARNING and due <= now:
                    continue  # the breach says it all; a warning after the fact helps nobody
                wanted.append((conversation.pk, target, kind, due, now - raise_at > late))
        # Alerts raised before (by an earlier or a concurrent sweep) are skipped by the unique
        # constraint; only what this call inserted is published.
        inserted = insert_alerts(wanted, now=now)
        by_id = {c.pk: c for c in rows}
        outbox = []
        breached = []
        for alert_id, conversation_id, target, kind, due_at, late in inserted:
            conversation = by_id[conversation_id]
            setattr(result, COUNTERS[kind], getattr(result, COUNTERS[kind]) + 1)
            outbox.append(
                Event(
                    type=KIND_EVENTS[kind],
                    conversation_id=conversation_id,
                    team_id=conversation.team_id,
                    payload={
                        "conversation": conversation_id,
                        "alert": alert_id,
                        "target": target,
                        "kind": kind,
                        "due_at": due_at.isoformat(),
                        "late": late,
                    },
                    created_at=now,
                )
            )
            if kind == SLAAlert.Kind.BREACH:
                clock = clocks[conversation_id]
                if target in clock.targets:
                    clock.targets[target]["breached_due"] = due_at
                    clock.targets[target]["breached_team"] = conversation.team_id
                conversation.sla_breached = True
                breached.append((conversation, target))
        for conversation in rows:
            clock = clocks[conversation.pk]
            conversation.sla_clock = clock.dump()
            for target, name in DUE_FIELDS.items():
                setattr(conversation, name, clock.due(target))
            conversation.sla_next_check_at = _next_check_after(conversation, clock, ctx, now)
        _write_clocks(rows)
        events.publish_many(outbox)
        _escalate_many(breached, ctx)
    return len(rows)


def _next_check_after(
    conversation: Conversation, clock: Clock, ctx: Context, now: dt.datetime
) -> dt.datetime | None:
    """After a sweep at `now` every alert due by then has been raised (or deliberately skipped),
    so the next look is the first alert still to come; no need to read the raised ones back. One
    raised before with a later time (rare: a clock moved back) costs a visit, never a duplicate."""
    if conversation.status not in OPEN_STATUSES or clock.paused_since is not None:
        return None
    upcoming = [
        raise_at
        for _, _, _, raise_at in _pending_alerts(conversation, clock, ctx)
        if raise_at is not None and raise_at > now
    ]
    return min(upcoming) if upcoming else None


INSERT_ALERTS = (
    "INSERT INTO routing_slaalert (conversation_id, target, kind, due_at, raised_at, late) {rows} "
    "ON CONFLICT DO NOTHING RETURNING id, conversation_id, target, kind, due_at, late"
)


def insert_alerts(wanted: list[tuple], *, now: dt.datetime) -> list[tuple]:
    """Insert alerts, skipping those raised before (by this or a concurrent sweep); returns the
    rows this call inserted: (id, conversation_id, target, kind, due_at, late). The unique
    constraint decides, in one statement (PostgreSQL: the whole batch as arrays; SQLite: 500
    rows a statement), on PostgreSQL and SQLite alike."""
    if not wanted:
        return []
    from django.db import connection

    if connection.vendor == "postgresql":
        columns = list(zip(*wanted, strict=True))
        sql = INSERT_ALERTS.format(
            rows="SELECT c, t, k, d, %s, l FROM unnest(%s::bigint[], %s::text[], %s::text[], "
            "%s::timestamptz[], %s::boolean[]) AS u(c, t, k, d, l)"
        )
        statements = [(sql, [now, *[list(column) for column in columns]])]
    else:
        statements = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            # Only placeholders are formatted into the statement; values travel as parameters.
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            params = []
            for conversation_id, target, kind, due, late in chunk:
                params += [conversation_id, target, kind, due, now, late]
            statements.append((INSERT_ALERTS.format(rows=f"VALUES {values}"), params))
    inserted = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            for alert_id, conversation_id, target, kind, due_at, late in cursor.fetchall():
                if isinstance(due_at, str):  # SQLite returns text
                    due_at = parse_datetime(due_at)
                if timezone.is_naive(due_at):
                    due_at = due_at.replace(tzinfo=UTC)
                inserted.append((alert_id, conversation_id, target, kind, due_at, bool(late)))
    return inserted


def _escalate_many(breached: list[tuple], ctx: Context) -> None:
    """The escalation policies of the batch's breaches; the audit rows in one INSERT."""
    rows = []
    for conversation, target in breached:
        row = escalate(conversation, target=target, ctx=ctx, record=False)
        if row is not None:
            rows.append(row)
    if rows:
        from inbox.models import Activity

        Activity.objects.bulk_create(rows)


def escalate(
    conversation: Conversation, *, target: str, ctx: Context | None = None, record: bool = True
):
    """The team's escalation policy on breach: raise severity one step, hand to an escalation team.
    Writes its audit row, or with `record=False` returns it unsaved for the caller to insert with
    the others of a batch (None when the team does not escalate)."""
    policy = (
        ctx.team_policies.get(conversation.team_id)
        if ctx is not None
        else TeamPolicy.objects.filter(team_id=conversation.team_id).first()
    )
    if policy is None or not (policy.escalate_severity or policy.escalation_team_id):
        return None
    reason = f"SLA breach ({target.replace('_', ' ')})"
    if policy.escalate_severity and conversation.severity < Severity.CRITICAL:
        from tagging.services import set_severity

        set_severity(
            conversation_id=conversation.pk,
            severity=conversation.severity + 1,
            actor=None,
            reason=reason,
        )
    if policy.escalation_team_id and policy.escalation_team_id != conversation.team_id:
        from routing.services import assign_conversation

        assign_conversation(
            conversation_id=conversation.pk,
            team=policy.escalation_team,
            assignee=None,
            actor=None,
            reason=reason,
        )
    if record:
        return activity.record(
            conversation=conversation,
            actor=None,
            verb="sla_breached",
            to_value=target,
            reason=reason,
        )
    from inbox.models import Activity

    return Activity(
        conversation_id=conversation.pk,
        actor=None,
        verb="sla_breached",
        to_value=target,
        reason=reason,
        created_at=timezone.now(),
    )
