"""Macros: named lists of actions an agent runs on a conversation, or on a selection, in one
click. Each action goes through the service that does it by hand (tagging.services.apply_tags,
tagging.services.set_severity, routing.services.assign_conversation, inbox.services.set_status,
inbox.outbound.replies.send_reply, inbox.services.add_note), so permissions, audit rows and events
are the ones a click would make; each passes the reason "macro: NAME".

A run on one conversation is atomic: when one action is refused, nothing of the run stays and
MacroRefused says which step stopped it and why. A finished run writes one Activity row, verb
"macro", whose to_value names the macro and lists the changes it made: the one audit step. A run
on a selection runs each conversation in its own transaction, so one refusal costs only that
conversation. Scopes are the canned responses' (personal, team, global; inbox.canned).
The settings page (workspace) and /api/v1/macros/ call these functions."""

from dataclasses import dataclass, field

import jsonschema
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team, User
from core.errors import ActionRefused
from inbox import activity, events
from inbox import canned as canned_service
from inbox import services as inbox_services
from inbox.canned import GLOBAL, PERSONAL, SCOPES, TEAM, led_team_ids, may_manage, scope_of
from inbox.models import AGENT_STATUSES, SEVERITY_WORDS, CannedResponse, Conversation, Severity
from inbox.outbound.replies import send_reply
from routing import services as routing_services
from routing.models import Macro
from tagging import services as tagging_services
from tagging.models import Tag

__all__ = ["GLOBAL", "PERSONAL", "SCOPES", "TEAM", "led_team_ids", "may_manage", "scope_of"]

ME = "me"  # assign_agent's value for "whoever runs the macro"
KINDS = {
    "add_tags": gettext_lazy("Add tags"),
    "set_severity": gettext_lazy("Set severity"),
    "assign_team": gettext_lazy("Assign to team"),
    "assign_agent": gettext_lazy("Assign to agent"),
    "set_status": gettext_lazy("Set status"),
    "send_canned": gettext_lazy("Send canned reply"),
    "add_note": gettext_lazy("Add a note"),
}
MAX_ACTIONS = 20


def _then(kind: str, value: dict) -> dict:
    return {
        "if": {"properties": {"kind": {"const": kind}}},
        "then": {"properties": {"value": value}},
    }


ACTIONS_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_ACTIONS,
    "items": {
        "type": "object",
        "required": ["kind", "value"],
        "additionalProperties": False,
        "properties": {"kind": {"enum": list(KINDS)}, "value": {}},
        "allOf": [
            _then(
                "add_tags",
                {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
            ),
            _then("set_severity", {"enum": [s.label for s in Severity]}),
            _then("assign_team", {"type": "string", "minLength": 1}),
            _then("assign_agent", {"type": "string", "minLength": 1}),
            _then("set_status", {"enum": [v for v, _label in AGENT_STATUSES if v != "snoozed"]}),
            _then("send_canned", {"type": "integer", "minimum": 1}),
            _then("add_note", {"type": "string", "minLength": 1, "maxLength": 10000}),
        ],
    },
}


class MacroRefused(ActionRefused):
    """One action of a run was refused; str() names the macro, the step and the reason."""


def macros_for(*, user) -> QuerySet[Macro]:
    """Everyone's, the user's teams' and the user's own."""
    return Macro.objects.filter(canned_service.visible_to(user)).select_related("team", "owner")


def _schema_errors(actions) -> list[str]:
    validator = jsonschema.Draft202012Validator(ACTIONS_SCHEMA)
    problems = []
    for error in sorted(validator.iter_errors(actions), key=lambda e: list(e.absolute_path)):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        problems.append(f"actions{where}: {error.message}")
    return problems


def _reference_errors(actions: list[dict]) -> list[str]:
    """The slugs, names and ids the actions point at must exist."""
    problems = []
    for i, action in enumerate(actions):
        kind, value = action["kind"], action["value"]
        where = f"actions[{i}].value"
        if kind == "add_tags":
            known = set(Tag.objects.filter(slug__in=value).values_list("slug", flat=True))
            missing = [s for s in value if s not in known]
            if missing:
                problems.append(f"{where}: " + _("unknown tag %s") % ", ".join(missing))
        elif kind == "assign_team" and not Team.objects.filter(slug=value).exists():
            problems.append(f"{where}: " + _("unknown team %s") % value)
        elif kind == "assign_agent" and value != ME:
            if not User.objects.filter(username=value, is_active=True).exists():
                problems.append(f"{where}: " + _("unknown agent %s") % value)
        elif kind == "send_canned" and not CannedResponse.objects.filter(pk=value).exists():
            problems.append(f"{where}: " + _("unknown canned response %s") % value)
    return problems


