"""Reads for the tag suggestions shown beside a conversation's tags."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from inbox.models import Conversation, Message
from tagging.models import SuggestionDecision, Tag, TagSuggestion

# A classification rule in `suggest` mode is certain of what it matched.
RULE_SCORE = 1.0


@dataclass(frozen=True)
class SuggestedTag:
    tag: Tag
    score: float
    source: str  # SuggestionDecision.Source: "learned" or "rule"

    def as_dict(self) -> dict:
        return {"tag": self.tag.slug, "score": self.score, "source": self.source}


def first_inbound_text(*, conversation_id: int) -> str:
    """The text the suggester reads: the conversation's first inbound message (no auto-replies,
    no bounces), as in training (tagging.learning.agent_tagging_examples)."""
    text = (
        Message.objects.filter(
            conversation_id=conversation_id,
            direction=Message.Direction.IN,
            kind=Message.Kind.MESSAGE,
            auto_kind="",
        )
        .order_by("created_at", "id")
        .values_list("text", flat=True)
        .first()
    )
    return text or ""


def learned_suggestions(*, conversation_id: int) -> list[tuple[Tag, float]]:
    """The deployment's suggester on this conversation: only what it is confident of, only tags
    that still exist. Empty when it is switched off or not trained yet."""
    from tagging.learning import current_suggester

    if not settings.TAG_SUGGESTER_ENABLED:
        return []
    suggester = current_suggester()
    if suggester is None:
        return []
    text = first_inbound_text(conversation_id=conversation_id)
    if not text.strip():
        return []
    found = suggester.suggest(text)
    if not found:
        return []
    tags = {t.slug: t for t in Tag.objects.filter(slug__in=[s.tag for s in found])}
    return [(tags[s.tag], s.score) for s in found if s.tag in tags]


def suggested_tags_for(conversation: Conversation) -> list[SuggestedTag]:
    """What to offer beside the conversation's tags, best first: the rules' stored suggestions
    and the learned ones, never a tag the conversation has or an agent accepted or dismissed on
    it. A tag both suggest is listed once, as the rule's. At most four queries; the tags come
    from the conversation's prefetched `tags` when the selector loaded them."""
    have = {t.pk for t in conversation.tags.all()}
    have.update(
        SuggestionDecision.objects.filter(conversation_id=conversation.pk).values_list(
            "tag_id", flat=True
        )
    )
    shown: dict[int, SuggestedTag] = {}
    for suggestion in (
        TagSuggestion.objects.filter(conversation_id=conversation.pk)
        .select_related("tag")
        .order_by("id")
    ):
        if suggestion.tag_id not in have:
            shown.setdefault(
                suggestion.tag_id,
                SuggestedTag(suggestion.tag, RULE_SCORE, SuggestionDecision.Source.RULE),
            )
    for tag, score in learned_suggestions(conversation_id=conversation.pk):
        if tag.pk not in have and tag.pk not in shown:
            shown[tag.pk] = SuggestedTag(tag, score, SuggestionDecision.Source.LEARNED)
    return sorted(shown.values(), key=lambda s: (-s.score, s.tag.slug))
