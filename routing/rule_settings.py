"""Routing rules for the settings page and /api/v1/routing-rules/: check, save, reorder, enable,
delete, and a dry run of a draft over recent conversations (routing.rules.dry_run_rule, the code
the saved rule's dry run uses). Admins only. Errors are ValidationError keyed by field, a
condition or action by its dotted name ("conditions.tags_any", "actions.assign_team")."""

import logging
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Team, User
from accounts.permissions import require_admin
from core import ordering
from inbox.models import AGENT_STATUSES, CannedResponse, Channel, Conversation, Severity
from routing import rules
from routing.models import RoutingRule
from tagging.models import Tag

audit = logging.getLogger("switchboard.audit")

CONDITIONS = {
    "channels": gettext_lazy("Channel"),
    "keywords": gettext_lazy("Keywords"),
    "sender_domains": gettext_lazy("Sender domain"),
    "tags_any": gettext_lazy("Has a tag"),
    "severity_at_least": gettext_lazy("Severity at least"),
    "contact_attribute": gettext_lazy("Contact attribute"),
    "outside_business_hours": gettext_lazy("Business hours"),
    "automated": gettext_lazy("Automated mail"),
}
ACTIONS = {
    "add_tags": gettext_lazy("Add tags"),
    "set_severity": gettext_lazy("Set severity"),
    "assign_team": gettext_lazy("Assign to team"),
    "assign_agent": gettext_lazy("Assign to agent"),
    "set_status": gettext_lazy("Set status"),
    "send_canned": gettext_lazy("Send canned reply"),
}
STATUSES = [value for value, _label in AGENT_STATUSES if value != "snoozed"]
SEVERITIES = [s.label for s in Severity]
DOMAIN = re.compile(r"^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)+$")
MAX_ITEMS = 50


def _strings(value, where: str, errors: dict, *, max_length: int = 200) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[where] = [_("A list of words.")]
        return []
    found = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(found) > MAX_ITEMS:
        errors[where] = [_("At most %d.") % MAX_ITEMS]
    elif any(len(v) > max_length for v in found):
        errors[where] = [_("Each at most %d characters.") % max_length]
    return found


def _known(model, field: str, values: list[str], where: str, errors: dict, words: str) -> None:
    known = set(model.objects.filter(**{f"{field}__in": values}).values_list(field, flat=True))
    missing = [v for v in values if v not in known]
    if missing:
        errors[where] = [words % ", ".join(missing)]


def clean_conditions(raw, errors: dict) -> dict:
    """The conditions, normalised (empty ones dropped); problems go into `errors`."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        errors["conditions"] = [_("An object of conditions.")]
        return {}
    unknown = sorted(set(raw) - set(CONDITIONS))
    if unknown:
        errors["conditions"] = [_("Unknown condition: %s.") % ", ".join(unknown)]
    found: dict = {}
    for key in ("channels", "keywords", "sender_domains", "tags_any"):
        if key in raw:
            found[key] = _strings(raw[key], f"conditions.{key}", errors)
    if found.get("channels"):
        _known(
            Channel,
            "slug",
            found["channels"],
            "conditions.channels",
            errors,
            _("Unknown channel: %s."),
        )
    if found.get("tags_any"):
        _known(Tag, "slug", found["tags_any"], "conditions.tags_any", errors, _("Unknown tag: %s."))
    if found.get("sender_domains"):
        domains = [d.lower().lstrip("@") for d in found["sender_domains"]]
        bad = [d for d in domains if not DOMAIN.match(d)]
        if bad:
            errors["conditions.sender_domains"] = [_("Not a domain: %s.") % ", ".join(bad)]
        found["sender_domains"] = domains
    severity = raw.get("severity_at_least")
    if severity not in (None, ""):
        if severity not in SEVERITIES:
            errors["conditions.severity_at_least"] = [
                _("Choose one of: %s.") % ", ".join(SEVERITIES)
            ]
        found["severity_at_least"] = severity
    attribute = raw.get("contact_attribute")
    if attribute not in (None, "", {}):
        key = attribute.get("key") if isinstance(attribute, dict) else None
        value = attribute.get("value", "") if isinstance(attribute, dict) else None
        if not isinstance(key, str) or not key.strip() or not isinstance(value, str | int):
            errors["conditions.contact_attribute"] = [
                _("Give the attribute's key and the value it must have.")
            ]
        else:
            found["contact_attribute"] = {"key": key.strip(), "value": str(value).strip()}
    for key in ("outside_business_hours", "automated"):
        if raw.get(key) is not None and raw.get(key) != "":
            if not isinstance(raw[key], bool):
                errors[f"conditions.{key}"] = [_("true or false.")]
            elif key == "outside_business_hours" or raw[key]:
                found[key] = raw[key]
    return {k: v for k, v in found.items() if v not in ([], "", None)}


def clean_actions(raw, errors: dict) -> dict:
    """The actions, normalised (empty ones dropped); problems go into `errors`."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        errors["actions"] = [_("An object of actions.")]
        return {}
    unknown = sorted(set(raw) - set(ACTIONS))
    if unknown:
        errors["actions"] = [_("Unknown action: %s.") % ", ".join(unknown)]
    found: dict = {}
    if "add_tags" in raw:
        found["add_tags"] = _strings(raw["add_tags"], "actions.add_tags", errors)
        if found["add_tags"]:
            _known(
                Tag, "slug", found["add_tags"], "actions.add_tags", errors, _("Unknown tag: %s.")
            )
    checks = (
        (
            "set_severity",
            lambda v: v in SEVERITIES,
            _("Choose one of: %s.") % ", ".join(SEVERITIES),
        ),
        ("assign_team", lambda v: Team.objects.filter(slug=v).exists(), _("Unknown team: %s.")),
        (
            "assign_agent",
            lambda v: (
                User.objects.filter(username=v, is_active=True)
                .exclude(role=User.Role.VIEWER)
                .exists()
            ),
            _("Unknown agent: %s."),
        ),
        ("set_status", lambda v: v in STATUSES, _("Choose one of: %s.") % ", ".join(STATUSES)),
    )
    for key, ok, words in checks:
        value = raw.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not ok(value):
            errors[f"actions.{key}"] = [words.replace("%s", str(value)) if "%s" in words else words]
        found[key] = value
    canned = raw.get("send_canned")
    if canned not in (None, ""):
        try:
            canned = int(canned)
        except (TypeError, ValueError):
            canned = 0
        if not CannedResponse.objects.filter(pk=canned, owner__isnull=True).exists():
            errors["actions.send_canned"] = [
                _("Pick a team or global canned response (not a personal one).")
            ]
        found["send_canned"] = canned
    return {k: v for k, v in found.items() if v not in ([], "", None)}


