"""Realistic bulk data for load tests and benchmarks (`manage.py generate_load`).

A run (`--run NAME`) is a deterministic sequence of batches: batch b is built from a random
generator seeded with (seed, run, b), so the same batch always has the same rows. A batch is
written in one transaction; its last conversation's reply token is derived from (run, its
number), so the batches already in the database are found with one indexed lookup and a rerun
continues after them, never writing a row twice.

What a batch holds, in proportions a support team would recognise:
- contacts with identities (email, phone, the provider's id), each writing 1 to 5 times, on its
  usual channel and now and then by email; conversations on every channel kind;
- about 70% resolved, the rest open, pending or snoozed; open ones mostly waiting for us;
- tags (feature-request about 1 in 7, technical-issue 1 in 5, sales-lead 1 in 10, incident and
  ugc rarer), severities mostly normal, incidents high or critical;
- a team from the channel (or the team a tag belongs to) and an agent of that team;
- messages alternating customer and agent; SLA clocks, due times and breaches derived from the
  default SLA policy of the severity, as the services would have left them (pending and snoozed
  conversations have their clocks paused, resolved ones none);
- the full-text vector as inbox.search.index_text builds it (PostgreSQL).
"""

import datetime as dt
import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inbox.models import Channel, Contact, ContactIdentity, Conversation, Message, Status

DAY = 86400.0

CHANNEL_MIX = [  # kind, weight
    (Channel.Kind.EMAIL, 40),
    (Channel.Kind.CHAT, 20),
    (Channel.Kind.META, 14),
    (Channel.Kind.TWILIO, 8),
    (Channel.Kind.API, 8),
    (Channel.Kind.TELEGRAM, 6),
    (Channel.Kind.X, 4),
]
STATUS_MIX = [(Status.RESOLVED, 70), (Status.OPEN, 20), (Status.PENDING, 7), (Status.SNOOZED, 3)]
# Each conversation draws its tags independently: ~1/7 feature requests, and so on.
TAG_RATES = {
    "feature-request": 1 / 7,
    "technical-issue": 0.20,
    "sales-lead": 0.10,
    "incident": 0.03,
    "ugc": 0.03,
}
SEVERITY_MIX = [(1, 15), (2, 65), (3, 15), (4, 5)]
# The team a tag's conversations usually end up with, when that team exists.
TAG_TEAMS = {"sales-lead": "sales", "technical-issue": "engineering", "incident": "engineering"}

FIRST = [
    "maria",
    "tom",
    "priya",
    "jon",
    "emma",
    "lucas",
    "aiko",
    "ivan",
    "sam",
    "lena",
    "omar",
    "sofia",
    "noah",
    "mia",
    "leo",
    "ana",
    "ken",
    "ruth",
]
LAST = [
    "lopez",
    "becker",
    "shah",
    "park",
    "silva",
    "tanaka",
    "petrov",
    "rivera",
    "novak",
    "haddad",
    "rossi",
    "kim",
    "meyer",
    "dubois",
]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example", "corp.example"]
FEATURES = [
    "pdf export",
    "dark mode",
    "calendar sync",
    "bulk edit",
    "sso login",
    "csv import",
    "api webhooks",
]
ERRORS = ["error 500", "a timeout", "error 403", "a blank page", "a crash", "error 502"]
ACTIONS = ["upload a csv", "open the invoice", "log in on android", "save my profile", "export"]
SERVICES = ["the login page", "checkout", "the dashboard", "the mobile app", "email sync"]

