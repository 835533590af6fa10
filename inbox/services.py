"""Every write to the inbox's own state. One function per action; each owns its transaction,
writes the audit row and publishes the outbox event."""

import logging
import re

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.errors import ActionRefused
from inbox import activity, events, hooks
from inbox.models import (
    Contact,
    Conversation,
    Message,
    Status,
)

logger = logging.getLogger(__name__)

SNIPPET_CHARS = 200


def lock_for_change(
    *,
    conversation_id: int,
    actor,
    refusal: str = "You may not change this conversation.",
    related=(),
) -> Conversation:
    """Lock a conversation row for a write and check that `actor` may change it (None: the
    system). Every triage service starts here, so the rule and the lock order are the same."""
    from inbox.access import can_change_conversation

    rows = Conversation.objects.select_for_update()
    if related:
        rows = rows.select_related(*related)
    conversation = rows.get(pk=conversation_id)
    if not can_change_conversation(actor, conversation):
        raise PermissionDenied(refusal)
    return conversation


def snippet(text: str) -> str:
    return " ".join(text.split())[:SNIPPET_CHARS]


MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


@transaction.atomic
def add_note(*, conversation_id: int, actor, text: str) -> Message:
    """A private note for colleagues: never sent to the customer, no effect on SLA clocks.
    @username mentions of users who can see the conversation are recorded and notified.
    Emits message.created (kind note) and note.mentioned per mentioned user."""
    from accounts.models import User

    conversation = lock_for_change(
        conversation_id=conversation_id,
        actor=actor,
        refusal="You may not write notes on this conversation.",
    )
    text = text.strip()
    if not text:
        raise ActionRefused("A note needs some text.")
    from inbox.drafts import MAX_TEXT, too_long

    refusal = too_long(text, MAX_TEXT, what="The note")
    if refusal:
        raise ActionRefused(refusal)
    now = timezone.now()
    note = Message.objects.create(
        conversation=conversation,
        channel_id=conversation.channel_id,
        direction=Message.Direction.OUT,
        kind=Message.Kind.NOTE,
        sender_user=actor,
        text=text,
        created_at=now,
    )
    usernames = set(MENTION.findall(text))
    mentioned = [
        user
        for user in User.objects.filter(username__in=usernames, is_active=True)
        if Conversation.objects.visible_to(user).filter(pk=conversation.pk).exists()
    ]
    note.mentions.set(mentioned)
    conversation.save(update_fields=["updated_at"])
    events.publish(
        "message.created",
        conversation=conversation,
        actor=actor,
        data={"message": note.pk, "direction": note.direction, "kind": note.kind},
    )
    for user in mentioned:
        events.publish(
            "note.mentioned",
            conversation=conversation,
            actor=actor,
            data={"message": note.pk, "user": user.pk},
        )
    return note


@transaction.atomic
def set_status(
    *, conversation_id: int, status: str, actor, snoozed_until=None, reason: str = ""
) -> Conversation:
    """Move a conversation to open, pending, snoozed (until a future time), resolved or spam
    (its contact's next messages follow it there; out of spam clears that; inbox.screening).
    Locks the row; a repeat of the current state changes nothing. Emits conversation.updated and
    runs `conversation_changed` (SLA clocks pause, resume or stop)."""
    if status not in Status.values:
        raise ValueError(f"unknown status {status!r}")
    conversation = lock_for_change(conversation_id=conversation_id, actor=actor)
    if Status.BLOCKED in (status, conversation.status):
        # Blocking is the contact's (inbox.screening), never a conversation's status to set.
        raise ActionRefused(
            "Messages from a blocked contact stay blocked; unblock the contact instead."
            if conversation.status == Status.BLOCKED
            else "Block the contact instead: a conversation cannot be set to blocked."
        )
    now = timezone.now()
    if status == Status.SNOOZED:
        if snoozed_until is None or snoozed_until <= now:
            raise ActionRefused("Snooze needs a time in the future.")
    else:
        snoozed_until = None
    before = conversation.status
    if before == status and conversation.snoozed_until == snoozed_until:
        return conversation
    fields = ["status", "snoozed_until", "updated_at"]
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    if status == Status.RESOLVED:
        conversation.resolved_at = now
        fields.append("resolved_at")
    elif before == Status.RESOLVED:
        conversation.resolved_at = None
        conversation.reopened_count += 1
        fields += ["resolved_at", "reopened_count"]
    conversation.save(update_fields=fields)
    if Status.SPAM in (before, status):
        # Into spam marks the contact (their next messages follow); out of spam clears that.
        Contact.objects.filter(pk=conversation.contact_id).update(spam=status == Status.SPAM)
    to_value = (
        status
        if status != Status.SNOOZED
        else {"status": status, "until": snoozed_until.isoformat()}
    )
    activity.record(
        conversation=conversation,
        actor=actor,
        verb="status",
        from_value=before,
        to_value=to_value,
        reason=reason,
    )
    changes = {"status": [before, status]}
    if snoozed_until:
        changes["snoozed_until"] = snoozed_until.isoformat()
    events.publish(
        "conversation.updated", conversation=conversation, actor=actor, data={"changes": changes}
    )
    hooks.run(
        "conversation_changed", conversation=conversation, changes={"status": (before, status)}
    )
    return conversation


def wake_snoozed(*, limit: int = 500) -> int:
    """Snoozed conversations whose time has come go back to open (periodic)."""
    due = list(
        Conversation.objects.filter(status=Status.SNOOZED, snoozed_until__lte=timezone.now())
        .order_by("snoozed_until")
        .values_list("pk", flat=True)[:limit]
    )
    for conversation_id in due:
        set_status(
            conversation_id=conversation_id, status=Status.OPEN, actor=None, reason="snooze ended"
        )
    return len(due)


def create_saved_view(*, owner, name: str, filters: dict, team=None, position: int = 100):
    """A personal view, or one shared with a team the owner belongs to (checked by the caller)."""
    from inbox.models import SavedView

    return SavedView.objects.create(
        owner=owner, name=name.strip()[:80], filters=filters, team=team, position=position
    )


def delete_saved_view(*, view, actor) -> None:
    """Owners delete their views; a shared view may also be deleted by its team's leads and admins."""
    from accounts.models import Membership

    allowed = (
        view.owner_id == actor.pk
        or actor.is_admin_role
        or (
            view.team_id
            and Membership.objects.filter(user=actor, team_id=view.team_id, role="lead").exists()
        )
    )
    if not allowed:
        raise PermissionDenied("Only the owner or the team's lead may delete this view.")
    view.delete()