def clean(values: dict, *, rule: RoutingRule | None = None) -> RoutingRule:
    """An unsaved rule from `values` over `rule`'s own (when editing): name, conditions, actions,
    stop_processing, is_active, position. ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    target = RoutingRule() if rule is None else RoutingRule.objects.get(pk=rule.pk)
    name = str(values.get("name", target.name) or "").strip()
    if not name or len(name) > 120:
        errors["name"] = [_("A name of 1 to 120 characters.")]
    target.name = name
    target.conditions = clean_conditions(values.get("conditions", target.conditions), errors)
    target.actions = clean_actions(values.get("actions", target.actions), errors)
    if not target.conditions and "conditions" not in errors:
        errors["conditions"] = [_("Give it at least one condition.")]
    if not target.actions and "actions" not in errors:
        errors["actions"] = [_("Give it at least one action.")]
    for field in ("stop_processing", "is_active"):
        if field in values:
            setattr(target, field, bool(values[field]))
    if values.get("position") is not None:
        try:
            target.position = max(0, min(int(values["position"]), 1_000_000))
        except (TypeError, ValueError):
            errors["position"] = [_("A whole number.")]
    if errors:
        raise ValidationError(errors)
    return target


@transaction.atomic
def save_rule(*, actor, rule: RoutingRule | None = None, **values) -> RoutingRule:
    """Create (rule None; it goes last) or change a routing rule. Admins only."""
    require_admin(actor)
    target = clean(values, rule=rule)
    if target.pk is None and values.get("position") is None:
        target.position = ordering.next_position(RoutingRule)
    target.save()
    audit.info("routing rule saved: actor=%s rule=%s", actor.get_username(), target.pk)
    return target


def move_rule(*, actor, rule: RoutingRule, up: bool) -> None:
    """Swap the rule with the one before (up) or after it; positions become 10, 20, ..."""
    require_admin(actor)
    ordering.move(RoutingRule, rule, up=up)
    audit.info("routing rule moved: actor=%s rule=%s", actor.get_username(), rule.pk)


def set_active(*, actor, rule: RoutingRule, active: bool) -> RoutingRule:
    require_admin(actor)
    ordering.set_active(rule, active=active)
    audit.info("routing rule %s: rule=%s", "enabled" if active else "disabled", rule.pk)
    return rule


def delete_rule(*, actor, rule: RoutingRule) -> None:
    require_admin(actor)
    audit.info("routing rule deleted: actor=%s rule=%s", actor.get_username(), rule.pk)
    rule.delete()


def preview(rule: RoutingRule, *, limit: int = rules.DRY_RUN_LIMIT) -> list[Conversation]:
    """The recent conversations (newest first, of the last `limit`) `rule` as drafted would act
    on; changes nothing."""
    ids = rules.dry_run_rule(rule=rule, limit=limit)
    found = Conversation.objects.select_related("channel", "contact", "team").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def examined(*, limit: int = rules.DRY_RUN_LIMIT) -> int:
    """How many conversations a preview looks at."""
    return Conversation.objects.all()[:limit].count()


def describe(rule: RoutingRule) -> dict[str, list[str]]:
    """The rule in words, for the list: {"conditions": [...], "actions": [...]}."""

    # What a person knows them by: a channel's, tag's or team's name, an agent's full name.
    names = {
        "channels": dict(Channel.objects.values_list("slug", "name")),
        "tags_any": dict(Tag.objects.values_list("slug", "name")),
        "assign_team": dict(Team.objects.values_list("slug", "name")),
    }
    names["add_tags"] = names["tags_any"]
    agent = (rule.actions or {}).get("assign_agent")
    if agent:
        found = User.objects.filter(username=agent).first()
        names["assign_agent"] = {agent: found.display_name if found else agent}

    def words(labels, mapping) -> list[str]:
        shown = []
        for key, value in mapping.items():
            named = names.get(key, {})
            if isinstance(value, dict):
                value = f"{value.get('key')} = {value.get('value')}"
            elif isinstance(value, list):
                value = ", ".join(str(named.get(v, v)) for v in value)
            elif key in names:
                value = named.get(value, value)
            elif key == "outside_business_hours":
                value = _("outside") if value else _("inside")
            elif key == "automated":
                value = _("yes")
            elif key == "send_canned":
                value = (
                    CannedResponse.objects.filter(pk=value).values_list("title", flat=True).first()
                    or value
                )
            shown.append(f"{labels.get(key, key)}: {value}")
        return shown

    return {
        "conditions": words(CONDITIONS, rule.conditions or {}),
        "actions": words(ACTIONS, rule.actions or {}),
    }
