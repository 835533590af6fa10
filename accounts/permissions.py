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


def can_merge_contacts(user) -> bool:
    """Merging two contacts moves whole histories: admins and leads only."""
    return bool(can_write(user) and (user.is_admin_role or user.role == User.Role.LEAD))
