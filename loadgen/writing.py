"""Writing a built batch in one transaction: COPY in PostgreSQL's text format, or bulk_create
in embedded mode (SQLite)."""

import json
import time

from django.db import connection, transaction

from inbox.models import Contact, ContactIdentity, Conversation, Message
from loadgen.batches import Batch, _iso
from loadgen.vectors import PooledVectors

CONTACT_COLUMNS = ["id", "name", "email", "phone", "attributes", "merged_into_id", "created_at"]
IDENTITY_COLUMNS = ["contact_id", "kind", "external_id", "verified", "created_at"]
CONVERSATION_COLUMNS = [
    "id", "channel_id", "contact_id", "subject", "status", "severity", "team_id", "assignee_id",
    "created_at", "updated_at", "last_message_at", "last_inbound_at", "last_outbound_at",
    "snippet", "message_count", "first_response_at", "first_response_due", "next_response_due",
    "resolution_due", "resolved_at", "snoozed_until", "sla_breached", "sla_next_check_at",
    "sla_clock", "arrived_outside_hours", "reopened_count", "reply_token", "thread_key",
]  # fmt: skip
# A built message: a tuple (a dict per row cost more than writing its COPY line).
MESSAGE_FIELDS = [
    "id", "conversation_id", "channel_id", "direction", "sender_contact_id", "sender_user_id",
    "text", "external_id", "delivery_status", "send_attempts", "created_at", "sent_at",
]  # fmt: skip
MESSAGE_COLUMNS = [
    "id", "conversation_id", "channel_id", "direction", "kind", "sender_contact_id",
    "sender_user_id", "text", "html", "original_text", "external_id", "headers", "auto_kind",
    "delivery_status", "delivery_error", "send_attempts", "created_at", "sent_at",
]  # fmt: skip
TIME_FIELDS = {
    "created_at", "updated_at", "last_message_at", "last_inbound_at", "last_outbound_at",
    "first_response_at", "first_response_due", "next_response_due", "resolution_due",
    "resolved_at", "snoozed_until", "sla_next_check_at", "sent_at",
}  # fmt: skip


_HOURS: dict[int, str] = {}
_SECONDS = [f"{m:02d}:{s:02d}." for m in range(60) for s in range(60)]


def _ts(value) -> str:
    """A timestamp (epoch seconds) in COPY's text format: the hour's text cached, the rest
    integer arithmetic (formatting floats costs twice as much, and this runs ~20 times a row;
    operators rather than divmod: a builtin's call costs more than the arithmetic)."""
    if value is None:
        return "\\N"
    micro = round(value * 1e6)
    hour = micro // 3_600_000_000
    prefix = _HOURS.get(hour)
    if prefix is None:
        prefix = _HOURS[hour] = time.strftime("%Y-%m-%d %H:", time.gmtime(hour * 3600))
    micro -= hour * 3_600_000_000
    return f"{prefix}{_SECONDS[micro // 1_000_000]}{micro % 1_000_000:06d}+00"


def _n(value) -> str:
    return "\\N" if value is None else str(value)


