"""Every write to the inbox's own state. One function per action; each owns its transaction,
writes the audit row and publishes the outbox event."""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import getaddresses

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from inbox import activity, attachments, events, hooks, search
from inbox.models import (
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    Status,
)
from inbox.normalized import NormalizedMessage, SenderRef
from inbox.sanitize import sanitize_html

logger = logging.getLogger(__name__)

SNIPPET_CHARS = 200


@dataclass(frozen=True)
class Received:
    conversation: Conversation
    message: Message
    created: bool  # False when this provider message was already stored
    conversation_created: bool = False


def reopen_window() -> timedelta:
    return timedelta(days=getattr(settings, "REOPEN_WINDOW_DAYS", 7))


def lock_for_change(
    *,
    conversation_id: int,
    actor,
    refusal: str = "You may not change this conversation.",
    related=(),
) -> Conversation:
    """Lock a conversation row for a write and check that `actor` may change it (None: the
    system). Every triage service starts here, so the rule and the lock order are the same."""
    from accounts.permissions import can_change_conversation

    rows = Conversation.objects.select_for_update()
    if related:
        rows = rows.select_related(*related)
    conversation = rows.get(pk=conversation_id)
    if not can_change_conversation(actor, conversation):
        raise PermissionDenied(refusal)
    return conversation


def _identity_key(kind: str, value: str) -> str:
    return value.strip().lower() if kind == "email" else value.strip()


def _handles(sender: SenderRef) -> list[tuple[str, str]]:
    """The identities a sender is known by: its provider handle first, then an email address or
    phone number the provider vouches for."""
    handles = [(sender.kind, _identity_key(sender.kind, sender.id))]
    if sender.verified and sender.email:
        handles.append(("email", _identity_key("email", sender.email)))
    if sender.verified and sender.phone:
        handles.append(("phone", sender.phone))
    return list(dict.fromkeys(handles))


def _new_contact(sender: SenderRef) -> Contact:
    return Contact(name=sender.name[:255], email=sender.email[:320], phone=sender.phone[:32])


def _filled_in(contact: Contact, sender: SenderRef) -> list[str]:
    """Fill what the contact lacks from what the sender says (in memory); the fields set."""
    updates = []
    if sender.name and not contact.name:
        contact.name = sender.name[:255]
        updates.append("name")
    if sender.email and not contact.email:
        contact.email = sender.email[:320]
        updates.append("email")
    if sender.phone and not contact.phone:
        contact.phone = sender.phone[:32]
        updates.append("phone")
    return updates


def _identities(contact: Contact, sender: SenderRef, missing) -> list[ContactIdentity]:
    return [
        ContactIdentity(
            contact=contact,
            kind=kind,
            external_id=external_id,
            verified=sender.verified or kind == sender.kind,
        )
        for kind, external_id in missing
    ]


def resolve_contact(sender: SenderRef, *, lock: bool = False) -> Contact:
    """Find the contact behind a sender, or create one with its identities.

    The provider handle (kind, id) finds the contact first; failing that, an email address or
    phone number the provider vouches for links to a contact already known by it. With `lock`,
    the contact row is locked for the rest of the transaction (a new one is locked by its
    insert). Costs one round trip for a known sender with nothing new, three for a new one.
    """
    handles = _handles(sender)
    match = Q()
    for kind, external_id in handles:
        match |= Q(kind=kind, external_id=external_id)
    identities = ContactIdentity.objects.filter(match).select_related("contact")
    if lock:
        # The contacts are read and locked with their identities: one statement, not two.
        identities = identities.select_for_update(of=("contact",))
    found = {(i.kind, i.external_id): i.contact for i in identities}
    contact = next((found[h] for h in handles if h in found), None)
    if contact is None:
        contact = _new_contact(sender)
        contact.save(force_insert=True)
        events.publish("contact.created", data={"contact": contact.pk})
    else:
        contact = _unmerged(contact, lock=lock)
    updates = _filled_in(contact, sender)
    if updates:
        contact.save(update_fields=updates)
    missing = [h for h in handles if h not in found]
    if missing:
        # A handle claimed concurrently by the same person's other message: theirs stands.
        ContactIdentity.objects.bulk_create(
            _identities(contact, sender, missing), ignore_conflicts=True
        )
    return contact


