"""Tags and severity: every write to them goes through here."""

import copy
import functools
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils.text import slugify

from inbox import activity, events, hooks
from inbox.models import Conversation, Message, Severity
from inbox.services import lock_for_change
from tagging.models import ClassificationRule, ConversationTag, Tag, TagSuggestion

SCAN_CHARS = 10_000  # rules look at the start of a message; a 5 MB body must not stall arrival


def tags_for_slugs(slugs) -> list[Tag]:
    slugs = list(dict.fromkeys(slugs))
    tags = {t.slug: t for t in Tag.objects.filter(slug__in=slugs)}
    missing = [s for s in slugs if s not in tags]
    if missing:
        raise ValidationError({"tags": [f"Unknown tag: {', '.join(missing)}."]})
    return [tags[s] for s in slugs]


@transaction.atomic
def apply_tags(
    *, conversation_id: int, tags: list[Tag], actor, reason: str = "", run_rules: bool = True
) -> list[Tag]:
    """Add tags; those already on the conversation are left alone (idempotent). Writes one
    Activity per added tag, emits conversation.tagged once, and runs the `tags_changed` hook
    (routing rules) unless a rule itself is tagging."""
    conversation = lock_for_change(conversation_id=conversation_id, actor=actor)
    return _add_tags(conversation, tags, actor=actor, reason=reason, run_rules=run_rules)


def _add_tags(
    conversation: Conversation,
    tags: list[Tag],
    *,
    actor,
    reason: str,
    run_rules: bool = True,
    new: bool = False,
) -> list[Tag]:
    """apply_tags() on a conversation the caller has locked and may change. `new`: it was
    opened in this transaction, so it has no tags or suggestions to look up yet."""
    have = set() if new else set(conversation.tag_links.values_list("tag_id", flat=True))
    added = [t for t in tags if t.pk not in have]
    if not added:
        return []
    ConversationTag.objects.bulk_create(
        [
            ConversationTag(
                conversation=conversation,
                tag=t,
                added_by=actor if getattr(actor, "pk", None) else None,
            )
            for t in added
        ]
    )
    if not new:
        TagSuggestion.objects.filter(conversation=conversation, tag__in=added).delete()
    for tag in added:
        activity.record(
            conversation=conversation, actor=actor, verb="tagged", to_value=tag.slug, reason=reason
        )
    if not new:  # a new row's updated_at is its INSERT, a moment ago in this transaction
        conversation.save(update_fields=["updated_at"])
    events.publish(
        "conversation.tagged",
        conversation=conversation,
        actor=actor,
        data={"tags": [t.slug for t in added]},
    )
    hooks.run(
        "tags_changed", conversation=conversation, added=added, removed=[], run_rules=run_rules
    )
    return added


@transaction.atomic
def remove_tag(*, conversation_id: int, tag: Tag, actor, reason: str = "") -> bool:
    """Remove one tag; removing one that is not there changes nothing. Emits conversation.untagged."""
    conversation = lock_for_change(conversation_id=conversation_id, actor=actor)
    deleted, _ = ConversationTag.objects.filter(conversation=conversation, tag=tag).delete()
    if not deleted:
        return False
    activity.record(
        conversation=conversation, actor=actor, verb="untagged", from_value=tag.slug, reason=reason
    )
    conversation.save(update_fields=["updated_at"])
    events.publish(
        "conversation.untagged", conversation=conversation, actor=actor, data={"tag": tag.slug}
    )
    hooks.run("tags_changed", conversation=conversation, added=[], removed=[tag], run_rules=True)
    return True


@transaction.atomic
def set_severity(*, conversation_id: int, severity: int, actor, reason: str = "") -> Conversation:
    """Change severity. Emits conversation.updated; SLA due times follow (hook)."""
    conversation = lock_for_change(conversation_id=conversation_id, actor=actor)
    severity = Severity(severity)
    if conversation.severity == severity:
        return conversation
    before = Severity(conversation.severity).label
    conversation.severity = severity
    conversation.save(update_fields=["severity", "updated_at"])
    activity.record(
        conversation=conversation,
        actor=actor,
        verb="severity",
        from_value=before,
        to_value=severity.label,
        reason=reason,
    )
    events.publish(
        "conversation.updated",
        conversation=conversation,
        actor=actor,
        data={"changes": {"severity": [before, severity.label]}},
    )
    hooks.run(
        "conversation_changed",
        conversation=conversation,
        changes={"severity": (before, severity.label)},
    )
    return conversation


