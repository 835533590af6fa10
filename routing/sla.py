"""SLA clocks, due times, and the sweep that raises warnings, breaches and reminders.

A conversation's `sla_clock` holds, per running target, the instant its clock started and the
time it spent paused, both in the policy's time (business seconds when the policy counts business
hours, else wall seconds). A due time is always derived: start + target + paused, counted on the
calendar; so a policy edit, a severity or team change, a pause or a resume only recomputes.

The sweep reads conversations whose `sla_next_check_at` has come (a partial index), so its cost
follows what is due, not how many conversations are open. Each alert is unique on (conversation,
target, kind, due time) in the database and is inserted together with its outbox event in one
transaction: two sweeps at once, a sweep killed halfway, or a sweep an hour late all end with every
alert raised exactly once.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from inbox import activity, events
from inbox.models import OPEN_STATUSES, Conversation, Event, Severity, Status
from routing import hours, reference
from routing.models import SLAAlert, SLAMeasurement, SLAPolicy, TeamPolicy

logger = logging.getLogger(__name__)

UTC = dt.UTC
TARGETS = ("first_response", "next_response", "resolution")
DUE_FIELDS = {
    "first_response": "first_response_due",
    "next_response": "next_response_due",
    "resolution": "resolution_due",
}
PAUSED = (Status.PENDING, Status.SNOOZED)


# --- policy and calendar ----------------------------------------------------------------------


@dataclass
class Context:
    """What policy selection needs, loaded once for a batch of conversations."""

    policies: list
    tags: dict  # conversation id -> set of tag ids
    team_policies: dict  # team id -> TeamPolicy
    raised: dict = field(default_factory=dict)  # conversation id -> {(target, kind, due_at)}

    @classmethod
    def load(cls, conversations, *, raised: bool = True) -> "Context":
        """Policies, team policies, the conversations' tags (only when a policy names a tag) and,
        with `raised`, the alerts raised so far: a fixed number of queries for any batch."""
        from tagging.models import ConversationTag

        ids = [c.pk for c in conversations]
        policies = list(
            SLAPolicy.objects.filter(is_active=True).select_related("business_hours").order_by("id")
        )
        tags: dict = {}
        if any(p.tag_id for p in policies):
            for conversation_id, tag_id in ConversationTag.objects.filter(
                conversation_id__in=ids
            ).values_list("conversation_id", "tag_id"):
                tags.setdefault(conversation_id, set()).add(tag_id)
        alerts: dict = {}
        if raised:
            for conversation_id, *key in SLAAlert.objects.filter(
                conversation_id__in=ids
            ).values_list("conversation_id", "target", "kind", "due_at"):
                alerts.setdefault(conversation_id, set()).add(tuple(key))
        return cls(
            policies=policies,
            tags=tags,
            team_policies={
                p.team_id: p
                for p in TeamPolicy.objects.select_related("business_hours", "escalation_team")
            },
            raised=alerts,
        )


def policy_for(conversation: Conversation, ctx: Context | None = None) -> SLAPolicy | None:
    """The most specific active policy for the conversation's severity: one naming a tag of the
    conversation beats one naming its channel, which beats one naming its team, which beats the
    plain severity policy. Ties go to the oldest."""
    if ctx is not None:
        candidates = [
            p
            for p in ctx.policies
            if p.severity == conversation.severity
            and p.team_id in (None, conversation.team_id)
            and p.channel_id in (None, conversation.channel_id)
        ]
        tag_ids = ctx.tags.get(conversation.pk, set())
    else:
        # One message at a time (receive, reply, triage): this process's copy of the policies.
        candidates = [
            p
            for p in reference.sla_policies()
            if p.severity == conversation.severity
            and p.team_id in (None, conversation.team_id)
            and p.channel_id in (None, conversation.channel_id)
        ]
        tag_ids = (
            set(conversation.tag_links.values_list("tag_id", flat=True))
            if conversation.pk and any(p.tag_id for p in candidates)
            else set()
        )
    best, best_score = None, -1
    for policy in candidates:
        if policy.tag_id and policy.tag_id not in tag_ids:
            continue
        score = 4 * bool(policy.tag_id) + 2 * bool(policy.channel_id) + bool(policy.team_id)
        if score > best_score:
            best, best_score = policy, score
    return best


def calendar_for(policy: SLAPolicy | None, conversation: Conversation, ctx: Context | None = None):
    if policy is None or not policy.business_hours_only:
        return None
    if policy.business_hours_id:
        return policy.business_hours
    if ctx is not None:
        team_policy = ctx.team_policies.get(conversation.team_id)
    else:
        team_policy = reference.team_policies().get(conversation.team_id)
    return team_policy.business_hours if team_policy else None


def target_seconds(policy: SLAPolicy, target: str) -> float:
    return 60.0 * getattr(policy, f"{target}_minutes")


# --- the clock ---------------------------------------------------------------------------------


@dataclass
class Clock:
    policy: SLAPolicy | None
    calendar: object
    targets: dict = field(default_factory=dict)  # target -> {"start": datetime, "paused": seconds}
    paused_since: dt.datetime | None = None

    @classmethod
    def load(cls, conversation: Conversation, ctx: Context | None = None) -> "Clock":
        raw = conversation.sla_clock or {}
        policy = policy_for(conversation, ctx)
        clock = cls(policy=policy, calendar=calendar_for(policy, conversation, ctx))
        for target, state in (raw.get("targets") or {}).items():
            clock.targets[target] = {
                "start": parse_datetime(state["start"]),
                "paused": float(state["paused"]),
            }
            if state.get("breached_due"):
                clock.targets[target]["breached_due"] = parse_datetime(state["breached_due"])
                clock.targets[target]["breached_team"] = state.get("breached_team")
        clock.paused_since = (
            parse_datetime(raw["paused_since"]) if raw.get("paused_since") else None
        )
        return clock

    def dump(self) -> dict:
        return {
            "policy": getattr(self.policy, "pk", None),
            "targets": {t: self._dump_state(s) for t, s in self.targets.items()},
            "paused_since": self.paused_since.isoformat() if self.paused_since else None,
        }

    @staticmethod
    def _dump_state(state: dict) -> dict:
        out = {"start": state["start"].isoformat(), "paused": state["paused"]}
        if state.get("breached_due"):
            out["breached_due"] = state["breached_due"].isoformat()
            out["breached_team"] = state.get("breached_team")
        return out

    def due(self, target: str) -> dt.datetime | None:
        state = self.targets.get(target)
        if state is None or self.policy is None or self.paused_since is not None:
            return None
        return hours.add(
            self.calendar, state["start"], target_seconds(self.policy, target) + state["paused"]
        )

    def warn_at(self, target: str) -> dt.datetime | None:
        state = self.targets.get(target)
        if state is None or self.policy is None or self.paused_since is not None:
            return None
        share = min(max(self.policy.warning_percent, 0), 100) / 100
        return hours.add(
            self.calendar,
            state["start"],
            target_seconds(self.policy, target) * share + state["paused"],
        )

    def elapsed(self, target: str, until: dt.datetime) -> float:
        state = self.targets[target]
        return max(hours.elapsed(self.calendar, state["start"], until) - state["paused"], 0.0)


def _save(
    conversation: Conversation, clock: Clock, *, extra: tuple = (), new: bool = False
) -> None:
    """Write the clock and what follows from it. `new`: the conversation was opened in this
    transaction, so no alert was raised for it yet (spares the look-up)."""
    conversation.sla_clock = clock.dump()
    for target, name in DUE_FIELDS.items():
        setattr(conversation, name, clock.due(target))
    conversation.sla_next_check_at = next_check(
        conversation, clock, raised=frozenset() if new else None
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        sla_clock=conversation.sla_clock,
        first_response_due=conversation.first_response_due,
        next_response_due=conversation.next_response_due,
        resolution_due=conversation.resolution_due,
        sla_next_check_at=conversation.sla_next_check_at,
        **{name: getattr(conversation, name) for name in extra},
    )


def _reminder_policy(team_id, ctx: Context | None = None) -> TeamPolicy | None:
    if ctx is not None:
        policy = ctx.team_policies.get(team_id)
        return policy if policy is not None and policy.reminder_minutes else None
    return TeamPolicy.objects.filter(team_id=team_id, reminder_minutes__isnull=False).first()


def _pending_alerts(
    conversation: Conversation, clock: Clock, ctx: Context | None = None
) -> list[tuple[str, str, dt.datetime, dt.datetime]]:
    """(target, kind, due_at, raise_at) for every alert the running clocks call for, raised or not.
    A clock breaches once per run: after its breach (and a severity escalation that moves the due
    time) only reminders follow, anchored at the due time that was breached, by the policy of the
    team that breached it. A paused clock calls for nothing."""
    out = []
    if clock.paused_since is not None:
        return out
    for target, state in clock.targets.items():
        if not state.get("breached_due"):
            due = clock.due(target)
            if due is not None:
                out.append((target, SLAAlert.Kind.WARNING, due, clock.warn_at(target)))
                out.append((target, SLAAlert.Kind.BREACH, due, due))
            continue
        if target == "resolution":
            continue
        reminders = _reminder_policy(state.get("breached_team"), ctx)
        if reminders:
            step = dt.timedelta(minutes=reminders.reminder_minutes)
            for n in range(1, reminders.max_reminders + 1):
                remind_at = state["breached_due"] + n * step
                out.append((target, SLAAlert.Kind.REMINDER, remind_at, remind_at))
    return out


def _raised_alerts(conversation: Conversation, ctx: Context | None) -> set:
    """(target, kind, due_at) of the alerts already raised for the conversation."""
    if ctx is not None:
        return ctx.raised.get(conversation.pk, set())
    if not conversation.pk:
        return set()
    return set(
        SLAAlert.objects.filter(conversation_id=conversation.pk).values_list(
            "target", "kind", "due_at"
        )
    )


def next_check(
    conversation: Conversation,
    clock: Clock,
    ctx: Context | None = None,
    *,
    raised: frozenset | None = None,
) -> dt.datetime | None:
    if conversation.status not in OPEN_STATUSES or clock.paused_since is not None:
        return None
    pending = _pending_alerts(conversation, clock, ctx)
    if not pending:
        return None
    if raised is None:
        raised = _raised_alerts(conversation, ctx)
    upcoming = [
        raise_at for target, kind, due, raise_at in pending if (target, kind, due) not in raised
    ]
    return min(upcoming) if upcoming else None


def _measure(conversation: Conversation, clock: Clock, target: str, at: dt.datetime) -> None:
    if target not in clock.targets or clock.policy is None:
        return
    due = clock.due(target)
    SLAMeasurement.objects.create(
        conversation=conversation,
        target=target,
        policy=clock.policy,
        started_at=clock.targets[target]["start"],
        due_at=due,
        stopped_at=at,
        elapsed_seconds=clock.elapsed(target, at),
        met=due is None or at <= due,
        business_hours=clock.calendar is not None,
    )


# --- reactions (hooks; each runs inside the transaction of the change) ---------------------------


def on_messages_received(*, arrivals) -> None:
    """A customer wrote: start first response and resolution for a new conversation; start the
    next-response clock when the last word was ours. Auto-replies and bounces start nothing.
    A batch of arrivals costs a fixed number of statements (their tags when a policy names one,
    the alerts raised for the continued ones, one UPDATE of the clocks)."""
    started = []  # (conversation, clock, opened now)
    for arrival in arrivals:
        conversation, message = arrival.conversation, arrival.message
        if message.auto_kind or conversation.status not in OPEN_STATUSES:
            continue
        started.append((conversation, message, arrival.conversation_created))
    if not started:
        return
    policies = reference.sla_policies()
    tags: dict = {}
    if any(p.tag_id for p in policies):
        from tagging.models import ConversationTag

        for conversation_id, tag_id in ConversationTag.objects.filter(
            conversation_id__in=[c.pk for c, _, _ in started]
        ).values_list("conversation_id", "tag_id"):
            tags.setdefault(conversation_id, set()).add(tag_id)
    ctx = Context(policies=policies, tags=tags, team_policies=reference.team_policies())
    changed = []
    for conversation, message, created in started:
        clock = Clock.load(conversation, ctx)
        if created or not conversation.sla_clock:
            clock.targets.setdefault(
                "resolution", {"start": conversation.created_at, "paused": 0.0}
            )
            if conversation.first_response_at is None:
                clock.targets.setdefault(
                    "first_response", {"start": conversation.created_at, "paused": 0.0}
                )
        if conversation.first_response_at is not None and "next_response" not in clock.targets:
            clock.targets["next_response"] = {"start": message.created_at, "paused": 0.0}
        if created or clock.dump() != conversation.sla_clock:
            # A customer writing again while their clocks already run changes nothing: no
            # UPDATE and no look-up of raised alerts.
            changed.append((conversation, clock, created))
    if not changed:
        return
    older = [c.pk for c, _, created in changed if not created]
    if older:
        # A new conversation has no alert raised yet: only the older ones are looked up.
        for conversation_id, *key in SLAAlert.objects.filter(conversation_id__in=older).values_list(
            "conversation_id", "target", "kind", "due_at"
        ):
            ctx.raised.setdefault(conversation_id, set()).add(tuple(key))
    for conversation, clock, _ in changed:
        conversation.sla_clock = clock.dump()
        for target, name in DUE_FIELDS.items():
            setattr(conversation, name, clock.due(target))
        conversation.sla_next_check_at = next_check(conversation, clock, ctx)
    _write_clocks([c for c, _, _ in changed])


def on_agent_replied(*, conversation: Conversation, message) -> None:
    """An agent answered the customer: first and next response clocks stop and are measured."""
    clock = Clock.load(conversation)
    at = message.created_at
    for target in ("first_response", "next_response"):
        if target in clock.targets:
            _measure(conversation, clock, target, at)
            del clock.targets[target]
    _save(conversation, clock)


def on_conversation_changed(*, conversation: Conversation, changes: dict) -> None:
    now = timezone.now()
    clock = Clock.load(conversation)
    if "status" in changes:
        before, after = changes["status"]
        if after in PAUSED and clock.paused_since is None and before not in PAUSED:
            clock.paused_since = now
        elif after == Status.OPEN and clock.paused_since is not None:
            pause = hours.elapsed(clock.calendar, clock.paused_since, now)
            for state in clock.targets.values():
                state["paused"] += pause
            clock.paused_since = None
        if after == Status.RESOLVED:
            if clock.paused_since is not None:
                pause = hours.elapsed(clock.calendar, clock.paused_since, now)
                for state in clock.targets.values():
                    state["paused"] += pause
                clock.paused_since = None
            _measure(conversation, clock, "resolution", now)
            clock.targets = {}
        elif before == Status.RESOLVED and after in OPEN_STATUSES:
            clock.targets = {"resolution": {"start": now, "paused": 0.0}}
            clock.paused_since = now if after in PAUSED else None
    _save(conversation, clock)


def recompute(conversation: Conversation) -> None:
    """Re-select the policy and recompute due times (severity, team, tags or the policy changed)."""
    _save(conversation, Clock.load(conversation))


def on_tags_changed(*, conversation: Conversation, added, removed, run_rules: bool) -> None:
    if any(p.tag_id for p in reference.sla_policies()):
        recompute(conversation)


def on_conversations_changed(*, conversation_ids, changes: dict) -> None:
    """Bulk reassignment: only team-scoped policies or business-hours policies (whose calendar may
    be the team's) can move a due time, so the common case costs one query. Otherwise the open
    ones are recomputed set-wise, like a sweep batch: one read, the policy context, one UPDATE."""
    if (
        not SLAPolicy.objects.filter(is_active=True)
        .filter(Q(team__isnull=False) | Q(business_hours_only=True))
        .exists()
    ):
        return
    rows = list(
        Conversation.objects.filter(pk__in=conversation_ids, status__in=OPEN_STATUSES).only(
            *CLAIM_FIELDS, *SWEEP_FIELDS
        )
    )
    if not rows:
        return
    ctx = Context.load(rows)
    for conversation in rows:
        clock = Clock.load(conversation, ctx)
        conversation.sla_clock = clock.dump()
        for target, name in DUE_FIELDS.items():
            setattr(conversation, name, clock.due(target))
        conversation.sla_next_check_at = next_check(conversation, clock, ctx)
    _write_clocks(rows)


def recompute_open(*, severity: int | None = None, batch: int = 500) -> int:
    """After a policy edit: recompute every open conversation (of one severity), in batches."""
    done, last = 0, 0
    while True:
        qs = Conversation.objects.filter(
            status__in=OPEN_STATUSES, sla_clock__isnull=False, pk__gt=last
        )
        if severity is not None:
            qs = qs.filter(severity=severity)
        chunk = list(qs.order_by("pk")[:batch])
        if not chunk:
            return done
        with transaction.atomic():
            for conversation in chunk:
                recompute(conversation)
        done += len(chunk)
        last = chunk[-1].pk


# --- the sweep ----------------------------------------------------------------------------------


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
SWEEP_FIELDS = [
    "sla_clock",
    "sla_breached",
    "sla_next_check_at",
    "first_response_due",
    "next_response_due",
    "resolution_due",
]


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


# What the sweep reads of a conversation: the clock and what selects its policy and escalation.
CLAIM_FIELDS = ("id", "team_id", "channel_id", "severity", "status", "sla_clock", "sla_breached")


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


def _write_clocks(rows: list[Conversation]) -> None:
    """The clocks, due times, next checks and breach flags of a batch. On PostgreSQL one UPDATE
    joined to arrays (one statement, one round trip); elsewhere one parameterised UPDATE per row
    sent together."""
    from django.db import connection

    fields = [Conversation._meta.get_field(name) for name in SWEEP_FIELDS]
    if connection.vendor == "postgresql":
        import json

        # The batch travels as one JSON document: no per-element quoting of text arrays, and
        # times keep their microseconds (isoformat).
        types = {"sla_clock": "jsonb", "sla_breached": "boolean"}
        record = ", ".join(
            f"{connection.ops.quote_name(f.column)} {types.get(f.name, 'timestamptz')}"
            for f in fields
        )
        assignments = ", ".join(
            f"{connection.ops.quote_name(f.column)} = u.{connection.ops.quote_name(f.column)}"
            for f in fields
        )
        sql = (
            f"UPDATE inbox_conversation c SET {assignments} "  # noqa: S608 - column names only
            f"FROM jsonb_to_recordset(%s::jsonb) AS u(id bigint, {record}) WHERE c.id = u.id"
        )
        batch = [
            {"id": row.pk, **{f.column: getattr(row, f.attname) for f in fields}} for row in rows
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps(batch, default=dt.datetime.isoformat)])
        return
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE inbox_conversation SET {assignments} WHERE id = %s"  # noqa: S608 - column names only
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


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


# --- notifications (after commit, from the outbox) -------------------------------------------------


SLA_EVENTS = ("sla.warning", "sla.breached", "sla.reminder")
SLA_WORDS = {
    "sla.warning": "due soon",
    "sla.breached": "breached",
    "sla.reminder": "still unanswered",
}


def notify_dispatched(*, events) -> None:
    """Hook on events_dispatched (after commit, once per fanned-out batch): the batch's SLA alerts
    are mailed by one task, so a sweep that raised a thousand sends one task, not a thousand."""
    ids = [e.pk for e in events if e.type in SLA_EVENTS and e.conversation_id]
    if ids:
        from core.tasks import enqueue
        from routing.tasks import send_sla_mail

        enqueue(send_sla_mail, ids)


def notify_by_email(*, event) -> None:
    """Mail one SLA event's people (see mail_sla_events)."""
    mail_sla_events([event])


def mail_sla_events(events) -> int:
    """Mail the assignee (or the team's leads when unassigned) about SLA warnings and reminders;
    breaches also go to the team's leads. Two queries for any number of events (conversations
    with assignees, leads of their teams) and one mail connection; a mail that fails is logged
    and the others still go. Returns how many mails were sent."""
    from django.core.mail import EmailMessage, get_connection

    from accounts.models import Membership

    events = [e for e in events if e.type in SLA_EVENTS and e.conversation_id]
    if not events:
        return 0
    conversations = {
        c.pk: c
        for c in Conversation.objects.filter(pk__in={e.conversation_id for e in events})
        .select_related("assignee")
        .only("id", "subject", "team_id", "assignee_id", "assignee__email")
    }
    leads: dict = {}
    for team_id, email in (
        Membership.objects.filter(
            team_id__in={c.team_id for c in conversations.values() if c.team_id},
            role=Membership.Role.LEAD,
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("team_id", "user__email")
    ):
        leads.setdefault(team_id, set()).add(email)
    mails = []
    for event in events:
        conversation = conversations.get(event.conversation_id)
        if conversation is None:
            continue
        recipients = set()
        if conversation.assignee_id and conversation.assignee.email:
            recipients.add(conversation.assignee.email)
        if not conversation.assignee_id or event.type == "sla.breached":
            recipients.update(leads.get(conversation.team_id, ()))
        if not recipients:
            continue
        target = event.payload.get("target", "").replace("_", " ")
        word = SLA_WORDS[event.type]
        title = " ".join(conversation.subject.split())[:80]
        subject = f"[Switchboard] SLA {word}: {target} on #{conversation.pk} {title}"
        body = (
            f"The {target} target of conversation #{conversation.pk} is {word} "
            f"(due {event.payload.get('due_at')}).\n"
        )
        mails.append((event.pk, EmailMessage(subject, body, None, sorted(recipients))))
    if not mails:
        return 0
    sent = 0
    connection = get_connection()
    try:
        connection.open()
        for event_id, message in mails:
            message.connection = connection
            try:
                sent += message.send()
            except Exception:
                logger.exception("could not mail SLA notification for event %s", event_id)
    except Exception:
        logger.exception("could not open the mail connection for %s SLA notifications", len(mails))
    finally:
        try:
            connection.close()
        except Exception:
            logger.exception("closing the mail connection failed")
    return sent
