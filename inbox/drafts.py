"""Drafts: the text an agent has typed in a conversation's reply or note box and not sent yet,
kept on the server per (agent, conversation, kind) as they type. Reads and writes for the
workspace's draft endpoint and its reply and note forms."""

from django.db import transaction
from django.utils import timezone

from core.errors import ActionRefused
from inbox.models import Conversation, Draft, Message

# The longest message or note the product accepts anywhere (the API's messages endpoint too).
MAX_TEXT = 50_000
KINDS = {"message": Message.Kind.MESSAGE, "note": Message.Kind.NOTE}


def too_long(text: str, limit: int, *, what: str = "The text") -> str | None:
    """The refusal, in words, when `text` is over `limit` characters; None when it fits."""
    if len(text) <= limit:
        return None
    return (
        f"{what} is {len(text):,} characters long; the limit here is {limit:,}. "
        "Shorten it and send again: nothing was cut."
    )


def draft_get(*, user, conversation: Conversation, kind: str) -> Draft | None:
    return Draft.objects.filter(user=user, conversation=conversation, kind=kind).first()


def drafts_for(*, user, conversation: Conversation) -> dict[str, Draft]:
    """The agent's drafts on one conversation, by kind."""
    return {d.kind: d for d in Draft.objects.filter(user=user, conversation=conversation)}


@transaction.atomic
def save_draft(*, user, conversation: Conversation, kind: str, text: str) -> Draft | None:
    """Keep what the agent typed (an empty text deletes the draft). Refuses (ActionRefused) a
    text longer than the box's limit, so a draft never holds what could not be sent. A draft is
    the agent's own: nothing is published."""
    if kind not in KINDS:
        raise ActionRefused("A draft is for a reply (message) or a private note (note).")
    refusal = too_long(text, MAX_TEXT, what="The draft")
    if refusal:
        raise ActionRefused(refusal)
    if not text.strip():
        delete_draft(user=user, conversation=conversation, kind=kind)
        return None
    draft, _ = Draft.objects.update_or_create(
        user=user,
        conversation=conversation,
        kind=kind,
        defaults={"text": text, "updated_at": timezone.now()},
    )
    return draft


def delete_draft(*, user, conversation: Conversation, kind: str) -> None:
    Draft.objects.filter(user=user, conversation=conversation, kind=kind).delete()