@transaction.atomic
def save_macro(
    *,
    actor,
    name: str,
    actions,
    scope: str = PERSONAL,
    team: Team | None = None,
    macro: Macro | None = None,
) -> Macro:
    """Create (`macro` None) or change a macro. ValidationError keyed by field (name, actions
    with the step's index, scope, team); PermissionDenied when `actor` may not manage the old or
    the new scope. Emits macro.saved."""
    team = team if scope == TEAM else None
    if macro is not None:
        macro = Macro.objects.select_for_update().get(pk=macro.pk)
        if not may_manage(actor, scope=scope_of(macro), team=macro.team, owner=macro.owner):
            raise PermissionDenied(_("You may not change this macro."))
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("Give it a name.")]
    elif len(name.strip()) > 120:
        errors["name"] = [_("At most 120 characters.")]
    problems = _schema_errors(actions)
    if not problems:
        problems = _reference_errors(actions)
    if problems:
        errors["actions"] = problems
    if scope not in SCOPES:
        errors["scope"] = [_("Pick one of: personal, team, global.")]
    elif scope == TEAM and team is None:
        errors["team"] = [_("Pick the team it is for.")]
    if errors:
        raise ValidationError(errors)
    owner = (macro.owner if macro and macro.owner_id else actor) if scope == PERSONAL else None
    if not may_manage(actor, scope=scope, team=team, owner=owner):
        raise PermissionDenied(
            _("Only admins write macros for everyone, and team leads for their team.")
        )
    if macro is None:
        macro = Macro(created_by=actor)
    macro.name, macro.actions, macro.owner, macro.team = name.strip(), actions, owner, team
    macro.save()
    events.publish("macro.saved", actor=actor, data={"macro": macro.pk, "scope": scope})
    return macro


@transaction.atomic
def delete_macro(*, actor, macro: Macro) -> None:
    if not may_manage(actor, scope=scope_of(macro), team=macro.team, owner=macro.owner):
        raise PermissionDenied(_("You may not delete this macro."))
    events.publish("macro.deleted", actor=actor, data={"macro": macro.pk})
    macro.delete()


def describe(action: dict) -> str:
    """One action in words, for the builder's list and for refusals."""
    value = action.get("value")
    if action.get("kind") == "set_status":
        value = dict(AGENT_STATUSES).get(value, value)
    elif action.get("kind") == "set_severity":
        value = SEVERITY_WORDS.get(value, value)
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return f"{KINDS.get(action.get('kind'), action.get('kind'))}: {value}"


def _run_one(action: dict, *, conversation_id: int, actor, reason: str) -> dict | None:
    """Do one action through its service; the change made, or None when nothing changed."""
    kind, value = action["kind"], action["value"]
    if kind == "add_tags":
        tags = tagging_services.tags_for_slugs(value)
        added = tagging_services.apply_tags(
            conversation_id=conversation_id, tags=tags, actor=actor, reason=reason
        )
        return {"kind": kind, "value": [t.slug for t in added]} if added else None
    if kind == "set_severity":
        before = Conversation.objects.values_list("severity", flat=True).get(pk=conversation_id)
        tagging_services.set_severity(
            conversation_id=conversation_id,
            severity=Severity.from_name(value),
            actor=actor,
            reason=reason,
        )
        return {"kind": kind, "value": value} if before != Severity.from_name(value) else None
    if kind in ("assign_team", "assign_agent"):
        before = Conversation.objects.values_list("team_id", "assignee_id").get(pk=conversation_id)
        if kind == "assign_team":
            team = Team.objects.filter(slug=value).first()
            if team is None:
                raise ActionRefused(_("There is no team %s any more.") % value)
            keep = before[1] and team.memberships.filter(user_id=before[1]).exists()
            assignee = User.objects.get(pk=before[1]) if keep else None
        else:
            team = None
            assignee = actor if value == ME else User.objects.filter(username=value).first()
            if assignee is None or not assignee.is_active:
                raise ActionRefused(_("There is no active agent %s.") % value)
        done = routing_services.assign_conversation(
            conversation_id=conversation_id,
            team=team,
            assignee=assignee,
            actor=actor,
            reason=reason,
        )
        changed = (done.team_id, done.assignee_id) != before
        shown = assignee.username if kind == "assign_agent" else value
        return {"kind": kind, "value": shown} if changed else None
    if kind == "set_status":
        before = Conversation.objects.values_list("status", flat=True).get(pk=conversation_id)
        inbox_services.set_status(
            conversation_id=conversation_id, status=value, actor=actor, reason=reason
        )
        return {"kind": kind, "value": value} if before != value else None
    if kind == "send_canned":
        canned = canned_service.canned_list_for(user=actor).filter(pk=value).first()
        if canned is None:
            raise ActionRefused(_("You cannot use that canned response."))
        conversation = Conversation.objects.select_related("contact", "team").get(
            pk=conversation_id
        )
        text = canned_service.fill(
            canned.text, canned_service.values_for(user=actor, conversation=conversation)
        )
        message = send_reply(conversation_id=conversation_id, actor=actor, text=text)
        return {"kind": kind, "value": canned.title, "message": message.pk}
    if kind == "add_note":
        note = inbox_services.add_note(conversation_id=conversation_id, actor=actor, text=value)
        return {"kind": kind, "value": value[:200], "message": note.pk}
    raise ActionRefused(_("Unknown action %s.") % kind)