def _unmerged(contact: Contact, *, lock: bool) -> Contact:
    """The contact that `contact` was merged into, if it was (merges chain)."""
    rows = Contact.objects.select_for_update() if lock else Contact.objects
    while contact.merged_into_id:
        contact = rows.get(pk=contact.merged_into_id)
    return contact


def _takes_part(conversation: Conversation, contact: Contact) -> bool:
    """The conversation's contact, or someone its mail was addressed to (To/Cc of a message in
    it): people cc'd on a thread may answer in it; strangers and our own addresses may not."""
    address = (contact.email or "").strip().lower()
    if address and _is_own_address(address):
        # Mail "from" one of our own mailboxes is a loop or a spoof: our replies are made here,
        # never received; it may not continue a customer's conversation.
        return False
    if conversation.contact_id == contact.pk:
        return True
    if not address:
        return False
    if (conversation.contact.email or "").strip().lower() == address:
        # The address our mail went to (a chat visitor's, given in the widget): only its owner
        # holds the reply token we sent there.
        return True
    recent = Message.objects.filter(conversation=conversation).order_by("-created_at")[:200]
    for headers in recent.values_list("headers", flat=True):
        if not isinstance(headers, dict):
            continue
        listed = [str(headers.get(field) or "") for field in ("to", "cc")]
        if any(found.lower() == address for _name, found in getaddresses(listed)):
            return True
    return False


def _answers_by_mail(conversation: Conversation, channel: Channel) -> bool:
    """Mail on `channel` may continue `conversation`: one of its own, or a live chat whose
    offline replies leave from this mailbox (the chat channel's config["email_channel"])."""
    if conversation.channel_id == channel.pk:
        return True
    return (
        channel.kind == Channel.Kind.EMAIL
        and conversation.channel.kind == Channel.Kind.CHAT
        and (conversation.channel.config or {}).get("email_channel") == channel.slug
    )


def _is_own_address(address: str) -> bool:
    from inbox.auto_ack import _canonical, own_addresses

    return _canonical(address) in own_addresses()


def _conversation_for(channel: Channel, contact: Contact, message: NormalizedMessage):
    """Find the conversation an inbound message continues, or None to open a new one; returns
    it with whether it was locked (and read) by finding it.

    Email joins only through an unguessable reply token or through a Message-ID it answers,
    and only when the sender takes part in that conversation (its contact, or someone its mail
    was addressed to): subject matching never threads, so a forged In-Reply-To or token from a
    stranger opens a new conversation. Chat and social messages continue the contact's latest
    conversation on the channel.
    """
    candidates = Conversation.objects.filter(channel=channel)
    # The common lookups lock what they find at once (one statement, not a find and a lock).
    latest = candidates.select_for_update().defer("search_vector").order_by("-last_message_at")
    if message.reply_token:
        found = (
            Conversation.objects.select_related("channel", "contact")
            .filter(reply_token=message.reply_token)
            .first()
        )
        if found and _answers_by_mail(found, channel) and _takes_part(found, contact):
            return found, False
    if message.references:
        answered = list(
            candidates.filter(
                messages__channel=channel,
                messages__external_id__in=list(message.references)[:50],
            )
            .distinct()
            .order_by("-last_message_at")[:5]
        )
        # The sender's own conversation first; else one they were addressed on.
        answered.sort(key=lambda c: c.contact_id != contact.pk)
        for found in answered:
            if _takes_part(found, contact):
                return found, False
    if message.thread_key:
        return latest.filter(thread_key=message.thread_key).first(), True
    if channel.kind == Channel.Kind.EMAIL:
        return None, False
    return latest.filter(contact=contact).first(), True


def _snippet(text: str) -> str:
    return " ".join(text.split())[:SNIPPET_CHARS]


def _vector_field(vector) -> dict:
    return {} if vector is None else {"search_vector": vector}


class _AlreadyStored(Exception):
    pass