TEXTS = {
    "feature-request": [
        "It would be great if {f} was available. Please add it, our team needs it.",
        "Feature request: could you support {f}? We would pay for it.",
        "Any plans for {f}? It is the one thing we miss.",
    ],
    "technical-issue": [
        "I get {e} when I {a}. Tried twice, same result.",
        "Bug: {e} every time I {a} since the last update.",
    ],
    "sales-lead": [
        "Could you send a quote for {n} seats and book a demo next week?",
        "We are evaluating tools for {n} agents, what does the enterprise plan cost?",
    ],
    "incident": [
        "{s} is down for our whole team, nobody can work. Outage?",
        "Urgent: {s} has been failing for an hour for all of us.",
    ],
    "ugc": ["Posted a photo of your product on my feed and tagged you!"],
    None: [
        "Where is my invoice for {m}? I cannot find it in the account.",
        "How do I reset my password? The link expired.",
        "My order confirmation never arrived, order {n}.",
        "Can I change the billing address on my invoice?",
        "Is my appointment tomorrow still on?",
        "Thanks, that worked. One more question about the invoice.",
    ],
}
REPLIES = [
    "Thanks for reaching out! We are looking into it and will get back to you shortly.",
    "Thanks, I have passed this on to the team. Could you tell us which browser you use?",
    "Good news: this is fixed now. Let us know if anything else comes up.",
    "I have sent the invoice to your email address again.",
    "Thanks for the suggestion, I have added your vote to the feature request.",
]
FOLLOWUPS = [
    "Thanks for the quick answer, it still happens though.",
    "Chrome on Windows 11. Same on my colleague's laptop.",
    "Perfect, thank you!",
    "Any news on this?",
]
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
]


def _pick(rng: random.Random, mix):
    roll = rng.random() * sum(w for _, w in mix)
    for value, weight in mix:
        roll -= weight
        if roll < 0:
            return value
    return mix[-1][0]


