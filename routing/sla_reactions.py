"""SLA reactions: hooks on the inbox's changes (a customer wrote, an agent replied, a status,
team, severity or tag changed), each run inside the transaction of the change; and the recompute
after a policy edit."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox.models import OPEN_STATUSES, Conversation, Status
from routing import hours, reference
from routing.models import SLAAlert, SLAPolicy
from routing.sla import (
    CLAIM_FIELDS,
    DUE_FIELDS,
    PAUSED,
    SWEEP_FIELDS,
    Clock,
    Context,
    _measure,
    _save,
    _write_clocks,
    next_check,
)

UNANSWERED = (Status.SPAM, Status.AUTOMATED)


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
    for conversation, _message, created in started:
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
            # From when we received it, as a new conversation's clocks (its created_at): the
            # message's own time is the sender's word (a mail's Date: can say 2002).
            clock.targets["next_response"] = {"start": timezone.now(), "paused": 0.0}
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
        elif after in UNANSWERED:
            # Spam and automated mail are owed no answer: every clock stops, nothing is measured.
            clock.targets, clock.paused_since = {}, None
        elif before in UNANSWERED and after in OPEN_STATUSES:
            # Not spam (or automated) after all: the customer is owed an answer from now.
            clock.targets = {"resolution": {"start": now, "paused": 0.0}}
            if conversation.first_response_at is None:
                clock.targets["first_response"] = {"start": now, "paused": 0.0}
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
