"""Who may give a conversation to which team and agent."""

from accounts.models import Membership, User
from accounts.permissions import can_write


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
