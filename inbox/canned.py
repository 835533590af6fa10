"""Canned responses: saved replies an agent inserts from the composer (the list, or `/` and the
shortcut), personal (any agent), for one team (its leads and admins write them) or for everyone
(admins). Variables like {{contact.name}} are filled in for the conversation at hand by plain
substitution, no template language: the result is untrusted text the page escapes like any other.
The settings page (workspace) and /api/v1/canned-responses/ call these functions."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from inbox import events
from inbox.models import CannedResponse

VARIABLES = {
    "contact.name": gettext_lazy("the customer's name"),
    "contact.first_name": gettext_lazy("the customer's first name"),
    "contact.email": gettext_lazy("the customer's email address"),
    "agent.name": gettext_lazy("your name"),
    "agent.first_name": gettext_lazy("your first name"),
    "team.name": gettext_lazy("the conversation's team"),
}
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
ANY_BRACES = re.compile(r"\{\{(.*?)\}\}")
SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")

PERSONAL, TEAM, GLOBAL = "personal", "team", "global"
SCOPES = (PERSONAL, TEAM, GLOBAL)


def scope_of(canned: CannedResponse) -> str:
    if canned.owner_id:
        return PERSONAL
    return TEAM if canned.team_id else GLOBAL


def visible_to(user) -> Q:
    """Shared with everyone, with one of the user's teams, or the user's own."""
    visible = Q(owner__isnull=True, team__isnull=True) | Q(owner=user)
    return visible | Q(owner__isnull=True, team__in=user.memberships.values("team_id"))


def canned_list_for(*, user) -> QuerySet[CannedResponse]:
    return CannedResponse.objects.filter(visible_to(user)).select_related("team", "owner")


def led_team_ids(user) -> set[int]:
    from accounts.models import Membership

    return set(
        Membership.objects.filter(user=user, role=Membership.Role.LEAD).values_list(
            "team_id", flat=True
        )
    )


def may_manage(user, *, scope: str, team=None, owner=None, led: set[int] | None = None) -> bool:
    """Personal: its owner, any role but viewer. Team: that team's leads and admins. Global:
    admins. A list passes `led` (led_team_ids, read once) so rows cost no query each."""
    from accounts.permissions import can_administer, can_write

    if not can_write(user):
        return False
    if scope == PERSONAL:
        return owner is None or owner.pk == user.pk
    if can_administer(user):
        return True
    if scope == TEAM and team is not None:
        return team.pk in (led if led is not None else led_team_ids(user))
    return False


def values_for(*, user, conversation) -> dict[str, str]:
    contact = conversation.contact
    name = contact.name or str(contact)
    agent = user.display_name
    return {
        "contact.name": name,
        "contact.first_name": name.split()[0] if name.split() else name,
        "contact.email": contact.email or "",
        "agent.name": agent,
        "agent.first_name": user.first_name or agent,
        "team.name": conversation.team.name if conversation.team_id else "",
    }


def fill(text: str, values: dict[str, str]) -> str:
    # One pass, so a name that itself looks like a placeholder is left as it is.
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def preview(*, user, text: str) -> str:
    """`text` filled with sample values for a customer and the user's own name."""
    agent = user.display_name
    sample = {
        "contact.name": "Dana Smith",
        "contact.first_name": "Dana",
        "contact.email": "dana@example.com",
        "agent.name": agent,
        "agent.first_name": user.first_name or agent,
        "team.name": pgettext("a sample team name", "Support"),
    }
    return fill(text, sample)


def canned_responses_for(*, user, conversation) -> list[dict]:
    """[{"id", "title", "shortcut", "text"}] visible to `user`, by title, filled in for
    `conversation`."""
    values = values_for(user=user, conversation=conversation)
    return [
        {
            "id": canned.pk,
            "title": canned.title,
            "shortcut": canned.shortcut,
            "text": fill(canned.text, values),
        }
        for canned in CannedResponse.objects.filter(visible_to(user)).order_by("title", "pk")
    ]


def _validate(*, title: str, text: str, shortcut: str, scope: str, team) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = _("Give it a title.")
    elif len(title.strip()) > 120:
        errors["title"] = _("At most 120 characters.")
    if not text.strip():
        errors["text"] = _("Write the text to insert.")
    elif len(text) > 50000:
        errors["text"] = _("At most 50,000 characters.")
    else:
        unknown = [
            m.group(0) for m in ANY_BRACES.finditer(text) if m.group(1).strip() not in VARIABLES
        ]
        if unknown:
            errors["text"] = _("Unknown variable %(names)s; use one of: %(known)s.") % {
                "names": ", ".join(unknown),
                "known": ", ".join("{{" + v + "}}" for v in VARIABLES),
            }
    if shortcut and not SHORTCUT.fullmatch(shortcut):
        errors["shortcut"] = _(
            "Lowercase letters, digits, - and _, at most 40, starting with a letter or digit."
        )
    if scope not in SCOPES:
        errors["scope"] = _("Pick one of: personal, team, global.")
    elif scope == TEAM and team is None:
        errors["team"] = _("Pick the team it is for.")
    return errors


def _same_scope(scope: str, *, owner, team) -> Q:
    if scope == PERSONAL:
        return Q(owner=owner)
    if scope == TEAM:
        return Q(owner__isnull=True, team=team)
    return Q(owner__isnull=True, team__isnull=True)


@transaction.atomic
def save_canned_response(
    *,
    actor,
    title: str,
    text: str,
    shortcut: str = "",
    scope: str = PERSONAL,
    team=None,
    canned: CannedResponse | None = None,
) -> CannedResponse:
    """Create (`canned` None) or change a canned response. Refuses with PermissionDenied when
    `actor` may not manage the old or the new scope, ValidationError keyed by field otherwise
    (title, text with an unknown variable, shortcut taken in the same scope, scope, team).
    Emits canned_response.saved."""
    shortcut = (shortcut or "").strip().lower().lstrip("/")
    team = team if scope == TEAM else None
    if canned is not None:
        canned = CannedResponse.objects.select_for_update().get(pk=canned.pk)
        if not may_manage(actor, scope=scope_of(canned), team=canned.team, owner=canned.owner):
            raise PermissionDenied(_("You may not change this canned response."))
    owner = (canned.owner if canned and canned.owner_id else actor) if scope == PERSONAL else None
    errors = _validate(title=title, text=text, shortcut=shortcut, scope=scope, team=team)
    if errors:
        raise ValidationError(errors)
    if not may_manage(actor, scope=scope, team=team, owner=owner):
        raise PermissionDenied(
            _("Only admins write canned responses for everyone, and team leads for their team.")
        )
    if shortcut:
        taken = CannedResponse.objects.filter(
            _same_scope(scope, owner=owner, team=team), shortcut=shortcut
        )
        if canned is not None:
            taken = taken.exclude(pk=canned.pk)
        if taken.exists():
            raise ValidationError(
                {"shortcut": _("/%(s)s is taken here already.") % {"s": shortcut}}
            )
    canned = canned or CannedResponse()
    canned.title, canned.text, canned.shortcut = title.strip(), text, shortcut
    canned.owner, canned.team = owner, team
    canned.save()
    events.publish(
        "canned_response.saved",
        actor=actor,
        data={"canned_response": canned.pk, "scope": scope},
    )
    return canned


@transaction.atomic
def delete_canned_response(*, actor, canned: CannedResponse) -> None:
    if not may_manage(actor, scope=scope_of(canned), team=canned.team, owner=canned.owner):
        raise PermissionDenied(_("You may not delete this canned response."))
    events.publish("canned_response.deleted", actor=actor, data={"canned_response": canned.pk})
    canned.delete()
