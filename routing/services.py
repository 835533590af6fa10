"""Assignment: by hand, by rules, automatically, in bulk. Every change of a conversation's team or
assignee goes through here; races are settled in the database."""

import dataclasses
import heapq
import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Membership, Team, User
from inbox import activity, events, hooks
from inbox.access import can_change_conversation
from inbox.models import OPEN_STATUSES, Conversation, Event, Status
from routing import hours, reference
from routing.access import assignment_refusal
from routing.models import RoutingRule, TeamPolicy

logger = logging.getLogger(__name__)


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


# --- automatic assignment ------------------------------------------------------------------------


def open_loads(user_ids) -> dict[int, int]:
    rows = (
        Conversation.objects.filter(assignee_id__in=user_ids, status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("id"))
    )
    loads = dict.fromkeys(user_ids, 0)
    loads.update({row["assignee_id"]: row["n"] for row in rows})
    return loads


def _candidates(team: Team) -> list[User]:
    return list(
        User.objects.filter(
            memberships__team=team,
            is_active=True,
            availability=User.Availability.ONLINE,
            role__in=[User.Role.AGENT, User.Role.LEAD],
        ).order_by("pk")
    )


CANDIDATES_WITH_LOADS = """
    SELECT u.id, u.username, u.capacity,
        (SELECT count(*) FROM inbox_conversation c
         WHERE c.assignee_id = u.id AND c.status IN (%s, %s, %s)) AS open_load
    FROM accounts_user u JOIN accounts_membership m ON m.user_id = u.id
    WHERE m.team_id = %s AND u.is_active AND u.availability = %s AND u.role IN (%s, %s)
    ORDER BY u.id
"""


def _candidates_with_loads(team_id: int) -> list[User]:
    """_candidates() with each agent's `open_load` (as open_loads() counts) in one statement,
    only the columns auto-assignment reads (it runs for every arrival; the ORM spent more
    time building the two queries than PostgreSQL answering them)."""
    return list(
        User.objects.raw(
            CANDIDATES_WITH_LOADS,
            [*OPEN_STATUSES, team_id, User.Availability.ONLINE, User.Role.AGENT, User.Role.LEAD],
        )
    )


def _pick(policy: TeamPolicy, agents: list[User], loads: dict[int, int]) -> User | None:
    eligible = [a for a in agents if loads[a.pk] < a.capacity]
    if not eligible:
        return None
    if policy.assignment == TeamPolicy.Assignment.ROUND_ROBIN:
        after = policy.last_assigned_id or 0
        later = [a for a in eligible if a.pk > after]
        return (later or eligible)[0]
    return min(eligible, key=lambda a: (loads[a.pk], a.pk))


@transaction.atomic
def auto_assign(*, conversation_id: int) -> User | None:
    """Hand an unassigned open conversation to an online agent of its team with room, by the
    team's policy. Locks the conversation, then the team's policy row: auto-assignment for one
    team is serialised, so loads are read consistently and no agent goes over capacity even with
    many workers at once. Returns the agent, or None (manual team, nobody free: it waits in the
    queue)."""
    return _auto_assign_locked(Conversation.objects.select_for_update().get(pk=conversation_id))


def _auto_assign_locked(conversation: Conversation) -> User | None:
    """auto_assign() of a conversation the caller has locked and read."""
    if (
        conversation.assignee_id
        or conversation.status not in OPEN_STATUSES
        or not conversation.team_id
    ):
        return None
    return _auto_assign_in_order([conversation]).get(conversation.pk)


