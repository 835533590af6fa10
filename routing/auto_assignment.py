"""Automatic assignment: an unassigned open conversation goes to an online agent of its team
with room, by the team's policy (least load or round robin); the team's queue is handed out as
agents go online or free up."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Membership, Team, User
from inbox import activity, events
from inbox.models import OPEN_STATUSES, Conversation, Status
from routing.models import TeamPolicy


def open_loads(user_ids) -> dict[int, int]:
    rows = (
        Conversation.objects.filter(assignee_id__in=user_ids, status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("*"))  # not Count("id"): counted from the index alone, no heap reads
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


def hand_out_after_close(*, conversation: Conversation, changes: dict) -> None:
    _, after = changes.get("status", (None, None))
    if after == Status.RESOLVED and conversation.assignee_id and conversation.team_id:
        team_id = conversation.team_id
        transaction.on_commit(lambda: schedule_hand_out(team_id))
