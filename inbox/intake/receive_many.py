"""Many inbound messages stored at once, set-wise: how a drain works off a backlog.

receive_message() stores one message in about ten statements, each built by the ORM; through a
backlog that building took most of a worker's time. receive_many() stores a run of messages in a
fixed number of statements: one look-up of the senders' identities (their contacts locked), one
INSERT of new contacts and one of new identities, one look-up of the conversations the messages
continue (then one locking read of them), one INSERT of new conversations and one of messages, one
UPDATE of the continued conversations, then the `messages_received` hooks, which do their work
for the whole run (tags, assignment, SLA clocks).

What it leaves is what receive_message() leaves one message at a time (tests/inbox/
test_drain_batches.py holds it to that). So it takes only messages that need no look-up of their
own (see processing._batchable: new, no reply token, no Message-ID they answer), and it stops
before a message whose conversation an earlier message of the run opens or continues, or may
have: that one starts the next run. It also stops before a message from a blocked contact or one
marked as spam (inbox.screening.is_screened), which receive_message() stores on its own.
PostgreSQL only (UPDATE ... FROM a JSON document).
"""

import json
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from core import bulk
from inbox import attachments, events, search
from inbox.intake import media
from inbox.intake.receive import (
    Received,
    _arrived,
    _continued,
    _filled_in,
    _handles,
    _identities,
    _inbound,
    _new_contact,
    _opened,
    _unmerged,
    fresh_start,
    receive_message,
)
from inbox.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    InboundEvent,
    Message,
)
from inbox.normalized import NormalizedMessage
from inbox.screening import is_screened


@dataclass(frozen=True)
class Entry:
    channel: Channel
    message: NormalizedMessage
    event: InboundEvent | None = None


def receive_many(entries: list[Entry]) -> list[Received]:
    """Fast twin of inbox.intake.receive.receive_message, held to its rows by tests/inbox/intake/test_drain_batches.py.

    Store the messages of `entries` in order, as receive_message() would one after another,
    inside the caller's transaction; returns what was stored for the first len(result) of them
    (at least one). The caller has made sure none is stored yet and each may be taken here."""
    contacts, missing = _contacts([entry.message.sender for entry in entries])
    screened = next((n for n, c in enumerate(contacts) if is_screened(c)), len(entries))
    if screened == 0:
        # Blocked or marked as spam: that arrival is receive_message()'s alone.
        entry = entries[0]
        return [
            receive_message(
                channel=entry.channel,
                message=entry.message,
                inbound_event=entry.event,
                known_new=True,
            )
        ]
    entries = entries[: min(screened, _independent(entries, contacts))]
    found = _continues(entries, contacts)
    taken = _distinct_prefix(found, len(entries))
    entries, contacts, missing = entries[:taken], contacts[:taken], missing[:taken]
    _write_contacts([entry.message.sender for entry in entries], contacts, missing)

    now = timezone.now()
    opened, opened_texts, continued, plan = [], [], [], []
    for n, entry in enumerate(entries):
        message, contact = entry.message, contacts[n]
        sent_at = min(message.sent_at or now, now)
        previous, conversation = fresh_start(found.get(n), message, now)
        if conversation is None:
            conversation = _opened(
                entry.channel,
                contact,
                message,
                now=now,
                sent_at=sent_at,
                previous=previous,
                vector=False,  # computed by the INSERT
            )
            opened.append(conversation)
            opened_texts.append(message.text[: search.INDEXED_CHARS])
            change = (conversation.status, False)
        else:
            _, *change = _continued(conversation, message, sent_at)
            continued.append((conversation, message.text))
        conversation.channel = entry.channel
        if conversation.contact_id == contact.pk:
            conversation.contact = contact
        plan.append((conversation, sent_at, tuple(change)))

    bulk.insert(
        Conversation,
        opened,
        computed={"search_vector": VECTOR},
        extra=[
            {"_subject": c.subject[: search.INDEXED_CHARS], "_text": text}
            for c, text in zip(opened, opened_texts, strict=True)
        ],
    )
    stored = [
        _inbound(
            conversation,
            entry.channel,
            contacts[n],
            entry.message,
            sent_at=sent_at,
            event=entry.event,
        )
        for n, (entry, (conversation, sent_at, _)) in enumerate(zip(entries, plan, strict=True))
    ]
    files = [
        row
        for entry, message in zip(entries, stored, strict=True)
        if entry.message.attachments
        for row in attachments.prepared(message, entry.message.attachments)[0]
    ]
    bulk.insert(Message, stored)  # with any notes on skipped attachments in the headers
    media.schedule_downloads(Attachment.objects.bulk_create(files))
    _write_continued(continued)

    new = {id(conversation) for conversation in opened}
    received = [
        Received(conversation, message, created=True, conversation_created=id(conversation) in new)
        for (conversation, _, _), message in zip(plan, stored, strict=True)
    ]
    _arrived(received, [change for _, _, change in plan])
    return received