def _auto_assign_in_order(conversations: list[Conversation]) -> dict[int, User]:
    """Hand unassigned open conversations, locked and read by the caller, to online agents of
    their teams with room, in order, each by its team's policy, as one auto_assign() after
    another would; returns conversation id -> agent for those handed out (the rest wait in
    their team's queue). Each team's policy row is locked once (in team order); every pick
    counts the ones before it, whatever their team (an agent may be in several)."""
    policies: dict[int, TeamPolicy] = {}
    for team_id in sorted({c.team_id for c in conversations}):
        if not any(a.open_load < a.capacity for a in _candidates_with_loads(team_id)):
            # Nobody has room: its conversations wait in the queue, without locking the policy
            # row (a lock per arrival of a full team, from a drain's savepoints, made a
            # MultiXact each). Loads only grow under others' locks, so the locked read below
            # would find nobody too.
            continue
        policy = (
            TeamPolicy.objects.select_for_update(of=("self",))
            .select_related("team")
            .filter(team_id=team_id)
            .first()
        )
        if policy is not None and policy.assignment != TeamPolicy.Assignment.MANUAL:
            policies[team_id] = policy
    agents = {team_id: _candidates_with_loads(team_id) for team_id in policies}
    loads = {a.pk: a.open_load for team in agents.values() for a in team}
    picked: dict[int, User] = {}
    by_team: dict[int, list[tuple[int, int]]] = {}  # team -> (conversation, agent), in order
    for conversation in conversations:
        policy = policies.get(conversation.team_id)
        agent = _pick(policy, agents[policy.team_id], loads) if policy else None
        if agent is None:
            continue
        picked[conversation.pk] = agent
        by_team.setdefault(policy.team_id, []).append((conversation.pk, agent.pk))
        loads[agent.pk] += 1
        policy.last_assigned_id = agent.pk
    if not picked:
        return picked
    now = timezone.now()
    for team_id, assignments in by_team.items():
        _write_assignments(assignments, team_id=team_id, now=now)
    audit = []
    for conversation in conversations:
        agent = picked.get(conversation.pk)
        if agent is None:
            continue
        policy = policies[conversation.team_id]
        reason = f"auto ({policy.assignment})"
        before = {"team": policy.team.slug, "assignee": None}
        after = {"team": policy.team.slug, "assignee": agent.username}
        conversation.assignee = agent
        conversation.updated_at = now
        audit.append(
            {
                "conversation_id": conversation.pk,
                "verb": "assigned",
                "from_value": before,
                "to_value": after,
                "reason": reason,
                "created_at": now,
            }
        )
        events.publish(
            "conversation.assigned",
            conversation=conversation,
            data={"before": before, "after": after, "reason": reason},
        )
    activity.record_many(audit)
    for team_id in by_team:
        policies[team_id].save(update_fields=["last_assigned"])
    return picked


def hand_out_queue(*, team_id: int, limit: int = 200) -> int:
    """Give the team's waiting conversations, oldest first, to agents with room; stops at the
    first that finds nobody. Each conversation is its own transaction."""
    handed = 0
    queue = (
        Conversation.objects.filter(team_id=team_id, assignee__isnull=True, status=Status.OPEN)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for conversation_id in list(queue):
        if auto_assign(conversation_id=conversation_id) is None:
            break
        handed += 1
    return handed


def schedule_hand_out(team_id: int) -> None:
    from core.tasks import enqueue
    from routing.tasks import hand_out_queue as task

    enqueue(task, team_id)


@transaction.atomic
def set_availability(*, user: User, availability: str) -> User:
    """An agent goes online, away or offline. Going online hands out their teams' queues."""
    if availability not in User.Availability.values:
        raise ValidationError({"availability": [f"One of {', '.join(User.Availability.values)}."]})
    User.objects.filter(pk=user.pk).update(availability=availability)
    user.availability = availability
    if availability == User.Availability.ONLINE:
        for team_id in Membership.objects.filter(user=user).values_list("team_id", flat=True):
            transaction.on_commit(lambda team_id=team_id: schedule_hand_out(team_id))
    return user


# --- bulk ------------------------------------------------------------------------------------


@dataclass
class BulkResult:
    updated: list[int]
    unchanged: list[int]
    not_found: list[int] = dataclasses.field(default_factory=list)


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
        agents = _candidates(team)
        if not agents:
            raise ValidationError({"assignee": [f"Nobody in {team.slug} is online to spread to."]})
        # Every candidate is a member of the team: one check covers them all.
        refusal = assignment_refusal(actor, None, team, agents[0])
        if refusal:
            raise PermissionDenied(refusal)
        loads = open_loads([a.pk for a in agents])
        heap = [(loads[a.pk], a.pk, a) for a in agents]
        heapq.heapify(heap)
        targets = {}
        for pk, _, _ in rows:
            load, agent_pk, agent = heapq.heappop(heap)
            targets[pk] = agent
            heapq.heappush(heap, (load + 1, agent_pk, agent))
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
    )