def _esc(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _copy(cursor, table: str, columns: list[str], lines) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= 5000:
                copy.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            copy.write("\n".join(buffer) + "\n")


def _bool(value) -> str:
    return "t" if value else "f"


def conversation_line(c: dict, vectors: "PooledVectors") -> str:
    clock = "\\N" if c["sla_clock"] is None else _esc(json.dumps(c["sla_clock"]))
    return (
        f"{c['id']}\t{c['channel_id']}\t{c['contact_id']}\t{_esc(c['subject'])}\t{c['status']}\t"
        f"{c['severity']}\t{_n(c['team_id'])}\t{_n(c['assignee_id'])}\t{_ts(c['created_at'])}\t"
        f"{_ts(c['updated_at'])}\t{_ts(c['last_message_at'])}\t{_ts(c['last_inbound_at'])}\t"
        f"{_ts(c['last_outbound_at'])}\t{_esc(c['snippet'])}\t{c['message_count']}\t"
        f"{_ts(c['first_response_at'])}\t{_ts(c['first_response_due'])}\t"
        f"{_ts(c['next_response_due'])}\t{_ts(c['resolution_due'])}\t{_ts(c['resolved_at'])}\t"
        f"{_ts(c['snoozed_until'])}\t{_bool(c['sla_breached'])}\t{_ts(c['sla_next_check_at'])}\t"
        f"{clock}\t{_bool(c['arrived_outside_hours'])}\t{c['reopened_count']}\t"
        f"{c['reply_token']}\t\\N\t{_esc(vectors.vector(c['subject'], c['_texts']))}"
    )


def message_line(m: tuple) -> str:
    mid, conv, channel, direction, contact, user, text, external, status, attempts, at, sent = m
    created = _ts(at)
    return (
        f"{mid}\t{conv}\t{channel}\t{direction}\tmessage\t{_n(contact)}\t{_n(user)}\t"
        f"{_esc(text)}\t\t\t{_n(external)}\t{{}}\t\t{status}\t\t{attempts}\t{created}\t"
        f"{created if sent == at else _ts(sent)}"
    )


MESSAGE_DEFAULTS = {
    "kind": "message",
    "html": "",
    "original_text": "",
    "headers": "{}",
    "auto_kind": "",
    "delivery_error": "",
}


def write_postgres(batch: Batch, *, bulk: bool = False) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO off")  # a lost batch is redone on resume
        if bulk:
            # Every row points at rows written in this transaction or read at the start: skip
            # the per-row foreign-key triggers, as pg_restore --disable-triggers does.
            cursor.execute("SET LOCAL session_replication_role TO replica")
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        _copy(
            raw,
            "inbox_contact",
            CONTACT_COLUMNS,
            (
                f"{c['id']}\t{_esc(c['name'])}\t{c['email']}\t{c['phone']}\t{{}}\t\\N\t"
                f"{_ts(c['created_at'])}"
                for c in batch.contacts
            ),
        )
        _copy(
            raw,
            "inbox_contactidentity",
            IDENTITY_COLUMNS,
            (
                f"{i['contact_id']}\t{i['kind']}\t{_esc(i['external_id'])}\t{_bool(i['verified'])}\t"
                f"{_ts(i['created_at'])}"
                for i in batch.identities
            ),
        )
        vectors = PooledVectors.of(raw)
        _copy(
            raw,
            "inbox_conversation",
            [*CONVERSATION_COLUMNS, "search_vector"],
            (conversation_line(c, vectors) for c in batch.conversations),
        )
        _copy(raw, "inbox_message", MESSAGE_COLUMNS, map(message_line, batch.messages))
        _copy(
            raw,
            "tagging_conversationtag",
            ["conversation_id", "tag_id", "added_at"],
            (f"{c}\t{t}\t{_ts(a)}" for c, t, a in batch.tags),
        )


def write_orm(batch: Batch) -> None:
    """Embedded mode (SQLite): the same rows through bulk_create."""
    from tagging.models import ConversationTag

    def times(d):
        return {k: (_iso(v) if k in TIME_FIELDS and v is not None else v) for k, v in d.items()}

    contacts = []
    for c in batch.contacts:
        contact = Contact(**{k: v for k, v in times(c).items() if k not in ("home", "by_email")})
        contacts.append(contact)
    Contact.objects.bulk_create(contacts, batch_size=500)  # created_at: auto_now_add wins here
    ContactIdentity.objects.bulk_create(
        [ContactIdentity(**times(i)) for i in batch.identities], batch_size=500
    )
    Conversation.objects.bulk_create(
        [
            Conversation(**{k: v for k, v in times(c).items() if k != "_texts"})
            for c in batch.conversations
        ],
        batch_size=500,
    )
    Message.objects.bulk_create(
        [
            Message(
                **{
                    **{k: v for k, v in MESSAGE_DEFAULTS.items() if k != "headers"},
                    "headers": {},
                    **times(dict(zip(MESSAGE_FIELDS, m, strict=True))),
                }
            )
            for m in batch.messages
        ],
        batch_size=500,
    )
    ConversationTag.objects.bulk_create(
        [ConversationTag(conversation_id=c, tag_id=t, added_at=_iso(a)) for c, t, a in batch.tags],
        batch_size=500,
    )


def write_batch(batch: Batch, *, bulk: bool = False) -> None:
    """One batch, one transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            write_postgres(batch, bulk=bulk)
        else:
            write_orm(batch)