def _contacts(senders) -> tuple[list, list]:
    """The contact of each sender, as resolve_contact(lock=True) finds it, for all of them in
    one look-up of their identities (the contacts locked, in id order): one object per contact,
    and for a sender nobody knows an unsaved one, shared by later senders with one of its
    handles. Nothing is written here: _write_contacts() does it for the entries taken."""
    handles = [_handles(sender) for sender in senders]
    wanted = {h for hs in handles for h in hs}
    one: dict[int, Contact] = {}  # contact id -> the one object standing for it
    found = {}
    for identity in (
        ContactIdentity.objects.filter(
            kind__in={kind for kind, _ in wanted},
            external_id__in={external_id for _, external_id in wanted},
        )
        .select_related("contact")
        .select_for_update(of=("contact",))
        .order_by("contact_id")
    ):
        if (identity.kind, identity.external_id) in wanted:
            contact = one.setdefault(identity.contact_id, identity.contact)
            found[(identity.kind, identity.external_id)] = contact
    contacts, missing = [], []
    for sender, hs in zip(senders, handles, strict=True):
        contact = next((found[h] for h in hs if h in found), None)
        if contact is None:
            contact = _new_contact(sender)
        elif contact.merged_into_id:
            contact = _unmerged(contact, lock=True)
            contact = one.setdefault(contact.pk, contact)
        missing.append([h for h in hs if h not in found])
        found.update(dict.fromkeys(missing[-1], contact))  # later senders find it
        contacts.append(contact)
    return contacts, missing


def _write_contacts(senders, contacts: list, missing: list) -> None:
    """What resolve_contact() writes for each sender, in order, for the taken entries: new
    contacts (one INSERT), what a sender fills in of a known one, the identities not known yet
    (one INSERT)."""
    new, filled, seen = [], {}, set()
    for sender, contact in zip(senders, contacts, strict=True):
        if contact.pk is None and id(contact) not in seen:
            new.append(contact)  # made from this sender, its first
        elif _filled_in(contact, sender) and contact.pk is not None:
            filled[id(contact)] = contact  # a new one is inserted filled in
        seen.add(id(contact))
    if new:
        Contact.objects.bulk_create(new)
        for contact in new:
            events.publish("contact.created", data={"contact": contact.pk})
    for contact in filled.values():
        contact.save(update_fields=["name", "email", "phone", "attributes"])
    rows = [
        row
        for sender, contact, handles in zip(senders, contacts, missing, strict=True)
        for row in _identities(contact, sender, handles)
    ]
    if rows:
        # A handle claimed concurrently by the same person's other message: theirs stands.
        ContactIdentity.objects.bulk_create(rows, ignore_conflicts=True)


def _independent(entries: list[Entry], contacts: list) -> int:
    """How many entries from the start can be taken together: one that finds its conversation
    by its contact (a chat or social message without a thread) must be its contact's first on
    its channel in the run, and a thread may appear once; otherwise an earlier entry may open
    or move the conversation it would find."""
    seen_contacts, seen_threads = set(), set()
    for n, entry in enumerate(entries):
        channel, thread = entry.channel, entry.message.thread_key
        if thread:
            if (channel.pk, thread) in seen_threads:
                return n
            seen_threads.add((channel.pk, thread))
        elif channel.kind != Channel.Kind.EMAIL and (channel.pk, id(contacts[n])) in seen_contacts:
            return n
        seen_contacts.add((channel.pk, id(contacts[n])))
    return len(entries)


