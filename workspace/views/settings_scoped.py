"""What the settings pages of the scoped libraries share (Settings > Canned responses, Settings >
Macros): each item is personal, for a team or for everyone (inbox.canned's scopes); the list
says which and whether you may change it, and the form offers the scopes and teams you may
write for."""

from django.utils.translation import gettext as _

from accounts.models import Team
from accounts.permissions import can_administer, can_write
from inbox.canned import GLOBAL, PERSONAL, TEAM, led_team_ids, may_manage, scope_of


def scopes_for(user) -> list[tuple[str, str]]:
    scopes = [(PERSONAL, _("Only me"))]
    if can_administer(user) or user.memberships.filter(role="lead").exists():
        scopes.append((TEAM, _("A team")))
    if can_administer(user):
        scopes.append((GLOBAL, _("Everyone")))
    return scopes


def teams_for(user):
    if can_administer(user):
        return Team.objects.order_by("name")
    return Team.objects.filter(memberships__user=user, memberships__role="lead").order_by("name")


def form_context(user) -> dict:
    """The form's scope and team choices, and whether the user writes at all."""
    return {"scopes": scopes_for(user), "teams": teams_for(user), "can_write": can_write(user)}


def listed(user, items, *, name: str) -> list[dict]:
    """A row per item for the list, {name: item, "scope": ..., "can_edit": ...}; the teams the
    user leads are read once, not per row."""
    led = led_team_ids(user)
    rows = []
    for item in items:
        scope = scope_of(item)
        can_edit = may_manage(user, scope=scope, team=item.team, owner=item.owner, led=led)
        rows.append({name: item, "scope": scope, "can_edit": can_edit})
    return rows


def scope_form(item) -> dict:
    """The scope and team of the form filled with `item` to edit it."""
    return {"scope": scope_of(item), "team": item.team.slug if item.team_id else ""}


def team_named(slug: str) -> Team | None:
    """The team the form names (its slug), or None."""
    return Team.objects.filter(slug=slug).first() if slug else None