def reply_token(run: str, n: int) -> str:
    """Deterministic per (run, conversation number), unguessable without the SECRET_KEY."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"load:{run}:{n}".encode(), hashlib.sha256
    ).hexdigest()[:32]


@dataclass
class World:
    """What exists already: channels, teams with their agents, tags, the default SLA policies."""

    channels: dict  # kind -> Channel
    teams: dict  # slug -> team id
    agents: dict  # team id -> [user id]
    tags: dict  # slug -> tag id
    policies: dict  # severity -> (policy id, first, next, resolution minutes)
    run_number: int = 0

    @classmethod
    def load(cls, run: str) -> "World":
        from accounts.models import Membership, Team, User
        from routing.models import SLAPolicy
        from tagging.models import Tag

        channels = {}
        for channel in Channel.objects.filter(is_active=True).order_by("pk"):
            channels.setdefault(channel.kind, channel)
        agents: dict = {}
        for team_id, user_id in (
            Membership.objects.filter(
                user__is_active=True, user__role__in=[User.Role.AGENT, User.Role.LEAD]
            )
            .values_list("team_id", "user_id")
            .order_by("team_id", "user_id")
        ):
            agents.setdefault(team_id, []).append(user_id)
        policies = {}
        for p in SLAPolicy.objects.filter(
            is_active=True, team=None, channel=None, tag=None, business_hours_only=False
        ).order_by("created_at", "pk"):
            policies.setdefault(
                p.severity,
                (p.pk, p.first_response_minutes, p.next_response_minutes, p.resolution_minutes),
            )
        return cls(
            channels=channels,
            teams=dict(Team.objects.values_list("slug", "pk")),
            agents=agents,
            tags=dict(Tag.objects.values_list("slug", "pk")),
            policies=policies,
            run_number=int(hashlib.sha256(run.encode()).hexdigest(), 16) % 1000,
        )


@dataclass
class Batch:
    contacts: list = field(default_factory=list)  # dicts of Contact fields (with id)
    identities: list = field(default_factory=list)
    conversations: list = field(default_factory=list)  # dicts, plus "_body" (text to index)
    messages: list = field(default_factory=list)
    tags: list = field(default_factory=list)  # (conversation id, tag id, added_at)


class IdSource:
    """Primary keys handed out before the rows are written, so rows can point at each other.
    `raw` is a psycopg connection of its own (the builder thread's)."""

    def __init__(self, raw=None):
        self.raw = raw

    def take(self, model, count: int) -> list[int]:
        if count == 0:
            return []
        table = model._meta.db_table
        if self.raw is not None:
            return [
                row[0]
                for row in self.raw.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
            ]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the caller holds the write transaction; ids continue after the largest.
            cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')  # noqa: S608
            start = cursor.fetchone()[0] + 1
            return list(range(start, start + count))


def _iso(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def _text(rng: random.Random, tag: str | None) -> str:
    template = rng.choice(TEXTS[tag])
    return template.format(
        f=rng.choice(FEATURES),
        e=rng.choice(ERRORS),
        a=rng.choice(ACTIONS),
        s=rng.choice(SERVICES).capitalize() if template.startswith("{s}") else rng.choice(SERVICES),
        n=rng.randint(5, 5000),
        m=rng.choice(MONTHS).capitalize(),
    )


def _pools() -> tuple[dict, dict]:
    """Texts and subjects made once (a fixed seed): picking from a list is cheap per row."""
    rng = random.Random(0)  # noqa: S311 (test data, not secrets)
    texts = {tag: [_text(rng, tag) for _ in range(60)] for tag in TEXTS}
    subjects = {
        tag: [
            template.format(
                f=rng.choice(FEATURES),
                e=rng.choice(ERRORS),
                n=rng.randint(5, 500),
                s=rng.choice(SERVICES),
            )
            for _ in range(20)
        ]
        for tag, template in SUBJECTS.items()
    }
    return texts, subjects


SUBJECTS = {
    "feature-request": "Feature request: {f}",
    "technical-issue": "Problem: {e}",
    "sales-lead": "Pricing for {n} seats",
    "incident": "Outage: {s}",
    "ugc": "We featured you",
    None: "Question about my account",
}
TEXT_POOL, SUBJECT_POOL = _pools()


def build_batch(
    world: World,
    *,
    run: str,
    seed: int,
    number: int,
    first: int,
    size: int,
    messages_per: int,
    now: float,
    ids: IdSource,
) -> Batch:
    """Conversations number `first` .. `first + size - 1` of the run, and what they need."""
    rng = random.Random(f"{seed}:{run}:{number}:{first}")  # noqa: S311
    r = rng.random

    def choose(seq):
        return seq[int(r() * len(seq))]

    batch = Batch()
    kinds = [k for k, _ in CHANNEL_MIX if k in world.channels] or list(world.channels)
    mix = [(k, w) for k, w in CHANNEL_MIX if k in world.channels] or [(k, 1) for k in kinds]
    tag_slugs = [t for t in TAG_RATES if t in world.tags]

    # Contacts first: each writes 1-5 times (most once or twice), so ~size/2 contacts.
    plan = []  # (contact index, channel kind)
    while len(plan) < size:
        home = _pick(rng, mix)
        for _ in range(min(1 + int(rng.expovariate(1.1)), 5)):
            kind = (
                home
                if rng.random() < 0.9 or Channel.Kind.EMAIL not in world.channels
                else Channel.Kind.EMAIL
            )
            plan.append((len(batch.contacts), kind))
        batch.contacts.append({"home": home})
    plan = plan[:size]
    counts = [max(1, messages_per + rng.randint(-2, 2)) if messages_per > 0 else 0 for _ in plan]
    message_ids = iter(ids.take(Message, sum(counts)))
    contact_ids = ids.take(Contact, len(batch.contacts))
    ordinal0 = first  # contact handles only need to be unique: derive them from the batch
    runtag = f"r{world.run_number:03d}"
    for i, (contact, cid) in enumerate(zip(batch.contacts, contact_ids, strict=True)):
        ordinal = ordinal0 + i
        first_name, last_name = choose(FIRST), choose(LAST)
        email = f"{first_name}.{last_name}.{runtag}.{ordinal}@{choose(DOMAINS)}"
        phone = (
            f"+1{world.run_number:03d}{ordinal:010d}"
            if contact["home"] in (Channel.Kind.TWILIO, Channel.Kind.META) or rng.random() < 0.3
            else ""
        )
        has_email = contact["home"] in (Channel.Kind.EMAIL, Channel.Kind.API) or rng.random() < 0.5
        contact.update(
            id=cid,
            name=f"{first_name.capitalize()} {last_name.capitalize()}",
            email=email if has_email else "",
            phone=phone,
            created_at=now - rng.uniform(30, 400) * DAY,
        )
        handles = {}
        if has_email:
            handles["email"] = (email, True)
        if phone:
            handles["phone"] = (phone, True)
        home = contact["home"]
        if home in (
            Channel.Kind.META,
            Channel.Kind.TELEGRAM,
            Channel.Kind.X,
            Channel.Kind.CHAT,
            Channel.Kind.API,
        ):
            handles[home] = (f"{home}-{runtag}-{ordinal}", False)
        for kind, (external, verified) in handles.items():
            batch.identities.append(
                {
                    "contact_id": cid,
                    "kind": kind,
                    "external_id": external,
                    "verified": verified,
                    "created_at": contact["created_at"],
                }
            )

    conversation_ids = ids.take(Conversation, size)
    for offset, ((contact_index, kind), conv_id) in enumerate(
        zip(plan, conversation_ids, strict=True)
    ):
        n = first + offset
        contact = batch.contacts[contact_index]
        channel = world.channels[kind]
        tags = [t for t in tag_slugs if rng.random() < TAG_RATES[t]]
        main_tag = tags[0] if tags else None
        status = _pick(rng, STATUS_MIX)
        severity = rng.choice((3, 4)) if "incident" in tags else _pick(rng, SEVERITY_MIX)
        team_id = channel.default_team_id
        if main_tag in TAG_TEAMS and TAG_TEAMS[main_tag] in world.teams and rng.random() < 0.6:
            team_id = world.teams[TAG_TEAMS[main_tag]]
        if team_id is None and world.teams and rng.random() < 0.7:
            team_id = rng.choice(list(world.teams.values()))
        members = world.agents.get(team_id, [])
        assigned = {Status.RESOLVED: 0.95, Status.OPEN: 0.6}.get(status, 1.0)
        assignee_id = choose(members) if members and r() < assigned else None

        # Timeline: resolved conversations anywhere in the past year, the others recent.
        if status == Status.RESOLVED:
            created = now - rng.uniform(0.2, 365) * DAY
        else:
            created = now - min(rng.expovariate(3.0), 30) * DAY - 60
        count = counts[offset]
        # Who speaks last: we answer resolved and pending ones; open ones wait for us.
        last_out = status in (Status.RESOLVED, Status.PENDING, Status.SNOOZED)
        directions = ["in"]
        for i in range(1, count):
            directions.append("out" if i % 2 else "in")
        if count > 1 and (directions[-1] == "out") != last_out:
            directions[-1] = "out" if last_out else "in"
        if count == 1:
            last_out = False
        span = max(now - created - 30, 60)
        gap = min(span / max(count, 1), rng.uniform(0.05, 0.5) * DAY)
        t = created
        subject = (
            choose(SUBJECT_POOL[main_tag]) if kind in (Channel.Kind.EMAIL, Channel.Kind.API) else ""
        )
        first_response_at = last_in = last_outbound = None
        texts = []
        msg_ids = [next(message_ids) for _ in range(count)]
        for i, (direction, mid) in enumerate(zip(directions, msg_ids, strict=True)):
            if i:
                t += gap * rng.uniform(0.5, 1.0)
            if direction == "in":
                text = choose(TEXT_POOL[main_tag]) if i == 0 else choose(FOLLOWUPS)
                last_in = t
            else:
                text = choose(REPLIES)
                last_outbound = t
                first_response_at = first_response_at or t
            texts.append(text)
            batch.messages.append(
                {
                    "id": mid,
                    "conversation_id": conv_id,
                    "channel_id": channel.pk,
                    "direction": direction,
                    "sender_contact_id": contact["id"] if direction == "in" else None,
                    "sender_user_id": assignee_id if direction == "out" else None,
                    "text": text,
                    "external_id": f"load-{run}-{n}-{i}" if direction == "in" else None,
                    "delivery_status": "delivered" if direction == "out" else "",
                    "send_attempts": 1 if direction == "out" else 0,
                    "created_at": t,
                    "sent_at": t if direction == "out" else None,
                }
            )
        last_message = t
        if status == Status.RESOLVED and last_message < created + 60:
            last_message = created + 60

        # SLA: the default policy of the severity, wall-clock time, as routing.sla leaves it.
        policy = world.policies.get(severity)
        due = {"first_response": None, "next_response": None, "resolution": None}
        clock = None
        breached = False
        next_check = None
        snoozed_until = resolved_at = None
        if status == Status.RESOLVED:
            resolved_at = last_message + rng.uniform(60, 3600)
        elif policy is not None:
            pid, first_min, next_min, res_min = policy
            targets = {"resolution": {"start": created, "paused": 0.0}}
            if first_response_at is None:
                targets["first_response"] = {"start": created, "paused": 0.0}
            elif directions[-1] == "in":
                targets["next_response"] = {"start": last_in, "paused": 0.0}
            minutes = {
                "first_response": first_min,
                "next_response": next_min,
                "resolution": res_min,
            }
            paused_since = None
            if status in (Status.PENDING, Status.SNOOZED):
                paused_since = last_message
                if status == Status.SNOOZED:
                    snoozed_until = now + rng.uniform(1, 72) * 3600
            upcoming = []
            for target, state in targets.items():
                at = state["start"] + minutes[target] * 60
                if paused_since is None:
                    due[target] = at
                if at <= (paused_since or now):
                    breached = True
                    state["breached_due"] = _iso(at).isoformat()
                    state["breached_team"] = team_id
                elif paused_since is None:
                    warn = state["start"] + minutes[target] * 60 * 0.8
                    upcoming.append(warn if warn > now else at)
            next_check = min(upcoming) if upcoming else None
            clock = {
                "policy": pid,
                "targets": {
                    name: {**s, "start": _iso(s["start"]).isoformat()}
                    for name, s in targets.items()
                },
                "paused_since": _iso(paused_since).isoformat() if paused_since else None,
            }
        snippet = texts[-1][:200] if texts else ""
        batch.conversations.append(
            {
                "id": conv_id,
                "channel_id": channel.pk,
                "contact_id": contact["id"],
                "subject": subject,
                "status": status,
                "severity": severity,
                "team_id": team_id,
                "assignee_id": assignee_id,
                "created_at": created,
                "updated_at": max(last_message, resolved_at or 0),
                "last_message_at": last_message,
                "last_inbound_at": last_in,
                "last_outbound_at": last_outbound,
                "snippet": snippet,
                "message_count": count,
                "first_response_at": first_response_at,
                "first_response_due": due["first_response"],
                "next_response_due": due["next_response"],
                "resolution_due": due["resolution"],
                "resolved_at": resolved_at,
                "snoozed_until": snoozed_until,
                "sla_breached": breached,
                "sla_next_check_at": next_check,
                "sla_clock": clock,
                "arrived_outside_hours": rng.random() < 0.25,
                "reopened_count": 1 if rng.random() < 0.05 else 0,
                "reply_token": reply_token(run, n),
                "thread_key": None,
                "_body": " ".join(texts),
            }
        )
        for slug in tags:
            batch.tags.append((conv_id, world.tags[slug], created + 5))
    return batch


# --- writing ------------------------------------------------------------------------------------

CONTACT_COLUMNS = ["id", "name", "email", "phone", "attributes", "merged_into_id", "created_at"]
IDENTITY_COLUMNS = ["contact_id", "kind", "external_id", "verified", "created_at"]
CONVERSATION_COLUMNS = [
    "id", "channel_id", "contact_id", "subject", "status", "severity", "team_id", "assignee_id",
    "created_at", "updated_at", "last_message_at", "last_inbound_at", "last_outbound_at",
    "snippet", "message_count", "first_response_at", "first_response_due", "next_response_due",
    "resolution_due", "resolved_at", "snoozed_until", "sla_breached", "sla_next_check_at",
    "sla_clock", "arrived_outside_hours", "reopened_count", "reply_token", "thread_key",
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


_MINUTES: dict[int, str] = {}


def _ts(value) -> str:
    """A timestamp (epoch seconds) in COPY's text format; the minute prefix is cached."""
    if value is None:
        return "\\N"
    minute = int(value // 60)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        if len(_MINUTES) > 200_000:
            _MINUTES.clear()
        prefix = _MINUTES[minute] = time.strftime("%Y-%m-%d %H:%M:", time.gmtime(minute * 60))
    return f"{prefix}{value - minute * 60:09.6f}+00"


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


def conversation_line(c: dict) -> str:
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
        f"{c['reply_token']}\t\\N\t{_esc(c['_body'])}"
    )


def message_line(m: dict) -> str:
    return (
        f"{m['id']}\t{m['conversation_id']}\t{m['channel_id']}\t{m['direction']}\tmessage\t"
        f"{_n(m['sender_contact_id'])}\t{_n(m['sender_user_id'])}\t{_esc(m['text'])}\t\t\t"
        f"{_n(m['external_id'])}\t{{}}\t\t{m['delivery_status']}\t\t{m['send_attempts']}\t"
        f"{_ts(m['created_at'])}\t{_ts(m['sent_at'])}"
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
        # The vector is built by PostgreSQL as inbox.search.index_text does: the subject with
        # weight A, then the messages. Staged in a temporary table, inserted with it computed.
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS load_conversation "
            "(LIKE inbox_conversation INCLUDING DEFAULTS, body text) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE load_conversation")  # batches inside one outer transaction
        _copy(
            raw,
            "load_conversation",
            [*CONVERSATION_COLUMNS, "body"],
            map(conversation_line, batch.conversations),
        )
        columns = ", ".join(CONVERSATION_COLUMNS)
        cursor.execute(
            f"INSERT INTO inbox_conversation ({columns}, search_vector) "  # noqa: S608
            f"SELECT {columns}, setweight(to_tsvector('simple', subject), 'A') "
            "|| to_tsvector('simple', body) FROM load_conversation"
        )
        _copy(raw, "inbox_message", MESSAGE_COLUMNS, map(message_line, batch.messages))
        _copy(
            raw,
            "tagging_conversationtag",
            ["conversation_id", "tag_id", "added_at"],
            (f"{c}\t{t}\t{_ts(a)}" for c, t, a in batch.tags),
        )


# --- secondary indexes during a bulk load ------------------------------------------------------

BULK_TABLES = [
    "inbox_contact",
    "inbox_contactidentity",
    "inbox_conversation",
    "inbox_message",
    "tagging_conversationtag",
]
STASH = "generate_load_deferred_index"


def is_superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def defer_indexes() -> int:
    """Drop the non-unique secondary indexes of the loaded tables, keeping their definitions in a
    table in the same transaction, so that an interrupted load (even a killed one) restores them
    on the next run. Primary keys and unique indexes stay: they keep the data correct."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {STASH} (name text PRIMARY KEY, definition text)"
        )
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary "
            "AND t.relnamespace = 'public'::regnamespace",
            [BULK_TABLES],
        )
        found = cursor.fetchall()
        for name, definition in found:
            cursor.execute(
                f"INSERT INTO {STASH} VALUES (%s, %s) ON CONFLICT DO NOTHING",  # noqa: S608
                [name, definition],
            )
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    return len(found)


def deferred_count() -> int:
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [STASH])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(f"SELECT count(*) FROM {STASH}")  # noqa: S608
        return cursor.fetchone()[0]


def restore_indexes(progress=None) -> int:
    """Build every index a bulk load dropped (one sorted build each, far cheaper than keeping
    them up to date row by row), then forget the stash."""
    restored = 0
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [STASH])
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(f"SELECT name, definition FROM {STASH} ORDER BY name")  # noqa: S608
        rows = cursor.fetchall()
    for name, definition in rows:
        if progress:
            progress(name)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem TO '256MB'")
            cursor.execute(definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            cursor.execute(f"DELETE FROM {STASH} WHERE name = %s", [name])  # noqa: S608
        restored += 1
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STASH}")
    return restored


def write_orm(batch: Batch) -> None:
    """Embedded mode (SQLite): the same rows through bulk_create."""
    from tagging.models import ConversationTag

    def times(d):
        return {k: (_iso(v) if k in TIME_FIELDS and v is not None else v) for k, v in d.items()}

    contacts = []
    for c in batch.contacts:
        contact = Contact(**{k: v for k, v in times(c).items() if k != "home"})
        contacts.append(contact)
    Contact.objects.bulk_create(contacts, batch_size=500)  # created_at: auto_now_add wins here
    ContactIdentity.objects.bulk_create(
        [ContactIdentity(**times(i)) for i in batch.identities], batch_size=500
    )
    Conversation.objects.bulk_create(
        [
            Conversation(**{k: v for k, v in times(c).items() if k != "_body"})
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
                    **times(m),
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


def resume_point(run: str, total: int, batch_size: int) -> int:
    """How many of the run's conversations are in the database. Batch b holds conversations
    b*size .. (b+1)*size-1 (fewer when the total ended it early) and is written in one
    transaction, so the run is a prefix: find the first incomplete batch, then how far it got."""
    full = total // batch_size
    heads = [reply_token(run, (b + 1) * batch_size - 1) for b in range(full)]
    present: set = set()
    for start in range(0, len(heads), 1000):
        present |= set(
            Conversation.objects.filter(reply_token__in=heads[start : start + 1000]).values_list(
                "reply_token", flat=True
            )
        )
    done = 0
    while done < full and heads[done] in present:
        done += 1
    start = done * batch_size
    tokens = [reply_token(run, n) for n in range(start, min(start + batch_size, total))]
    return start + Conversation.objects.filter(reply_token__in=tokens).count()


def write_batch(batch: Batch, *, bulk: bool = False) -> None:
    """One batch, one transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            write_postgres(batch, bulk=bulk)
        else:
            write_orm(batch)


def generate(
    world: World, *, run, seed, start, total, batch_size, messages_per, bulk=False, progress=None
) -> int:
    """Write conversations start .. total-1 of the run, batch by batch; returns how many.

    On PostgreSQL the next batch is built on a second thread (its own connection hands out the
    ids) while this one writes the current batch: the database works while Python builds.
    SQLite takes ids from the table, so there it builds and writes in one transaction."""
    specs = []
    while start < total:
        number = start // batch_size
        size = min((number + 1) * batch_size, total) - start
        specs.append((number, start, size))
        start += size

    def build(spec, ids=None):
        number, first, size = spec
        return build_batch(
            world, run=run, seed=seed, number=number, first=first, size=size,
            messages_per=messages_per, now=timezone.now().timestamp(), ids=ids or IdSource(),
        )  # fmt: skip

    written = 0
    if connection.vendor != "postgresql":
        for spec in specs:
            with transaction.atomic():
                write_batch(build(spec), bulk=bulk)
            written += spec[2]
            if progress:
                progress(spec[2])
        return written
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    # The builder thread takes ids on a plain psycopg connection of its own.
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with (
        psycopg.connect(**params, autocommit=True) as raw,
        ThreadPoolExecutor(max_workers=1) as builder,
    ):
        ids = IdSource(raw)
        upcoming = builder.submit(build, specs[0], ids) if specs else None
        try:
            for index, spec in enumerate(specs):
                batch = upcoming.result()
                upcoming = (
                    builder.submit(build, specs[index + 1], ids) if index + 1 < len(specs) else None
                )
                write_batch(batch, bulk=bulk)
                written += spec[2]
                if progress:
                    progress(spec[2])
        finally:
            if upcoming is not None:
                upcoming.cancel()
    return written


def analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in (
                "inbox_contact",
                "inbox_contactidentity",
                "inbox_conversation",
                "inbox_message",
                "tagging_conversationtag",
            ):
                cursor.execute(f"ANALYZE {table}")
