"""Classification rules for the settings page and /api/v1/classification-rules/: check, save,
reorder, enable, delete, and a dry run over recent conversations with tagging.services'
rule_matches (the code arrivals run). Admins only. Errors are ValidationError keyed by field."""

import logging
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.permissions import require_admin
from core import ordering
from inbox import selectors
from inbox.models import Channel, Conversation, Severity
from tagging.models import ClassificationRule, Tag
from tagging.services import rule_matches

audit = logging.getLogger("switchboard.audit")

SEVERITIES = [s.label for s in Severity]
KINDS = [value for value, _label in Channel.Kind.choices]
DOMAIN = re.compile(r"^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)+$")
MAX_ITEMS = 50
DRY_RUN_LIMIT = 200


def _strings(value, field: str, errors: dict) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[field] = [_("A list of words.")]
        return []
    found = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(found) > MAX_ITEMS or any(len(v) > 200 for v in found):
        errors[field] = [_("At most %d, each at most 200 characters.") % MAX_ITEMS]
    return found


def clean(
    values: dict, *, rule: ClassificationRule | None = None
) -> tuple[ClassificationRule, list[Tag]]:
    """An unsaved rule and its tags from `values` over `rule`'s own: name, mode, keywords, regex,
    sender_domains, channel_kinds, tags (slugs), severity (a name or None), is_active,
    position. It needs a condition (keywords, regex, sender domain or channel kind) and
    something to do (tags or a severity). ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    target = ClassificationRule() if rule is None else ClassificationRule.objects.get(pk=rule.pk)
    name = str(values.get("name", target.name) or "").strip()
    if not name or len(name) > 120:
        errors["name"] = [_("A name of 1 to 120 characters.")]
    target.name = name
    mode = values.get("mode", target.mode)
    if mode not in ClassificationRule.Mode.values:
        errors["mode"] = [_("Choose one of: %s.") % ", ".join(ClassificationRule.Mode.values)]
    target.mode = mode
    for field in ("keywords", "sender_domains", "channel_kinds"):
        setattr(target, field, _strings(values.get(field, getattr(target, field)), field, errors))
    target.sender_domains = [d.lower().lstrip("@") for d in target.sender_domains]
    bad = [d for d in target.sender_domains if not DOMAIN.match(d)]
    if bad:
        errors["sender_domains"] = [_("Not a domain: %s.") % ", ".join(bad)]
    unknown = [k for k in target.channel_kinds if k not in KINDS]
    if unknown:
        errors["channel_kinds"] = [_("Unknown channel kind: %s.") % ", ".join(unknown)]
    regex = str(values.get("regex", target.regex) or "").strip()
    if len(regex) > 500:
        errors["regex"] = [_("At most 500 characters.")]
    elif regex:
        try:
            re.compile(regex)
        except re.error as exc:
            errors["regex"] = [_("Not a valid regular expression: %s.") % exc]
    target.regex = regex
    slugs = values.get("tags")
    if slugs is None:
        tags = list(target.tags.all()) if target.pk else []
    else:
        slugs = _strings(slugs, "tags", errors)
        tags = list(Tag.objects.filter(slug__in=slugs))
        missing = [s for s in slugs if s not in {t.slug for t in tags}]
        if missing:
            errors["tags"] = [_("Unknown tag: %s.") % ", ".join(missing)]
    severity = values.get("severity", "keep")
    if severity in (None, ""):
        target.severity = None
    elif severity != "keep":
        if severity not in SEVERITIES:
            errors["severity"] = [_("Choose one of: %s.") % ", ".join(SEVERITIES)]
        else:
            target.severity = Severity.from_name(severity).value
    if not (target.keywords or target.regex or target.sender_domains or target.channel_kinds):
        errors.setdefault("keywords", [_("Give it at least one condition.")])
    if not tags and not target.severity and "tags" not in errors:
        errors["tags"] = [_("Give it tags to add or a severity to set.")]
    if "is_active" in values:
        target.is_active = bool(values["is_active"])
    if values.get("position") is not None:
        try:
            target.position = max(0, min(int(values["position"]), 1_000_000))
        except (TypeError, ValueError):
            errors["position"] = [_("A whole number.")]
    if errors:
        raise ValidationError(errors)
    return target, tags


@transaction.atomic
def save_rule(*, actor, rule: ClassificationRule | None = None, **values) -> ClassificationRule:
    """Create (rule None; it goes last) or change a classification rule. Admins only."""
    require_admin(actor)
    target, tags = clean(values, rule=rule)
    if target.pk is None and values.get("position") is None:
        target.position = ordering.next_position(ClassificationRule)
    target.save()
    target.tags.set(tags)
    audit.info("classification rule saved: actor=%s rule=%s", actor.get_username(), target.pk)
    return target


def move_rule(*, actor, rule: ClassificationRule, up: bool) -> None:
    """Swap the rule with the one before (up) or after it; positions become 10, 20, ..."""
    require_admin(actor)
    ordering.move(ClassificationRule, rule, up=up)


def set_active(*, actor, rule: ClassificationRule, active: bool) -> ClassificationRule:
    require_admin(actor)
    return ordering.set_active(rule, active=active)


def delete_rule(*, actor, rule: ClassificationRule) -> None:
    require_admin(actor)
    audit.info("classification rule deleted: actor=%s rule=%s", actor.get_username(), rule.pk)
    rule.delete()


def preview(rule: ClassificationRule, *, limit: int = DRY_RUN_LIMIT) -> list[Conversation]:
    """The recent conversations (newest first, of the last `limit`) whose first customer message
    `rule` as drafted would match; changes nothing."""
    recent = Conversation.objects.select_related("channel", "contact").order_by("-created_at")
    matched = []
    for conversation in recent[:limit]:
        if rule_matches(
            rule,
            subject=conversation.subject,
            text=selectors.first_customer_text(conversation=conversation),
            sender_email=conversation.contact.email,
            channel_kind=conversation.channel.kind,
        ):
            matched.append(conversation)
    return matched