def receive_message(
    *, channel: Channel, message: NormalizedMessage, inbound_event=None, known_new: bool = False
) -> Received:
    """Store one inbound customer message: contact resolved, conversation found or opened,
    message stored once per (channel, external_id), hooks run (tagging, routing, SLA), events
    published. Locks the contact row so one person's burst threads into one conversation.
    Emits contact.created, conversation.created, conversation.updated (reopen), message.created.
    A message already stored (a redelivery, or a concurrent one that won) changes nothing.
    `known_new`: the caller has just looked it up and found it not stored (a drain looks up a
    whole claim at once), sparing the look-up; the unique constraint still settles a race.
    """
    try:
        return _receive(
            channel=channel, message=message, inbound_event=inbound_event, known_new=known_new
        )
    except _AlreadyStored:
        existing = Message.objects.select_related("conversation").get(
            channel=channel, external_id=message.external_id
        )
        return Received(existing.conversation, existing, created=False)


def _stays_closed(conversation: Conversation | None, message: NormalizedMessage, now) -> bool:
    """A customer writing to a conversation resolved longer ago than the reopen window starts a
    new one (linked to it); auto-replies never reopen anything."""
    return (
        conversation is not None
        and conversation.status == Status.RESOLVED
        and not message.auto_kind
        and (conversation.resolved_at or now) < now - reopen_window()
    )


def _opened(channel, contact, message: NormalizedMessage, *, now, sent_at, previous, vector):
    """The conversation `message` opens, not saved yet: born with its first message counted and
    indexed (no UPDATE of the fresh row), the `conversation_opening` hooks run."""
    subject = (message.subject or "")[:998]
    conversation = Conversation(
        channel=channel,
        contact=contact,
        subject=subject,
        team_id=channel.default_team_id,
        # When we received it, not the sender's own timestamp (an email's Date can be days
        # old or forged): SLA clocks start here.
        created_at=now,
        thread_key=message.thread_key,
        previous=previous,
        last_message_at=sent_at,
        snippet=_snippet(message.text),
        message_count=1,
        last_inbound_at=None if message.auto_kind else sent_at,
        **(
            _vector_field(search.first_vector(text=message.text, subject=subject)) if vector else {}
        ),
    )
    hooks.run("conversation_opening", conversation=conversation, message=message)
    return conversation


def _inbound(conversation, channel, contact, message: NormalizedMessage, *, sent_at, event):
    """The Message row of an inbound customer message, not saved yet."""
    return Message(
        conversation=conversation,
        channel=channel,
        direction=Message.Direction.IN,
        kind=Message.Kind.MESSAGE,
        sender_contact=contact,
        text=message.text,
        html=sanitize_html(message.html or ""),
        external_id=message.external_id,
        headers=message.headers,
        auto_kind=message.auto_kind,
        inbound_event=event,
        created_at=sent_at,
    )


def _continued(conversation: Conversation, message: NormalizedMessage, sent_at) -> tuple:
    """Count `message` into the conversation it continues (in memory) and say what follows:
    (fields changed, status before, reopened). A resolved conversation reopens, a pending one is
    back with us (auditing either); auto-replies change neither."""
    fields = ["last_message_at", "snippet", "message_count", "updated_at"]
    conversation.last_message_at = max(conversation.last_message_at, sent_at)
    conversation.snippet = _snippet(message.text)
    conversation.message_count += 1
    conversation.updated_at = timezone.now()
    if not message.auto_kind:
        conversation.last_inbound_at = sent_at
        fields.append("last_inbound_at")
    status_before = conversation.status
    reopened = status_before == Status.RESOLVED and not message.auto_kind
    if reopened:
        conversation.status = Status.OPEN
        conversation.resolved_at = None
        conversation.reopened_count += 1
        fields += ["status", "resolved_at", "reopened_count"]
        reason = "customer wrote again"
    elif status_before == Status.PENDING and not message.auto_kind:
        # The customer answered: the conversation is back with us.
        conversation.status = Status.OPEN
        fields.append("status")
        reason = "customer replied"
    if conversation.status != status_before:
        activity.record(
            conversation=conversation,
            actor=None,
            verb="status",
            from_value=status_before,
            to_value=Status.OPEN,
            reason=reason,
        )
    return fields, status_before, reopened


def _published(received: Received, reopened: bool) -> None:
    conversation, stored = received.conversation, received.message
    if received.conversation_created:
        events.publish(
            "conversation.created",
            conversation=conversation,
            data={"channel": conversation.channel.slug, "contact": stored.sender_contact_id},
        )
    elif reopened:
        events.publish(
            "conversation.updated",
            conversation=conversation,
            data={"changes": {"status": [Status.RESOLVED, Status.OPEN]}},
        )
    events.publish(
        "message.created",
        conversation=conversation,
        data={"message": stored.pk, "direction": stored.direction, "kind": stored.kind},
    )


