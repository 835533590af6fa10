"""Assignment by hand and in bulk. Every change of a conversation's team or assignee goes
through here or through routing.auto_assignment (automatic) and routing.rules (routing rules);
races are settled in the database."""

import dataclasses
import heapq
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Team, User
from inbox import activity, events, hooks
from inbox.access import can_change_conversation
from inbox.models import OPEN_STATUSES, Conversation, Event, Status
from routing import hours, reference
from routing.access import assignment_refusal
from routing.auto_assignment import _candidates, _write_assignments, open_loads, schedule_hand_out


def _ref(team_id, assignee_id) -> dict:
    team = (
        Team.objects.filter(pk=team_id).values_list("slug", flat=True).first() if team_id else None
    )
    user = (
        User.objects.filter(pk=assignee_id).values_list("username", flat=True).first()
        if assignee_id
        else None
    )
    return {"team": team, "assignee": user}


@transaction.atomic
def assign_conversation(
    *, conversation_id: int, team: Team | None, assignee: User | None, actor, reason: str = ""
) -> Conversation:
    """Give a conversation to a team and/or an agent. Locks the conversation row, so of two
    agents assigning at once one wins and the other's request applies after it; a repeated
    request changes nothing and emits nothing. Emits conversation.assigned."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if actor is not None and not can_change_conversation(actor, conversation):
        raise PermissionDenied("You may not change this conversation.")
    if team is None and assignee is not None:
        team = conversation.team
    refusal = assignment_refusal(actor, conversation, team, assignee)
    if refusal:
        raise PermissionDenied(refusal)
    return _assign_locked(conversation, team=team, assignee=assignee, actor=actor, reason=reason)


def _assign_locked(conversation, *, team, assignee, actor, reason) -> Conversation:
    after = (getattr(team, "pk", None), getattr(assignee, "pk", None))
    before = (conversation.team_id, conversation.assignee_id)
    if before == after:
        return conversation
    conversation.team = team
    conversation.assignee = assignee
    conversation.save(update_fields=["team", "assignee", "updated_at"])
    before_ref = _ref(*before)
    after_ref = {
        "team": getattr(team, "slug", None),
        "assignee": getattr(assignee, "username", None),
    }
    activity.record(
        conversation=conversation,
        actor=actor,
        verb="assigned",
        from_value=before_ref,
        to_value=after_ref,
        reason=reason,
    )
    events.publish(
        "conversation.assigned",
        conversation=conversation,
        actor=actor,
        data={"before": before_ref, "after": after_ref, "reason": reason},
    )
    if before[0] != after[0]:
        hooks.run(
            "conversation_changed",
            conversation=conversation,
            changes={"team": (before[0], after[0])},
        )
    if before[1] and conversation.status in OPEN_STATUSES and before[0]:
        # The previous assignee has capacity again: their team's queue may move.
        transaction.on_commit(lambda: schedule_hand_out(before[0]))
    return conversation


@dataclass
class BulkResult:
    updated: list[int]
    unchanged: list[int]
    not_found: list[int] = dataclasses.field(default_factory=list)
    # Spread only: conversations no online agent had room for; they stay in the team's queue.
    queued: list[int] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class SpreadStep:
    agent: User | None  # None: nobody online had room; it waits in the team's queue
    load_before: int = 0  # the agent's open conversations before this one


def spread_plan(*, team: Team, rows, actor) -> dict[int, SpreadStep]:
    """Who gets which conversation when a lead spreads `rows` ((pk, team id, assignee id)) over
    `team`: its online agents and leads, never the person spreading (a lead hands work out),
    least loaded first, and nobody beyond their capacity. What does not fit stays in the team's
    queue (with its current assignee if that one is already in the team), for auto-assignment
    to hand out as agents free up. Refuses (ValidationError) when nobody at all is online."""
    actor_pk = getattr(actor, "pk", None)
    agents = [a for a in _candidates(team) if a.pk != actor_pk]
    if not agents:
        raise ValidationError({"assignee": [f"Nobody else in {team.name} is online to spread to."]})
    # Every candidate is a member of the team: one check covers them all.
    refusal = assignment_refusal(actor, None, team, agents[0])
    if refusal:
        raise PermissionDenied(refusal)
    loads = open_loads([a.pk for a in agents])
    heap = [(loads[a.pk], a.pk, a) for a in agents if loads[a.pk] < a.capacity]
    heapq.heapify(heap)
    members = {a.pk: a for a in agents}
    plan = {}
    for pk, team_id, assignee_id in rows:
        if not heap:
            keep = members.get(assignee_id) if team_id == team.pk else None
            plan[pk] = SpreadStep(agent=keep, load_before=0)
            continue
        load, agent_pk, agent = heapq.heappop(heap)
        plan[pk] = SpreadStep(agent=agent, load_before=load)
        if load + 1 < agent.capacity:
            heapq.heappush(heap, (load + 1, agent_pk, agent))
    return plan


@transaction.atomic
def bulk_assign(
    *,
    conversation_ids: list[int],
    team: Team | None,
    assignee: User | None,
    actor,
    reason: str = "",
    spread: bool = False,
) -> BulkResult:
    """Reassign many conversations at once. Ids the actor cannot see come back in `not_found` and
    are left alone. With `spread`, conversations go to the team's online agents, the least loaded
    first. Emits conversation.assigned per changed conversation.

    Set-wise: a fixed number of statements whatever the number of conversations (lock and scope
    in one SELECT ... FOR UPDATE, one UPDATE, one INSERT of the audit rows, one of the outbox
    events, the SLA hook's batch); per row only Python bookkeeping."""
    if team is None and not spread and assignee is None:
        raise ValidationError({"team": ["Give a team, an assignee, or spread."]})
    wanted = list(dict.fromkeys(conversation_ids))
    locked = Conversation.objects.select_for_update().filter(pk__in=wanted)
    if actor is not None:
        locked = locked.visible_to(actor)
    rows = list(locked.order_by("pk").values_list("pk", "team_id", "assignee_id"))
    if spread:
        if team is None:
            raise ValidationError({"team": ["Spreading needs a team."]})
        plan = spread_plan(team=team, rows=rows, actor=actor)
        targets = {pk: step.agent for pk, step in plan.items()}
    else:
        refusal = assignment_refusal(actor, None, team, assignee)
        if refusal:
            raise PermissionDenied(refusal)
        targets = dict.fromkeys((pk for pk, _, _ in rows), assignee)

    team_id = getattr(team, "pk", None)
    changed = [
        (pk, t, a) for pk, t, a in rows if (t, a) != (team_id, getattr(targets[pk], "pk", None))
    ]
    now = timezone.now()
    _write_assignments(
        [(pk, getattr(targets[pk], "pk", None)) for pk, _, _ in changed], team_id=team_id, now=now
    )

    names = dict(Team.objects.values_list("pk", "slug"))
    users = {a.pk: a.username for a in {targets[pk] for pk, _, _ in changed} if a is not None}
    old_agents = {a for _, _, a in changed if a and a not in users}
    if old_agents:
        users.update(User.objects.filter(pk__in=old_agents).values_list("pk", "username"))
    actor_id = getattr(actor, "pk", None)
    activities, outbox = [], []
    for pk, old_team, old_agent in changed:
        before = {"team": names.get(old_team), "assignee": users.get(old_agent)}
        target = targets[pk]
        after = {"team": names.get(team_id), "assignee": getattr(target, "username", None)}
        activities.append(
            {
                "conversation_id": pk,
                "actor_id": actor_id,
                "verb": "assigned",
                "from_value": before,
                "to_value": after,
                "reason": reason,
                "created_at": now,
            }
        )
        outbox.append(
            Event(
                type="conversation.assigned",
                conversation_id=pk,
                team_id=team_id,
                actor_id=actor_id,
                payload={"conversation": pk, "before": before, "after": after, "reason": reason},
                created_at=now,
            )
        )
    activity.record_many(activities)
    events.publish_many(outbox)
    moved_team = [pk for pk, old_team, _ in changed if old_team != team_id]
    if moved_team:
        hooks.run("conversations_changed", conversation_ids=moved_team, changes={"team": team_id})
    changed_ids = {pk for pk, _, _ in changed}
    found = {pk for pk, _, _ in rows}
    return BulkResult(
        updated=[pk for pk, _, _ in changed],
        unchanged=[pk for pk, _, _ in rows if pk not in changed_ids],
        not_found=[pk for pk in wanted if pk not in found],
        queued=[pk for pk, _, _ in rows if spread and targets[pk] is None],
    )


@transaction.atomic
def bulk_change(
    *,
    conversation_ids: list[int],
    action: str,
    actor,
    reason: str = "",
    tags=(),
    status: str | None = None,
    snoozed_until=None,
    severity: str | None = None,
) -> BulkResult:
    """Tag, untag, set status or set severity on many conversations (the caller has checked they
    are visible), each through its own service so every one is audited and published. One
    transaction: a refusal part-way changes none of them."""
    from inbox.models import Severity
    from inbox.services import set_status
    from tagging.services import apply_tags, remove_tag, set_severity, tags_for_slugs

    tag_objects = tags_for_slugs(tags) if action in ("tag", "untag") else []
    wanted_severity = Severity.from_name(severity) if action == "severity" else None
    field = {"status": "status", "severity": "severity"}.get(action)
    before = (
        dict(Conversation.objects.filter(pk__in=conversation_ids).values_list("pk", field))
        if field
        else {}
    )
    updated, unchanged = [], []
    for pk in conversation_ids:
        if action == "tag":
            changed = bool(
                apply_tags(conversation_id=pk, tags=tag_objects, actor=actor, reason=reason)
            )
        elif action == "untag":
            changed = any(
                [
                    remove_tag(conversation_id=pk, tag=tag, actor=actor, reason=reason)
                    for tag in tag_objects
                ]
            )
        elif action == "status":
            set_status(
                conversation_id=pk,
                status=status,
                actor=actor,
                snoozed_until=snoozed_until,
                reason=reason,
            )
            changed = before.get(pk) != status or status == Status.SNOOZED
        elif action == "severity":
            set_severity(conversation_id=pk, severity=wanted_severity, actor=actor, reason=reason)
            changed = before.get(pk) != wanted_severity
        else:
            raise ValueError(f"unknown bulk action {action!r}")
        (updated if changed else unchanged).append(pk)
    return BulkResult(updated=updated, unchanged=unchanged)


def mark_outside_hours(*, conversation: Conversation, message) -> None:
    """Hook on conversation_opening: a customer's first message outside its team's business
    hours marks the conversation for the overnight queue, in the row's INSERT."""
    if message.auto_kind:
        return
    policy = reference.team_policies().get(conversation.team_id)
    if not hours.is_open(policy.business_hours if policy else None, conversation.last_message_at):
        conversation.arrived_outside_hours = True


def overnight_q() -> Q:
    return Q(arrived_outside_hours=True, assignee__isnull=True, status=Status.OPEN)
