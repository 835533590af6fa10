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

The reactions to inbox hooks are in routing.sla_reactions, the sweep in routing.sla_sweep, the
mails in routing.sla_notify; this module holds the clock they share.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils.dateparse import parse_datetime

from inbox.models import OPEN_STATUSES, Conversation, Status
from routing import hours, reference
from routing.models import SLAAlert, SLAMeasurement, SLAPolicy, TeamPolicy

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


# What the sweep and the set-wise reactions write back (_write_clocks).
SWEEP_FIELDS = [
    "sla_clock",
    "sla_breached",
    "sla_next_check_at",
    "first_response_due",
    "next_response_due",
    "resolution_due",
]


# What the sweep reads of a conversation: the clock and what selects its policy and escalation.
CLAIM_FIELDS = ("id", "team_id", "channel_id", "severity", "status", "sla_clock", "sla_breached")


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
