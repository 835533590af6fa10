"""Who sees which conversation, and who may change it. The role predicates these build on live in
accounts.permissions.

A conversation outside a user's scope does not exist for them (404, never 403).
"""

from django.db.models import Q

from accounts.models import Membership, User
from accounts.permissions import can_write, sees_everything

_NOTHING = Q(pk__in=[])


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


def can_change_conversation(user, conversation) -> bool:
    """Triage writes (tag, severity, status, reply, note) on a conversation the user can see."""
    if user is None:
        return True  # the system: rules, sweeps
    if not can_write(user):
        return False
    if user.is_admin_role:
        return True
    return type(conversation).objects.visible_to(user).filter(pk=conversation.pk).exists()
