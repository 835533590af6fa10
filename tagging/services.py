"""Tags and severity: every write to them goes through here."""

import copy
import functools
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from inbox import activity, events, hooks
from inbox.models import Conversation, Severity
from inbox.services import lock_for_change
from tagging.models import (
    ClassificationRule,
    ConversationTag,
    SuggestionDecision,
    Tag,
    TagSuggestion,
)

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
) -> list[Tag]:
    """apply_tags() on a conversation the caller has locked and may change."""
    have = set(conversation.tag_links.values_list("tag_id", flat=True))
    added = [t for t in tags if t.pk not in have]
    if not added:
        return []
    _write_tags_added(
        [(conversation, added, False)], actor=actor, reason=reason, run_rules=run_rules
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


# --- suggested tags: accepted or dismissed -----------------------------------------------------


def _decide(*, conversation_id: int, tag: Tag, actor, decision: str) -> SuggestionDecision | None:
    """Record an agent's answer to a tag suggested on a conversation they may change. Locks the
    conversation; the same answer again changes nothing (None); a tag that is not suggested
    there now, or was answered otherwise, is refused (ValidationError)."""
    from tagging.selectors import suggested_tags_for

    conversation = lock_for_change(conversation_id=conversation_id, actor=actor)
    earlier = SuggestionDecision.objects.filter(conversation=conversation, tag=tag).first()
    if earlier is not None:
        if earlier.decision == decision:
            return None
        raise ValidationError(
            {"tag": [f"The suggestion {tag.slug} was {earlier.decision} already."]}
        )
    suggested = {s.tag.pk: s for s in suggested_tags_for(conversation)}.get(tag.pk)
    if suggested is None:
        raise ValidationError({"tag": [f"{tag.slug} is not suggested for this conversation."]})
    made = SuggestionDecision.objects.create(
        conversation=conversation,
        tag=tag,
        source=suggested.source,
        decision=decision,
        score=suggested.score,
        actor=actor,
    )
    reason = f"{suggested.source} suggestion, score {suggested.score:.2f}"
    if decision == SuggestionDecision.Decision.ACCEPTED:
        _add_tags(conversation, [tag], actor=actor, reason=f"accepted {reason}")
    else:
        TagSuggestion.objects.filter(conversation=conversation, tag=tag).delete()
        activity.record(
            conversation=conversation,
            actor=actor,
            verb="dismissed suggestion",
            to_value=tag.slug,
            reason=reason,
        )
    return made


@transaction.atomic
def accept_suggested_tag(*, conversation_id: int, tag: Tag, actor) -> SuggestionDecision | None:
    """Add a suggested tag on an agent's click: an agent's tag like any other (the learned
    suggester trains on it), recorded as accepted. Emits conversation.tagged (apply_tags)."""
    return _decide(
        conversation_id=conversation_id,
        tag=tag,
        actor=actor,
        decision=SuggestionDecision.Decision.ACCEPTED,
    )


@transaction.atomic
def dismiss_suggested_tag(*, conversation_id: int, tag: Tag, actor) -> SuggestionDecision | None:
    """Hide a suggested tag on this conversation for good, recorded as dismissed (the learned
    suggester takes the conversation as an example of no tag unless an agent tags it)."""
    return _decide(
        conversation_id=conversation_id,
        tag=tag,
        actor=actor,
        decision=SuggestionDecision.Decision.DISMISSED,
    )


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
    refreshed when a rule or tag changes (core.refcache)."""
    from core import refcache

    def load():
        rules = ClassificationRule.objects.filter(is_active=True).prefetch_related("tags")
        return [(rule, list(rule.tags.all())) for rule in rules]

    return refcache.get("classification-rules", load)


def _classification(arrival, rules) -> tuple[list[Tag], list[tuple], int | None]:
    """What the rules make of one arrival: tags to apply, (tag, rule) to suggest, a severity."""
    conversation, message = arrival.conversation, arrival.message
    to_apply: list[Tag] = []
    to_suggest: list[tuple[Tag, ClassificationRule]] = []
    severity = None
    for rule, tags in rules:
        if not rule_matches(
            rule,
            subject=conversation.subject if arrival.conversation_created else "",
            text=message.text,
            sender_email=conversation.contact.email,
            channel_kind=conversation.channel.kind,
        ):
            continue
        if rule.mode == ClassificationRule.Mode.APPLY:
            to_apply += tags
            if rule.severity and rule.severity > (severity or 0):
                severity = rule.severity
        else:
            to_suggest += [(t, rule) for t in tags]
    return list(dict.fromkeys(to_apply)), to_suggest, severity


def classify_arrivals(*, arrivals) -> None:
    """Hook on messages_received: apply or suggest tags and raise severity from the rules, for
    every arrival of a batch at once: one look-up of the tags the continued conversations have,
    one INSERT of the new tag links and one of their audit rows, whatever the batch's size.
    Auto-replies and bounces are not classified."""
    rules = active_rules()
    if not rules:
        return
    plans = []
    for arrival in arrivals:
        if arrival.message.auto_kind:
            continue
        to_apply, to_suggest, severity = _classification(arrival, rules)
        if to_apply or to_suggest or severity:
            plans.append((arrival, to_apply, to_suggest, severity))
    if not plans:
        return
    have: dict[int, set[int]] = {}
    continued = [
        arrival.conversation.pk for arrival, *_ in plans if not arrival.conversation_created
    ]
    if continued:
        for conversation_id, tag_id in ConversationTag.objects.filter(
            conversation_id__in=continued
        ).values_list("conversation_id", "tag_id"):
            have.setdefault(conversation_id, set()).add(tag_id)
    tagged = []  # (conversation, tags added)
    for arrival, to_apply, _, _ in plans:
        conversation = arrival.conversation
        added = [t for t in to_apply if t.pk not in have.get(conversation.pk, ())]
        if added:
            tagged.append((arrival, added))
            have.setdefault(conversation.pk, set()).update(t.pk for t in added)
    if tagged:
        # The arrivals hold the conversations' locks and current rows: copies stand in for
        # apply_tags' own locking reads (hooks see an instance of their own, as they did).
        _write_tags_added(
            [(copy.copy(a.conversation), added, a.conversation_created) for a, added in tagged],
            actor=None,
            reason="classification rule",
            run_rules=True,
        )
    for arrival, _, _, severity in plans:
        conversation = arrival.conversation
        if severity and severity > conversation.severity:
            conversation.severity = set_severity(
                conversation_id=conversation.pk,
                severity=severity,
                actor=None,
                reason="classification rule",
            ).severity
    suggesting = {arrival.conversation.pk for arrival, _, to_suggest, _ in plans if to_suggest}
    if not suggesting:
        return
    # Read again: rules run by the tags just added may have added more.
    have = {}
    for conversation_id, tag_id in ConversationTag.objects.filter(
        conversation_id__in=suggesting
    ).values_list("conversation_id", "tag_id"):
        have.setdefault(conversation_id, set()).add(tag_id)
    suggestions = [
        TagSuggestion(conversation=arrival.conversation, tag=t, rule=r)
        for arrival, _, to_suggest, _ in plans
        for t, r in to_suggest
        if t.pk not in have.get(arrival.conversation.pk, ())
    ]
    if suggestions:
        TagSuggestion.objects.bulk_create(suggestions, ignore_conflicts=True)


def _write_tags_added(tagged, *, actor, reason: str, run_rules: bool) -> None:
    """Add tags to conversations the caller has locked: `tagged` holds (conversation, tags to
    add, whether it was opened in this transaction). The links, the suggestions they settle,
    the audit rows and the touch of the older conversations each take one statement whatever the
    number of conversations; then per conversation its event and the `tags_changed` hook."""
    actor_id = getattr(actor, "pk", None)
    ConversationTag.objects.bulk_create(
        [
            ConversationTag(conversation=conversation, tag=t, added_by_id=actor_id)
            for conversation, added, _ in tagged
            for t in added
        ]
    )
    # A new row has no suggestions yet, and its updated_at is its INSERT, a moment ago.
    older = [(conversation.pk, added) for conversation, added, new in tagged if not new]
    if older:
        settled = Q()
        for conversation_id, added in older:
            settled |= Q(conversation_id=conversation_id, tag__in=added)
        TagSuggestion.objects.filter(settled).delete()
    now = timezone.now()
    activity.record_many(
        [
            {
                "conversation_id": conversation.pk,
                "actor_id": actor_id,
                "verb": "tagged",
                "to_value": t.slug,
                "reason": reason,
                "created_at": now,
            }
            for conversation, added, _ in tagged
            for t in added
        ]
    )
    if older:
        Conversation.objects.filter(pk__in=[pk for pk, _ in older]).update(updated_at=now)
    for conversation, added, new in tagged:
        if not new:
            conversation.updated_at = now
        events.publish(
            "conversation.tagged",
            conversation=conversation,
            actor=actor,
            data={"tags": [t.slug for t in added]},
        )
        hooks.run(
            "tags_changed", conversation=conversation, added=added, removed=[], run_rules=run_rules
        )