LATEST_BY_THREAD = """
    SELECT w.n, c.id FROM unnest(%s::int[], %s::bigint[], %s::text[]) AS w(n, ch, thread)
    CROSS JOIN LATERAL (
        SELECT id FROM inbox_conversation x WHERE x.channel_id = w.ch AND x.thread_key = w.thread
        ORDER BY x.last_message_at DESC LIMIT 1
    ) c
    UNION ALL
    SELECT w.n, c.id FROM unnest(%s::int[], %s::bigint[], %s::bigint[]) AS w(n, ch, contact)
    CROSS JOIN LATERAL (
        SELECT id FROM inbox_conversation x WHERE x.channel_id = w.ch AND x.contact_id = w.contact
        ORDER BY x.last_message_at DESC LIMIT 1
    ) c
"""


def _continues(entries: list[Entry], contacts: list) -> dict[int, Conversation]:
    """Entry index -> the conversation it continues, locked: the latest of its thread, or (chat
    and social without a thread) its contact's latest on the channel. Email without a reply
    token or an answered Message-ID opens a new conversation (receive_message's rules)."""
    by_thread, by_contact = ([], [], []), ([], [], [])
    for n, entry in enumerate(entries):
        if entry.message.thread_key:
            wanted, key = by_thread, entry.message.thread_key
        elif entry.channel.kind != Channel.Kind.EMAIL and contacts[n].pk:
            wanted, key = by_contact, contacts[n].pk
        else:
            continue
        for column, value in zip(wanted, (n, entry.channel.pk, key), strict=True):
            column.append(value)
    if not by_thread[0] and not by_contact[0]:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(LATEST_BY_THREAD, [*by_thread, *by_contact])
        latest = dict(cursor.fetchall())
    rows = {
        c.pk: c
        for c in Conversation.objects.select_for_update(of=("self",))
        .select_related("contact")
        .defer("search_vector")
        .filter(pk__in=set(latest.values()))
        .order_by("pk")
    }
    return {n: rows[pk] for n, pk in latest.items() if pk in rows}


def _distinct_prefix(found: dict[int, Conversation], size: int) -> int:
    """How many entries from the start continue distinct conversations."""
    seen = set()
    for n in range(size):
        conversation = found.get(n)
        if conversation is not None:
            if conversation.pk in seen:
                return n
            seen.add(conversation.pk)
    return size


# A new conversation's vector (search.first_vector), from the row's subject and first text.
VECTOR = (
    "CASE WHEN u._subject = '' AND u._text = '' THEN NULL ELSE "
    "setweight(to_tsvector('simple', u._subject), 'A') || to_tsvector('simple', u._text) END"
)


UPDATE_CONTINUED = """
    UPDATE inbox_conversation c SET
        last_message_at = u.last_message_at, snippet = u.snippet,
        message_count = u.message_count, last_inbound_at = u.last_inbound_at,
        status = u.status, resolved_at = u.resolved_at, reopened_count = u.reopened_count,
        updated_at = u.updated_at,
        search_vector = CASE WHEN u.text = '' THEN c.search_vector
            ELSE coalesce(c.search_vector, ''::tsvector) || to_tsvector('simple', u.text) END
    FROM jsonb_to_recordset(%s::jsonb) AS u(
        id bigint, last_message_at timestamptz, snippet text, message_count int,
        last_inbound_at timestamptz, status text, resolved_at timestamptz, reopened_count int,
        updated_at timestamptz, text text)
    WHERE c.id = u.id
"""


def _write_continued(continued: list[tuple[Conversation, str]]) -> None:
    """The counters, status and search vector of every continued conversation: one UPDATE."""
    if not continued:
        return
    rows = [
        {
            "id": c.pk,
            "last_message_at": c.last_message_at.isoformat(),
            "snippet": c.snippet,
            "message_count": c.message_count,
            "last_inbound_at": c.last_inbound_at.isoformat() if c.last_inbound_at else None,
            "status": c.status,
            "resolved_at": c.resolved_at.isoformat() if c.resolved_at else None,
            "reopened_count": c.reopened_count,
            "updated_at": c.updated_at.isoformat(),
            "text": text[: search.INDEXED_CHARS],
        }
        for c, text in continued
    ]
    with connection.cursor() as cursor:
        cursor.execute(UPDATE_CONTINUED, [json.dumps(rows)])