UPDATE_ASSIGNMENTS = (
    "UPDATE inbox_conversation AS c SET team_id = %s, assignee_id = u.a, updated_at = %s "
    "FROM unnest(%s::bigint[], %s::bigint[]) AS u(id, a) WHERE c.id = u.id"
)


def _write_assignments(pairs: list[tuple[int, int | None]], *, team_id, now) -> None:
    """Set (team, assignee) of many locked conversations: one UPDATE. Spread over several agents
    on PostgreSQL that is an UPDATE joined to two arrays; elsewhere one UPDATE per agent."""
    if not pairs:
        return
    by_agent: dict[int | None, list[int]] = {}
    for pk, agent_id in pairs:
        by_agent.setdefault(agent_id, []).append(pk)
    connection = transaction.get_connection()
    if len(by_agent) > 1 and connection.vendor == "postgresql":
        ids, agents = zip(*pairs, strict=True)
        with connection.cursor() as cursor:
            cursor.execute(UPDATE_ASSIGNMENTS, [team_id, now, list(ids), list(agents)])
        return
    for agent_id, ids in by_agent.items():
        Conversation.objects.filter(pk__in=ids).update(
            team_id=team_id, assignee_id=agent_id, updated_at=now
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


# --- routing rules ---------------------------------------------------------------------------


def rule_matches(
    rule: RoutingRule, conversation: Conversation, *, text: str = "", tag_slugs=None
) -> bool:
    c = rule.conditions or {}
    if c.get("channels") and conversation.channel.slug not in c["channels"]:
        return False
    if c.get("tags_any"):
        tag_slugs = set(
            tag_slugs if tag_slugs is not None else conversation.tags.values_list("slug", flat=True)
        )
        if not tag_slugs & set(c["tags_any"]):
            return False
    if c.get("severity_at_least"):
        from inbox.models import Severity

        if conversation.severity < Severity.from_name(c["severity_at_least"]):
            return False
    if c.get("keywords"):
        from tagging.services import _keyword_pattern

        pattern = _keyword_pattern(c["keywords"])
        if not pattern or not pattern.search(f"{conversation.subject}\n{text[:10_000]}"):
            return False
    if c.get("sender_domains"):
        domain = conversation.contact.email.rpartition("@")[2].lower()
        if domain not in {d.lower().lstrip("@") for d in c["sender_domains"]}:
            return False
    attribute = c.get("contact_attribute")
    if attribute and str(conversation.contact.attributes.get(attribute.get("key"))) != str(
        attribute.get("value")
    ):
        return False
    wants_outside = c.get("outside_business_hours")
    return wants_outside is None or bool(wants_outside) == conversation.arrived_outside_hours


def apply_rule_actions(rule: RoutingRule, conversation: Conversation) -> None:
    from tagging.services import apply_tags, set_severity, tags_for_slugs

    a = rule.actions or {}
    reason = f"routing rule: {rule.name}"
    if a.get("add_tags"):
        apply_tags(
            conversation_id=conversation.pk,
            tags=tags_for_slugs(a["add_tags"]),
            actor=None,
            reason=reason,
            run_rules=False,
        )
    if a.get("set_severity"):
        from inbox.models import Severity

        set_severity(
            conversation_id=conversation.pk,
            severity=Severity.from_name(a["set_severity"]),
            actor=None,
            reason=reason,
        )
    if a.get("assign_team") or a.get("assign_agent"):
        team = (
            Team.objects.filter(slug=a["assign_team"]).first()
            if a.get("assign_team")
            else conversation.team
        )
        agent = (
            User.objects.filter(username=a["assign_agent"], is_active=True).first()
            if a.get("assign_agent")
            else None
        )
        current = Conversation.objects.select_for_update().get(pk=conversation.pk)
        _assign_locked(current, team=team, assignee=agent, actor=None, reason=reason)
    if a.get("set_status"):
        from inbox.services import set_status

        set_status(
            conversation_id=conversation.pk, status=a["set_status"], actor=None, reason=reason
        )


def run_routing_rules(conversation: Conversation, *, text: str = "") -> list[RoutingRule]:
    applied = []
    for rule in reference.routing_rules():
        conversation.refresh_from_db()
        if rule_matches(rule, conversation, text=text):
            apply_rule_actions(rule, conversation)
            applied.append(rule)
            if rule.stop_processing:
                break
    return applied


def dry_run_rule(*, rule: RoutingRule, limit: int = 200) -> list[int]:
    """Which of the most recent conversations this rule would act on; changes nothing."""
    recent = (
        Conversation.objects.select_related("channel", "contact")
        .prefetch_related("tags")
        .order_by("-created_at")[:limit]
    )
    matched = []
    for conversation in recent:
        first = (
            conversation.messages.filter(direction="in")
            .order_by("created_at")
            .values_list("text", flat=True)
            .first()
        )
        if rule_matches(
            rule,
            conversation,
            text=first or "",
            tag_slugs=[t.slug for t in conversation.tags.all()],
        ):
            matched.append(conversation.pk)
    return matched


# --- hooks -----------------------------------------------------------------------------------


def mark_outside_hours(*, conversation: Conversation, message) -> None:
    """Hook on conversation_opening: a customer's first message outside its team's business
    hours marks the conversation for the overnight queue, in the row's INSERT."""
    if message.auto_kind:
        return
    policy = reference.team_policies().get(conversation.team_id)
    if not hours.is_open(policy.business_hours if policy else None, conversation.last_message_at):
        conversation.arrived_outside_hours = True


def route_arrivals(*, arrivals) -> None:
    """Hook on messages_received: run routing rules for new conversations, then auto-assign what
    is still unassigned, in arrival order (overnight arrivals were marked as they opened:
    mark_outside_hours). While routing rules exist arrivals come one at a time
    (arrivals_in_order): a rule's assignment must count before the next arrival's."""
    rules = reference.routing_rules()
    waiting: list[Conversation] = []
    for arrival in arrivals:
        if arrival.message.auto_kind:
            continue
        conversation = arrival.conversation
        if arrival.conversation_created:
            run_routing_rules(conversation, text=arrival.message.text)
        if rules:
            # A rule (here, or run by the tags classification added) may have moved it.
            conversation.refresh_from_db(fields=["assignee", "team", "status"])
        if conversation.assignee_id is None and conversation.status == Status.OPEN:
            policy = reference.team_policies().get(conversation.team_id)
            if policy is not None and policy.assignment != TeamPolicy.Assignment.MANUAL:
                waiting.append(conversation)
    if waiting:
        # The arrivals hold the locks, and what auto-assignment reads (team, assignee, status)
        # is current: refreshed above when rules could have moved them.
        _auto_assign_in_order(waiting)


def arrivals_in_order() -> bool:
    """Hook on arrivals_in_order: routing rules (run on arrival and on tags) may assign, so each
    arrival's hooks must run before the next one's."""
    return bool(reference.routing_rules())


def route_on_tags(*, conversation: Conversation, added, removed, run_rules: bool) -> None:
    if run_rules and added:
        run_routing_rules(conversation)


def hand_out_after_close(*, conversation: Conversation, changes: dict) -> None:
    _, after = changes.get("status", (None, None))
    if after == Status.RESOLVED and conversation.assignee_id and conversation.team_id:
        team_id = conversation.team_id
        transaction.on_commit(lambda: schedule_hand_out(team_id))


def overnight_q() -> Q:
    return Q(arrived_outside_hours=True, assignee__isnull=True, status=Status.OPEN)