def _refusal_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


@transaction.atomic
def run_macro(*, macro: Macro, conversation_id: int, actor) -> list[dict]:
    """Run every action of `macro` on one conversation, in order, all or nothing.

    Each action goes through its own service (which locks the row, checks `actor` may change
    the conversation, writes its audit row with reason "macro: NAME" and emits its event). A
    refusal (ActionRefused, PermissionDenied, ValidationError) rolls the whole run back and
    raises MacroRefused naming the step. A run writes one Activity row, verb "macro", with the
    changes made, and emits macro.ran. Returns the changes."""
    if not macro_visible(actor, macro):
        raise MacroRefused(_("You cannot use the macro “%s”.") % macro.name)
    reason = f"macro: {macro.name}"
    changes = []
    for step, action in enumerate(macro.actions, start=1):
        try:
            with transaction.atomic():
                change = _run_one(
                    action, conversation_id=conversation_id, actor=actor, reason=reason
                )
        except (ActionRefused, PermissionDenied, ValidationError) as exc:
            transaction.set_rollback(True)
            raise MacroRefused(
                _(
                    "Macro “%(name)s” stopped at step %(step)d (%(action)s): %(why)s "
                    "Nothing was changed."
                )
                % {
                    "name": macro.name,
                    "step": step,
                    "action": describe(action),
                    "why": _refusal_text(exc).rstrip(".") + ".",
                }
            ) from exc
        if change is not None:
            changes.append(change)
    conversation = Conversation.objects.get(pk=conversation_id)
    activity.record(
        conversation=conversation,
        actor=actor,
        verb="macro",
        to_value={"macro": macro.name, "id": macro.pk, "changes": changes},
        reason=reason,
    )
    events.publish(
        "macro.ran",
        conversation=conversation,
        actor=actor,
        data={"macro": macro.pk, "name": macro.name, "changes": changes},
    )
    return changes


def macro_visible(user, macro: Macro) -> bool:
    return macros_for(user=user).filter(pk=macro.pk).exists()


@dataclass
class BulkRun:
    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)
    not_found: list[int] = field(default_factory=list)


def run_macro_many(*, macro: Macro, conversation_ids, actor) -> BulkRun:
    """run_macro() on each conversation `actor` can see, each in its own transaction: a refusal
    on one is reported (refused: id -> words) and costs only that one."""
    wanted = list(dict.fromkeys(int(i) for i in conversation_ids))
    visible = set(
        Conversation.objects.visible_to(actor).filter(pk__in=wanted).values_list("pk", flat=True)
    )
    result = BulkRun(not_found=[pk for pk in wanted if pk not in visible])
    for pk in wanted:
        if pk not in visible:
            continue
        try:
            run_macro(macro=macro, conversation_id=pk, actor=actor)
        except MacroRefused as exc:
            result.refused[pk] = str(exc)
        else:
            result.done.append(pk)
    return result
