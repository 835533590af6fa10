"""Who may see and change what. The one place the role rules live.

| role   | sees                                                     | may change                      |
| admin  | everything                                               | everything                      |
| lead   | their teams' conversations, conversations with no team,  | triage within their scope       |
|        | and those assigned to them                               |                                 |
| agent  | their teams' conversations and those assigned to them    | triage within their scope       |
| viewer | every conversation, read-only                            | nothing                         |

A conversation outside a user's scope does not exist for them (404, never 403).
"""

from django.db.models import Q

from accounts.models import Membership, User

_NOTHING = Q(pk__in=[])


def sees_everything(user) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or user.role in (User.Role.ADMIN, User.Role.VIEWER))
    )


def team_ids_subquery(user):
    return Membership.objects.filter(user_id=user.pk).values("team_id")


def conversation_scope(user) -> Q:
    """A filter for the conversations `user` may see. Costs no query of its own: the team
    membership is a subquery inside the caller's query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return _NOTHING
    if sees_everything(user):
        return Q()
    scope = Q(team_id__in=team_ids_subquery(user)) | Q(assignee_id=user.pk)
    if user.role == User.Role.LEAD:
        scope |= Q(team__isnull=True)
    return scope


def can_write(user) -> bool:
    """Whether the user's role may change conversations at all (the viewer may not)."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role != User.Role.VIEWER)
    )


def can_administer(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_admin_role)


def can_change_conversation(user, conversation) -> bool:
    """Triage writes (tag, severity, status, reply, note) on a conversation the user can see."""
    if user is None:
        return True  # the system: rules, sweeps
    if not can_write(user):
        return False
    if user.is_admin_role:
        return True
    from inbox.models import Conversation

    return Conversation.objects.visible_to(user).filter(pk=conversation.pk).exists()


def assignment_refusal(user, conversation, team, assignee) -> str | None:
    """Why `user` may not give `conversation` to (team, assignee); None when they may.

    admin: anything. lead: within their teams any member; out of their teams to another team's
    queue (no agent). agent: take it or hand it to a member, within their own teams.
    The assignee, when given, must be an active member of the team.
    """
    if user is None:
        return None
    if not can_write(user):
        return "Your role cannot assign conversations."
    if assignee is not None:
        if not assignee.is_active:
            return f"{assignee.username} is deactivated."
        if team is not None and not Membership.objects.filter(user=assignee, team=team).exists():
            return f"{assignee.username} is not a member of {team.slug}."
    if user.is_admin_role:
        return None
    my_teams = set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
    target_is_mine = team is not None and team.pk in my_teams
    if user.role == User.Role.LEAD:
        if target_is_mine or assignee is None:
            return None
        return "Leads hand conversations to another team's queue, not to its agents."
    if not target_is_mine:
        return "Agents assign within their own teams."
    return None


def can_bulk(user) -> bool:
    """Bulk actions are for leads and admins."""
    return bool(can_write(user) and (user.is_admin_role or user.role == User.Role.LEAD))


def can_merge_contacts(user) -> bool:
    """Merging two contacts moves whole histories: admins and leads only."""
    return bool(can_write(user) and (user.is_admin_role or user.role == User.Role.LEAD))
