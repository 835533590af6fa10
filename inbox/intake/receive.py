"""One inbound message stored: contact and identity resolved, the conversation found or opened
(threading), the message stored once per provider id, the arrival hooks run and the outbox
events written, in one transaction. Each step is a public function so that the set-wise twin
(inbox.intake.receive_many) is built from the same steps."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.utils import getaddresses

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from inbox import activity, attachments, events, hooks, languages, screening, search
from inbox.intake import media
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
from inbox.services import snippet

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    conversation: Conversation
    message: Message
    created: bool  # False when this provider message was already stored
    conversation_created: bool = False


def reopen_window() -> timedelta:
    return timedelta(days=getattr(settings, "REOPEN_WINDOW_DAYS", 7))


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
    contact = Contact(name=sender.name[:255], email=sender.email[:320], phone=sender.phone[:32])
    languages.filled_in(contact, sender.language)  # what the provider or browser says
    return contact


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
    if languages.filled_in(contact, sender.language):
        updates.append("attributes")
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
        # Mail "from" one of our own mailboxes is a loop or a spoof: it continues nothing.
        return False
    if conversation.contact_id == contact.pk:
        return True
    if not address:
        return False
    if (conversation.contact.email or "").strip().lower() == address:
        # The address our mail went to (a chat visitor's): only its owner holds our token.
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
    from inbox.contacts import canonical_address, own_addresses

    return canonical_address(address) in own_addresses()


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
    if message.references and message.auto_kind == "bounce":
        # A bounce belongs with the mail of ours it returns (never a conversation of its own);
        # only our outbound mail is matched, so it cannot be steered into a customer's thread.
        returned = (
            candidates.filter(
                messages__channel=channel,
                messages__direction=Message.Direction.OUT,
                messages__external_id__in=list(message.references)[:50],
            )
            .order_by("-last_message_at")
            .first()
        )
        if returned is not None:
            return returned, False
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


def fresh_start(conversation: Conversation | None, message: NormalizedMessage, now) -> tuple:
    """(previous, conversation): what the found `conversation` becomes for `message`. One
    resolved too long ago stays closed and a new one follows it; one holding what a contact sent
    while blocked is never continued once they are unblocked (nor linked: it is listed nowhere)."""
    if conversation is not None and conversation.status == Status.BLOCKED:
        return None, None
    if _stays_closed(conversation, message, now):
        return conversation, None
    return None, conversation


def _opening_status(contact: Contact, message: NormalizedMessage) -> str:
    """Spam from a contact marked as spam; automated for a list mail, auto-reply or bounce that
    opens a conversation (one answering ours continues it); else open."""
    if contact.spam:
        return Status.SPAM
    return Status.AUTOMATED if message.auto_kind else Status.OPEN


def _opened(channel, contact, message: NormalizedMessage, *, now, sent_at, previous, vector):
    """The conversation `message` opens, not saved yet: born with its first message counted and
    indexed (no UPDATE of the fresh row), the `conversation_opening` hooks run."""
    subject = (message.subject or "")[:998]
    conversation = Conversation(
        channel=channel,
        contact=contact,
        subject=subject,
        status=_opening_status(contact, message),
        team_id=channel.default_team_id,
        # When we received it, not the sender's (a Date may be old or forged): SLA starts here.
        created_at=now,
        thread_key=message.thread_key,
        previous=previous,
        last_message_at=sent_at,
        snippet=snippet(message.preview),
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


def _continued(
    conversation: Conversation, message: NormalizedMessage, sent_at, *, spam: bool = False
) -> tuple:
    """Count `message` into the conversation it continues (in memory) and say what follows:
    (fields changed, status before, reopened). A resolved conversation reopens, a pending one is
    back with us (auditing either); auto-replies change neither. From a contact marked as spam
    (`spam`), the conversation goes to spam instead."""
    fields = ["last_message_at", "snippet", "message_count", "updated_at"]
    conversation.last_message_at = max(conversation.last_message_at, sent_at)
    conversation.snippet = snippet(message.preview)
    conversation.message_count += 1
    conversation.updated_at = timezone.now()
    if not message.auto_kind:
        conversation.last_inbound_at = sent_at
        fields.append("last_inbound_at")
    status_before = conversation.status
    reopened = status_before == Status.RESOLVED and not message.auto_kind
    if spam and status_before != Status.SPAM:
        # The contact was marked as spam: what they write goes to the Spam view too.
        reopened = False
        conversation.status = Status.SPAM
        fields.append("status")
        reason = "the contact is marked as spam"
    elif reopened:
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
            to_value=conversation.status,
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

    if contact.blocked_at:
        conversation, conversation_created = screening.blocked_conversation(
            channel, contact, message, now=now, sent_at=sent_at
        )
        locked, previous = True, None
    else:
        conversation, locked = _conversation_for(channel, contact, message)
        previous, conversation = fresh_start(conversation, message, now)
        conversation_created = conversation is None
    if conversation is None:
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
        media.schedule_downloads(attachments.store(stored, message.attachments))

    status_before, reopened = conversation.status, False
    if not conversation_created:
        fields, status_before, reopened = _continued(
            conversation, message, sent_at, spam=contact.spam
        )
        # The counters and the search vector in one UPDATE.
        values = {name: getattr(conversation, name) for name in fields}
        values.update(_vector_field(search.appended_vector(text=message.text)))
        Conversation.objects.filter(pk=conversation.pk).update(**values)
    received = Received(
        conversation, stored, created=True, conversation_created=conversation_created
    )
    if contact.blocked_at:
        return received  # stored, and nothing else: no hooks, no events (inbox.screening)
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
        # Spam gets no tags, routing, SLA clocks or acknowledgement: it is only filed.
        listed = [arrival for arrival in arrivals if arrival.conversation.status != Status.SPAM]
        if listed:
            hooks.run("messages_received", arrivals=listed)
    for arrival, (_, reopened) in zip(received, changes, strict=True):
        _published(arrival, reopened)