@transaction.atomic
def _receive(
    *, channel: Channel, message: NormalizedMessage, inbound_event, known_new: bool
) -> Received:
    if (
        not known_new
        and Message.objects.filter(channel=channel, external_id=message.external_id).exists()
    ):
        raise _AlreadyStored

    contact = resolve_contact(message.sender, lock=True)
    now = timezone.now()
    sent_at = min(message.sent_at or now, now)

    conversation, locked = _conversation_for(channel, contact, message)
    previous = None
    if _stays_closed(conversation, message, now):
        previous, conversation = conversation, None

    conversation_created = conversation is None
    if conversation_created:
        conversation = _opened(
            channel, contact, message, now=now, sent_at=sent_at, previous=previous, vector=True
        )
        conversation.save(force_insert=True)
    elif not locked:
        conversation = (
            Conversation.objects.select_for_update().defer("search_vector").get(pk=conversation.pk)
        )
    # Hooks read both; spare them a query each (a cc'd participant writing is not its contact).
    conversation.channel = channel
    if conversation.contact_id == contact.pk:
        conversation.contact = contact

    try:
        # No savepoint of its own: a conflict leaves at once, and _receive's rolls back.
        stored = _inbound(
            conversation, channel, contact, message, sent_at=sent_at, event=inbound_event
        )
        stored.save(force_insert=True)
    except IntegrityError as exc:
        # The same provider message committed by a concurrent delivery: that one stands, and
        # everything this attempt wrote (a new contact or conversation) is rolled back.
        raise _AlreadyStored from exc

    if message.attachments:
        attachments.store(stored, message.attachments)

    status_before, reopened = conversation.status, False
    if not conversation_created:
        fields, status_before, reopened = _continued(conversation, message, sent_at)
        # The counters and the search vector in one UPDATE.
        values = {name: getattr(conversation, name) for name in fields}
        values.update(_vector_field(search.appended_vector(text=message.text)))
        Conversation.objects.filter(pk=conversation.pk).update(**values)
    received = Received(
        conversation, stored, created=True, conversation_created=conversation_created
    )
    _arrived([received], [(status_before, reopened)])
    return received


def _arrived(received: list[Received], changes: list[tuple[str, bool]]) -> None:
    """What follows the rows of arrivals: each one's status hook, the `messages_received` hooks
    for all of them at once (tags, routing, SLA), then each one's events. `changes`: per arrival,
    its status before and whether it reopened. When an app asks for arrivals in order
    ("arrivals_in_order"), each arrival's hooks run before the next one's."""
    if len(received) > 1 and any(asks() for asks in hooks.registered("arrivals_in_order")):
        groups = [([arrival], [change]) for arrival, change in zip(received, changes, strict=True)]
    else:
        groups = [(received, changes)]
    for arrivals, group_changes in groups:
        for arrival, (status_before, _) in zip(arrivals, group_changes, strict=True):
            if status_before != arrival.conversation.status:
                hooks.run(
                    "conversation_changed",
                    conversation=arrival.conversation,
                    changes={"status": (status_before, arrival.conversation.status)},
                )
        hooks.run("messages_received", arrivals=arrivals)
    for arrival, (_, reopened) in zip(received, changes, strict=True):
        _published(arrival, reopened)


class ReplyRefused(Exception):
    """The reply cannot go out on this channel now; the message says why, for the agent."""


MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


def _touch_for_outbound(conversation: Conversation, message: Message) -> list[str]:
    conversation.last_message_at = message.created_at
    conversation.snippet = _snippet(message.text)
    conversation.message_count += 1
    return ["last_message_at", "snippet", "message_count", "updated_at"]


MAX_CC = 20


