"""Who has read what: an agent's last opening of each conversation, and which list rows are unread
for them (a customer message arrived after they last opened it, or they never did)."""

from django.utils import timezone

from inbox.models import ConversationRead


def mark_read(*, user, conversation_id: int, at=None) -> None:
    """Record that `user` opened the conversation now: one upsert, no audit row, no event (only
    this agent's own list changes). Called by the conversation page and its live thread."""
    ConversationRead.objects.bulk_create(
        [
            ConversationRead(
                user=user, conversation_id=conversation_id, read_at=at or timezone.now()
            )
        ],
        update_conflicts=True,
        unique_fields=["user", "conversation"],
        update_fields=["read_at"],
    )


def unread_ids(*, user, conversations) -> set[int]:
    """Of these conversations (already fetched, with last_inbound_at), those with a customer
    message `user` has not opened since it arrived. One query for the whole page."""
    waiting = {c.pk: c.last_inbound_at for c in conversations if c.last_inbound_at is not None}
    if not waiting:
        return set()
    read = dict(
        ConversationRead.objects.filter(user=user, conversation_id__in=list(waiting)).values_list(
            "conversation_id", "read_at"
        )
    )
    return {pk for pk, arrived in waiting.items() if pk not in read or read[pk] < arrived}
