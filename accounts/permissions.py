"""What each role may do. The one place the role rules live; which conversations a user sees is
built on these in inbox.access, who may assign what in routing.access.

| role   | sees                                                     | may change                      |
| admin  | everything                                               | everything                      |
| lead   | their teams' conversations, conversations with no team,  | triage within their scope       |
|        | and those assigned to them                               |                                 |
| agent  | their teams' conversations and those assigned to them    | triage within their scope       |
| viewer | every conversation, read-only                            | nothing                         |

A conversation outside a user's scope does not exist for them (404, never 403).
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.models import User


def sees_everything(user) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_superuser or user.role in (User.Role.ADMIN, User.Role.VIEWER))
    )


def can_write(user) -> bool:
    """Whether the user's role may change conversations at all (the viewer may not)."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role != User.Role.VIEWER)
    )


def can_administer(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_admin_role)


def require_admin(user) -> None:
    """PermissionDenied unless the user may administer: the settings services' first line."""
    if not can_administer(user):
        raise PermissionDenied(_("Only admins may do this."))


def can_bulk(user) -> bool:
    """Bulk actions are for leads and admins."""
    return bool(can_write(user) and (user.is_admin_role or user.role == User.Role.LEAD))


def can_block_contacts(user) -> bool:
    """Blocking a contact hides everything they send from every view: admins and leads only."""
    return bool(can_write(user) and (user.is_admin_role or user.role == User.Role.LEAD))


def can_merge_contacts(user) -> bool:
    """Merging two contacts moves whole histories: admins and leads only."""
    return bool(can_write(user) and (user.is_admin_role or user.role == User.Role.LEAD))


def can_see_spike_alerts(user) -> bool:
    """Incident spike alerts (their list, the inbox banner, the bell and mail): leads and admins."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_admin_role or user.role == User.Role.LEAD)
    )