def _reply_options(channel: Channel, cc: Sequence[str], subject: str) -> dict:
    """Cc and subject of an email reply, validated; stored in Message.headers."""
    cc = list(dict.fromkeys(address.strip() for address in cc if address and address.strip()))
    subject = " ".join((subject or "").split())
    if (cc or subject) and channel.kind != Channel.Kind.EMAIL:
        raise ReplyRefused("Cc and subject can only be set on email replies.")
    if len(cc) > MAX_CC:
        raise ReplyRefused(f"A reply can copy at most {MAX_CC} addresses.")
    for address in cc:
        try:
            validate_email(address)
        except ValidationError:
            raise ReplyRefused(f"{address!r} is not a valid email address for cc.") from None
    if len(subject) > 998:
        raise ReplyRefused("The subject is too long (998 characters at most).")
    options = {}
    if cc:
        options["cc"] = cc
    if subject:
        options["subject"] = subject
    return options


@transaction.atomic
def send_reply(
    *,
    conversation_id: int,
    actor,
    text: str,
    html: str = "",
    cc: Sequence[str] = (),
    subject: str = "",
) -> Message:
    """Queue an agent's reply to the customer on the conversation's channel.

    Locks the conversation. Refuses (ReplyRefused) when the channel's sender says the reply
    cannot go out now (e.g. Meta's 24-hour window), or when `cc` holds an invalid address or
    `cc`/`subject` are given on a channel that is not email. The message is stored `queued`
    (cc and subject in its headers) and sent by a task after commit. Emits message.created
    (direction out); runs the `agent_replied` hook (SLA clocks stop).
    """
    from inbox.senders import get_sender

    conversation = lock_for_change(
        conversation_id=conversation_id,
        actor=actor,
        refusal="You may not reply to this conversation.",
        related=("channel", "contact"),
    )
    text = text.strip()
    if not text:
        raise ReplyRefused("A reply needs some text.")
    options = _reply_options(conversation.channel, cc, subject)
    sender = get_sender(conversation.channel.kind)
    refusal = getattr(sender, "can_send", lambda c: None)(conversation) if sender else None
    if refusal:
        raise ReplyRefused(refusal)
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Message.Direction.OUT,
        kind=Message.Kind.MESSAGE,
        sender_user=actor,
        text=text,
        html=sanitize_html(html),
        headers=options,
        delivery_status=Message.DeliveryStatus.QUEUED,
        next_attempt_at=now,
        created_at=now,
    )
    fields = _touch_for_outbound(conversation, message)
    conversation.last_outbound_at = now
    fields.append("last_outbound_at")
    if conversation.first_response_at is None:
        conversation.first_response_at = now
        fields.append("first_response_at")
    conversation.save(update_fields=fields)
    search.index_text(conversation_id=conversation.pk, text=text)
    hooks.run("agent_replied", conversation=conversation, message=message)
    events.publish(
        "message.created",
        conversation=conversation,
        actor=actor,
        data={"message": message.pk, "direction": message.direction, "kind": message.kind},
    )
    from inbox.outbound import enqueue_delivery

    transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message


@transaction.atomic
def send_auto_acknowledgement(*, conversation_id: int, inbound_message_id: int) -> Message | None:
    """Queue the channel's automatic acknowledgement of a customer's new email conversation.

    Returns None (and writes nothing) when the channel has none switched on, when the inbound
    message is automatic or from an auto-responder or from our own address (inbox.auto_ack), or
    when the contact already had one within the window: the check runs under a lock on the
    contact row, so concurrent mail from one person yields one acknowledgement. The message is
    sent by the system (no sender_user), marked auto_kind=auto_reply; it is not a first
    response and stops no SLA clock (no `agent_replied` hook). Emits message.created.
    """
    from inbox import auto_ack

    conversation = (
        Conversation.objects.select_for_update()
        .select_related("channel", "contact")
        .get(pk=conversation_id)
    )
    options = auto_ack.settings_for(conversation.channel)
    if not options:
        return None
    inbound = Message.objects.select_related("sender_contact").get(
        pk=inbound_message_id, conversation=conversation
    )
    reason = auto_ack.refusal(conversation.channel, inbound)
    if reason:
        logger.info("no auto-acknowledgement on conversation %s: %s", conversation.pk, reason)
        return None
    contact = Contact.objects.select_for_update().get(pk=conversation.contact_id)
    now = timezone.now()
    hours = options.get("window_hours") or getattr(settings, "AUTO_ACK_WINDOW_HOURS", 24)
    already = Message.objects.filter(
        conversation__contact=contact,
        direction=Message.Direction.OUT,
        auto_kind=Message.AutoKind.AUTO_REPLY,
        created_at__gte=now - timedelta(hours=float(hours)),
    ).exists()
    if already:
        logger.info(
            "no auto-acknowledgement on conversation %s: one sent recently", conversation.pk
        )
        return None
    message = queue_system_message(
        conversation=conversation,
        text=str(options["text"]).strip(),
        auto_kind=Message.AutoKind.AUTO_REPLY,
        now=now,
    )
    activity.record(
        conversation=conversation,
        actor=None,
        verb="auto_acknowledged",
        to_value=message.pk,
        reason="automatic acknowledgement of a new conversation",
    )
    return message