@transaction.atomic
def create_tag(
    *, name: str, actor, slug: str = "", color: str = "#718096", description: str = ""
) -> Tag:
    """Admins add tags. Names are unique ignoring case; the slug derives from the name."""
    from accounts.permissions import can_administer

    if not can_administer(actor):
        raise PermissionDenied("Only admins may add tags.")
    name = name.strip()
    slug = slug or slugify(name)[:64]
    if not name or not slug:
        raise ValidationError({"name": ["A tag needs a name with at least one letter or digit."]})
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        raise ValidationError({"color": ["A colour like #2b6cb0."]})
    if Tag.objects.annotate(lname=Lower("name")).filter(lname=name.lower()).exists():
        raise ValidationError({"name": [f"A tag named {name!r} exists already."]})
    if Tag.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": [f"A tag with slug {slug!r} exists already."]})
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name, slug=slug, color=color, description=description)
    except IntegrityError as exc:  # a concurrent create of the same name
        raise ValidationError({"name": [f"A tag named {name!r} exists already."]}) from exc


# --- classification on arrival --------------------------------------------------------------


def _keyword_pattern(keywords) -> re.Pattern | None:
    return _compiled_keywords(tuple(keywords))


@functools.lru_cache(maxsize=1024)
def _compiled_keywords(keywords: tuple[str, ...]) -> re.Pattern | None:
    words = [re.escape(k.strip().lower()) for k in keywords if k.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)


def rule_matches(
    rule: ClassificationRule, *, subject: str, text: str, sender_email: str, channel_kind: str
) -> bool:
    haystack = f"{subject}\n{text[:SCAN_CHARS]}"
    if rule.channel_kinds and channel_kind not in rule.channel_kinds:
        return False
    if rule.sender_domains:
        domain = sender_email.rpartition("@")[2].lower()
        if domain not in {d.lower().lstrip("@") for d in rule.sender_domains}:
            return False
    conditions = 0
    if rule.keywords:
        conditions += 1
        pattern = _keyword_pattern(rule.keywords)
        if pattern is None or not pattern.search(haystack):
            return False
    if rule.regex:
        conditions += 1
        try:
            if not re.search(rule.regex, haystack, re.IGNORECASE):
                return False
        except re.error:
            return False
    return bool(conditions or rule.sender_domains or rule.channel_kinds)


def active_rules() -> list[tuple[ClassificationRule, list[Tag]]]:
    """The active classification rules in order, each with its tags: this process's copy,
    refreshed when a rule or tag changes (config.refcache)."""
    from config import refcache

    def load():
        rules = ClassificationRule.objects.filter(is_active=True).prefetch_related("tags")
        return [(rule, list(rule.tags.all())) for rule in rules]

    return refcache.get("classification-rules", load)


def classify_on_arrival(
    *, conversation: Conversation, message: Message, conversation_created: bool
) -> None:
    """Hook on message_received: apply or suggest tags and raise severity from the rules.
    Auto-replies and bounces are not classified."""
    if message.auto_kind:
        return
    contact = conversation.contact
    to_apply: list[Tag] = []
    to_suggest: list[tuple[Tag, ClassificationRule]] = []
    severity = None
    for rule, tags in active_rules():
        if not rule_matches(
            rule,
            subject=conversation.subject if conversation_created else "",
            text=message.text,
            sender_email=contact.email,
            channel_kind=conversation.channel.kind,
        ):
            continue
        if rule.mode == ClassificationRule.Mode.APPLY:
            to_apply += tags
            if rule.severity and rule.severity > (severity or 0):
                severity = rule.severity
        else:
            to_suggest += [(t, rule) for t in tags]
    if to_apply:
        # The arrival holds the conversation's lock and its current row: a copy stands in for
        # apply_tags' own locking read (hooks see an instance of their own, as they did).
        _add_tags(
            copy.copy(conversation),
            list(dict.fromkeys(to_apply)),
            actor=None,
            reason="classification rule",
            new=conversation_created,
        )
    if severity and severity > conversation.severity:
        set_severity(
            conversation_id=conversation.pk,
            severity=severity,
            actor=None,
            reason="classification rule",
        )
        conversation.refresh_from_db(fields=["severity"])
    if not to_suggest:
        return
    have = set(conversation.tag_links.values_list("tag_id", flat=True))
    TagSuggestion.objects.bulk_create(
        [
            TagSuggestion(conversation=conversation, tag=t, rule=r)
            for t, r in to_suggest
            if t.pk not in have
        ],
        ignore_conflicts=True,
    )
