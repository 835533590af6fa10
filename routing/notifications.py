"""The bell: notifications made from outbox events after commit, read and marked read by their
recipient, and the live unread count pushed to that person's open pages.

Who gets one:
- note.mentioned: the mentioned user (not someone mentioning themselves);
- conversation.assigned: the new assignee, when a person other than them assigned it (routing
  rules and the queue hand-out, which have no actor, notify nobody);
- sla.warning, sla.breached: the conversation's assignee;
- message.created, inbound customer message: the conversation's assignee;
- alert.spike: every lead and admin (routing.spike_notify; such a notification has no
  conversation but its alert).
"""

import logging
from dataclasses import dataclass

from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Substr
from django.utils import timezone

from inbox import events as outbox
from inbox import groups
from inbox.models import Conversation, Message
from inbox.titles import first_customer_texts, one_line, title_for
from routing.models import Notification

logger = logging.getLogger(__name__)

Kind = Notification.Kind
UNREAD_CAP = 99  # the bell says "99+" past it; counting further costs and tells nobody more
LIST_LIMIT = 30
SLA_WORDS = {"sla.warning": "is due soon", "sla.breached": "is breached"}
REPLY_EVENT = "message.created"
QUOTED = (Kind.MENTION, Kind.REPLY)
QUOTE_CHARS = 400  # enough for one line of the text; a 5 MB mail body stays in the database


def _wanted(event) -> bool:
    payload = event.payload or {}
    if not event.conversation_id:
        return False
    if event.type in ("note.mentioned", "sla.warning", "sla.breached"):
        return True
    if event.type == "conversation.assigned":
        return bool(event.actor_id and (payload.get("after") or {}).get("assignee"))
    if event.type == REPLY_EVENT:
        return payload.get("direction") == Message.Direction.IN and payload.get("kind") in (
            None,
            Message.Kind.MESSAGE,
        )
    return False


def notify_dispatched(*, events) -> None:
    """Hook on events_dispatched (after commit, once per fanned-out batch): the batch's
    notifications in one INSERT, then each recipient's new unread count to their open pages.
    Safe to repeat (unique per recipient and event)."""
    wanted = [e for e in events if _wanted(e)]
    if not wanted:
        return
    rows = _rows_for(wanted)
    if not rows:
        return
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    push_unread({row.recipient_id for row in rows})


def _rows_for(events) -> list[Notification]:
    """At most three queries, each only when some event needs it: the conversations' assignees,
    the new assignees' ids, the start of the messages quoted."""
    from accounts.models import User

    needs_assignee = {e.conversation_id for e in events if e.type in (*SLA_WORDS, REPLY_EVENT)}
    assignees = (
        dict(Conversation.objects.filter(pk__in=needs_assignee).values_list("pk", "assignee_id"))
        if needs_assignee
        else {}
    )
    usernames = {
        e.payload["after"]["assignee"] for e in events if e.type == "conversation.assigned"
    }
    users = (
        dict(
            User.objects.filter(username__in=usernames, is_active=True).values_list(
                "username", "pk"
            )
        )
        if usernames
        else {}
    )
    chosen = []
    for event in events:
        payload = event.payload
        if event.type == "note.mentioned":
            kind, recipient = Kind.MENTION, payload.get("user")
        elif event.type == "conversation.assigned":
            kind, recipient = Kind.ASSIGNED, users.get(payload["after"]["assignee"])
        elif event.type in SLA_WORDS:
            kind = Kind.SLA_WARNING if event.type == "sla.warning" else Kind.SLA_BREACHED
            recipient = assignees.get(event.conversation_id)
        else:
            kind, recipient = Kind.REPLY, assignees.get(event.conversation_id)
        if recipient is not None and recipient != event.actor_id:
            chosen.append((event, kind, recipient))
    quoted = {e.payload.get("message") for e, kind, _ in chosen if kind in QUOTED}
    quoted.discard(None)
    texts = (
        dict(
            Message.objects.filter(pk__in=quoted)
            .annotate(start=Substr("text", 1, QUOTE_CHARS))
            .values_list("pk", "start")
        )
        if quoted
        else {}
    )
    rows = []
    for event, kind, recipient in chosen:
        payload = event.payload
        if kind in QUOTED:
            text = texts.get(payload.get("message"), "")
        elif kind == Kind.ASSIGNED:
            text = payload.get("reason") or ""
        else:
            target = (payload.get("target") or "response").replace("_", " ")
            text = f"The {target} target {SLA_WORDS[event.type]}."
        rows.append(
            Notification(
                recipient_id=recipient,
                kind=kind,
                conversation_id=event.conversation_id,
                actor_id=event.actor_id,
                text=one_line(text, 300),
                event_id=event.pk,
                created_at=event.created_at or timezone.now(),
            )
        )
    return rows


def unread_count(user) -> int:
    """How many unread, up to UNREAD_CAP + 1 (shown as "99+"); a bounded read, no COUNT."""
    if not getattr(user, "is_authenticated", False):
        return 0
    ids = Notification.objects.filter(recipient=user, read_at__isnull=True).values_list(
        "pk", flat=True
    )
    return len(ids[: UNREAD_CAP + 1])


def unread_label(count: int) -> str:
    return f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count)


@dataclass
class Item:
    notification: Notification
    title: str

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None


def recent_for(user, *, limit: int = LIST_LIMIT, only=None) -> list[Item]:
    """The user's latest notifications (of the ids in `only`, when given), newest first, with
    their conversations' titles (at most two queries whatever the count)."""
    rows = Notification.objects.filter(recipient=user)
    if only is not None:
        rows = rows.filter(pk__in=only)
    found = list(
        rows.select_related("actor", "conversation", "alert").order_by("-created_at", "-pk")[:limit]
    )
    subjects = {n.conversation_id: n.conversation.subject for n in found if n.conversation_id}
    untitled = [pk for pk, subject in subjects.items() if not one_line(subject)]
    firsts = first_customer_texts(untitled) if untitled else {}
    return [
        Item(
            n,
            title_for(subjects[n.conversation_id], firsts.get(n.conversation_id))
            if n.conversation_id
            else (n.alert.watch if n.alert_id else ""),
        )
        for n in found
    ]


def mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (Notification.DoesNotExist when it is not
    theirs); the new count goes to their open pages after commit."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(
            pk=notification_id, recipient=user
        )
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
            transaction.on_commit(lambda: push_unread({user.pk}))
    return notification


def mark_all_read(*, user) -> int:
    """Mark every unread notification of the user read; returns how many."""
    with transaction.atomic():
        changed = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        if changed:
            transaction.on_commit(lambda: push_unread({user.pk}))
    return changed


def push_unread(user_ids: set[int]) -> None:
    """Each user's unread count to their open pages ({"type": "notifications", "unread": N}).
    A layer that fails loses only this push: the next page load shows the count."""
    if not user_ids:
        return
    counts = dict(
        Notification.objects.filter(recipient_id__in=user_ids, read_at__isnull=True)
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )
    frames = [
        (
            groups.notifications(user_id),
            {
                "type": "feed.transient",
                "signal": {
                    "type": "notifications",
                    "unread": counts.get(user_id, 0),
                    "label": unread_label(counts.get(user_id, 0)),
                },
            },
        )
        for user_id in sorted(user_ids)
    ]
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        outbox.send_frames(layer, frames)
    except Exception:
        logger.exception("could not push unread counts to %s people", len(frames))