def queue_system_message(
    *, conversation: Conversation, text: str, auto_kind: str = "", headers=None, now=None
):
    """A message the system sends on the conversation's channel (no agent, so no first response
    and no SLA clock stopped): stored queued, counted, announced as message.created and handed
    to outbound delivery after commit. The caller holds the conversation's row lock and writes
    its own audit row. `headers` are stored with it (e.g. "shown_to_agents":
    Message.text_for_agents)."""
    from inbox.outbound import enqueue_delivery

    now = now or timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Message.Direction.OUT,
        kind=Message.Kind.MESSAGE,
        sender_user=None,
        text=text,
        auto_kind=auto_kind,
        headers=headers or {},
        delivery_status=Message.DeliveryStatus.QUEUED,
        next_attempt_at=now,
        created_at=now,
    )
    conversation.message_count += 1
    conversation.save(update_fields=["message_count", "updated_at"])
    events.publish(
        "message.created",
        conversation=conversation,
        data={"message": message.pk, "direction": message.direction, "kind": message.kind},
    )
    transaction.on_commit(lambda: enqueue_delivery(message.pk))
    return message


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
        raise ReplyRefused("A note needs some text.")
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
    """Move a conversation to open, pending, snoozed (until a future time) or resolved.
    Locks the row; a repeat of the current state changes nothing. Emits conversation.updated and
    runs `conversation_changed` (SLA clocks pause, resume or stop)."""
    if status not in Status.values:
        raise ValueError(f"unknown status {status!r}")
    conversation = lock_for_change(conversation_id=conversation_id, actor=actor)
    now = timezone.now()
    if status == Status.SNOOZED:
        if snoozed_until is None or snoozed_until <= now:
            raise ReplyRefused("Snooze needs a time in the future.")
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


# Kinds whose webhook door checks a signature made with Channel.secret: they need one to accept
# anything. A chat channel is reached by its public key; an email channel may live on IMAP or
# an ESP only, its raw-mail door staying shut while it has no secret.
SIGNED_KINDS = {
    Channel.Kind.API,
    Channel.Kind.META,
    Channel.Kind.TELEGRAM,
    Channel.Kind.TWILIO,
    Channel.Kind.X,
}


def create_channel(
    *,
    actor,
    kind: str,
    slug: str,
    name: str,
    secret: str = "",
    team=None,
    address: str = "",
    config: dict | None = None,
) -> Channel:
    """Admins add a channel: validated like the admin form (an API channel's callback_url is
    checked by the SSRF guard), one per email address, announced as channel.created."""
    from accounts.permissions import can_administer

    if not can_administer(actor):
        raise PermissionDenied("Only admins may add channels.")
    errors: dict[str, str] = {}
    if kind in SIGNED_KINDS and not secret:
        errors["secret"] = "This kind of channel signs its webhooks: give the signing secret."
    address = (address or "").strip()
    if kind == Channel.Kind.EMAIL and address:
        try:
            validate_email(address)
        except ValidationError:
            errors["address"] = "Enter the mailbox address, like help@example.com."
        else:
            if Channel.objects.filter(kind=kind, address__iexact=address).exists():
                errors["address"] = "Another email channel already receives this address."
    if errors:
        raise ValidationError(errors)
    channel = Channel(
        kind=kind,
        slug=slug,
        name=name.strip(),
        secret=secret,
        default_team=team,
        address=address,
        config=config or {},
    )
    channel.full_clean()
    with transaction.atomic():
        channel.save()
        events.publish(
            "channel.created",
            actor=actor,
            data={"channel": channel.pk, "kind": channel.kind, "slug": channel.slug},
        )
    return channel
