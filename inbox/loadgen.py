"""Realistic bulk data for load tests and benchmarks (`manage.py generate_load`).

A run (`--run NAME`) is a deterministic sequence of batches: batch b is built from a random
generator seeded with (seed, run, b), so the same batch always has the same rows. A batch is
written in one transaction, by whichever worker process took it (batches commit in any order);
its first and last conversations' reply tokens are derived from (run, their numbers), so the
batches already in the database are found with indexed lookups and a rerun writes only the
missing ones, never a row twice.

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
- the full-text vector as inbox.search.index_text builds it (PostgreSQL; PooledVectors).
"""

import contextlib
import datetime as dt
import gc
import hashlib
import hmac
import json
import random
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inbox.models import Channel, Contact, ContactIdentity, Conversation, Message, Status

DAY = 86400.0


class K:
    """Channel kinds as plain strings: an enum member's lookup costs about a microsecond, and
    the builder compares kinds and statuses a dozen times a conversation."""

    EMAIL = Channel.Kind.EMAIL.value
    CHAT = Channel.Kind.CHAT.value
    META = Channel.Kind.META.value
    TWILIO = Channel.Kind.TWILIO.value
    API = Channel.Kind.API.value
    TELEGRAM = Channel.Kind.TELEGRAM.value
    X = Channel.Kind.X.value


class S:
    """Statuses as plain strings (see K)."""

    RESOLVED = Status.RESOLVED.value
    OPEN = Status.OPEN.value
    PENDING = Status.PENDING.value
    SNOOZED = Status.SNOOZED.value


CHANNEL_MIX = [  # kind, weight
    (K.EMAIL, 40),
    (K.CHAT, 20),
    (K.META, 14),
    (K.TWILIO, 8),
    (K.API, 8),
    (K.TELEGRAM, 6),
    (K.X, 4),
]
STATUS_MIX = [(S.RESOLVED, 70), (S.OPEN, 20), (S.PENDING, 7), (S.SNOOZED, 3)]
# Each conversation draws its tags independently: ~1/7 feature requests, and so on.
TAG_RATES = {
    "feature-request": 1 / 7,
    "technical-issue": 0.20,
    "sales-lead": 0.10,
    "incident": 0.03,
    "ugc": 0.03,
}
SEVERITY_MIX = [(1, 15), (2, 65), (3, 15), (4, 5)]
ASSIGNED_RATE = {S.RESOLVED: 0.95, S.OPEN: 0.6}  # the rest (pending, snoozed) always assigned
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


_token_keys: dict = {}  # SECRET_KEY -> its keyed HMAC


def reply_token(run: str, n: int) -> str:
    """Deterministic per (run, conversation number), unguessable without the SECRET_KEY. The
    HMAC is keyed once and copied: keying it cost half of each token's 1.4 µs."""
    keyed = _token_keys.get(settings.SECRET_KEY)
    if keyed is None:
        keyed = _token_keys[settings.SECRET_KEY] = hmac.new(
            settings.SECRET_KEY.encode(), digestmod=hashlib.sha256
        )
    mac = keyed.copy()
    mac.update(f"load:{run}:{n}".encode())
    return mac.hexdigest()[:32]


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
    conversations: list = field(default_factory=list)  # dicts, plus "_texts" (messages' texts)
    messages: list = field(default_factory=list)  # tuples, fields in MESSAGE_FIELDS order
    tags: list = field(default_factory=list)  # (conversation id, tag id, added_at)


class IdSource:
    """Primary keys handed out before the rows are written, so rows can point at each other."""

    def __init__(self):
        self.sequences: dict = {}  # table -> its id sequence (PostgreSQL)

    def take(self, model, count: int) -> list[int]:
        if count == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if table not in self.sequences:
                    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                    self.sequences[table] = cursor.fetchone()[0]
                # The sequence named once: looked up for every row it cost six times as much.
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                    [self.sequences[table], count],
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
            kind = home if rng.random() < 0.9 or K.EMAIL not in world.channels else K.EMAIL
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
            if contact["home"] in (K.TWILIO, K.META) or rng.random() < 0.3
            else ""
        )
        has_email = contact["home"] in (K.EMAIL, K.API) or rng.random() < 0.5
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
            K.META,
            K.TELEGRAM,
            K.X,
            K.CHAT,
            K.API,
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
        contact_id = contact["id"]
        channel = world.channels[kind]
        channel_id = channel.id
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
        assigned = ASSIGNED_RATE.get(status, 1.0)
        assignee_id = choose(members) if members and r() < assigned else None

        # Timeline: resolved conversations anywhere in the past year, the others recent.
        if status == S.RESOLVED:
            created = now - (0.2 + 364.8 * r()) * DAY
        else:
            created = now - min(rng.expovariate(3.0), 30) * DAY - 60
        count = counts[offset]
        # Who speaks last: we answer resolved and pending ones; open ones wait for us.
        last_out = status in (S.RESOLVED, S.PENDING, S.SNOOZED)
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
        subject = choose(SUBJECT_POOL[main_tag]) if kind in (K.EMAIL, K.API) else ""
        first_response_at = last_in = last_outbound = None
        texts = []
        msg_ids = [next(message_ids) for _ in range(count)]
        for i, (direction, mid) in enumerate(zip(directions, msg_ids, strict=True)):
            if i:
                t += gap * (0.5 + 0.5 * r())
            if direction == "in":
                text = choose(TEXT_POOL[main_tag]) if i == 0 else choose(FOLLOWUPS)
                last_in = t
                batch.messages.append(
                    (mid, conv_id, channel_id, "in", contact_id, None, text,
                     f"load-{run}-{n}-{i}", "", 0, t, None)
                )  # fmt: skip
            else:
                text = choose(REPLIES)
                last_outbound = t
                first_response_at = first_response_at or t
                batch.messages.append(
                    (mid, conv_id, channel_id, "out", None, assignee_id, text,
                     None, "delivered", 1, t, t)
                )  # fmt: skip
            texts.append(text)
        last_message = t
        if status == S.RESOLVED and last_message < created + 60:
            last_message = created + 60

        # SLA: the default policy of the severity, wall-clock time, as routing.sla leaves it.
        policy = world.policies.get(severity)
        due = {"first_response": None, "next_response": None, "resolution": None}
        clock = None
        breached = False
        next_check = None
        snoozed_until = resolved_at = None
        if status == S.RESOLVED:
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
            if status in (S.PENDING, S.SNOOZED):
                paused_since = last_message
                if status == S.SNOOZED:
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
                "channel_id": channel_id,
                "contact_id": contact_id,
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
                "_texts": texts,
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


# --- the search vector, in tsvector's text form -----------------------------------------------


class PooledVectors:
    """The search vector of a generated conversation, written by Python in tsvector's text form.

    inbox.search builds a conversation's vector as setweight(to_tsvector('simple', subject), 'A')
    followed by to_tsvector('simple', text) of each message, every part's positions shifted past
    the largest position so far (tsvector's `||`). Generated texts all come from the pools above,
    so PostgreSQL parses each pooled text once; a conversation's vector is then its parts'
    lexemes with shifted positions, and PostgreSQL only reads the text form back (it merges a
    lexeme listed twice), which costs a fraction of running the parser on every row.
    tests/scale/test_generate_load.py checks the result equals what inbox.search builds."""

    _loaded: "PooledVectors | None" = None

    def __init__(self, parsed: dict):
        self.parsed = parsed  # text -> ([(quoted lexeme, positions)], largest position)
        self.fragments: dict = {}

    @classmethod
    def of(cls, raw) -> "PooledVectors":
        """The pools' vectors, parsed once per process on the psycopg connection `raw`."""
        if cls._loaded is None:
            texts = sorted(
                {"", *FOLLOWUPS, *REPLIES}.union(*TEXT_POOL.values(), *SUBJECT_POOL.values())
            )
            parsed = {text: ([], 0) for text in texts}
            for text, lexeme, positions in raw.execute(
                "SELECT t, v.lexeme, v.positions FROM unnest(%s::text[]) AS t, "
                "unnest(to_tsvector('simple', t)) AS v",
                [texts],
            ):
                entries, top = parsed[text]
                quoted = lexeme.replace("\\", "\\\\").replace("'", "''")
                entries.append((f"'{quoted}':", positions))
                parsed[text] = (entries, max(top, *positions))
            cls._loaded = cls(parsed)
        return cls._loaded

    def fragment(self, text: str, offset: int, weight: str) -> tuple[str, int]:
        """A text's lexemes with positions shifted by offset, and the largest position."""
        key = (text, offset, weight)
        found = self.fragments.get(key)
        if found is None:
            entries, top = self.parsed[text]
            found = self.fragments[key] = (
                " ".join(
                    label + ",".join(f"{p + offset}{weight}" for p in positions)
                    for label, positions in entries
                ),
                offset + top,
            )
        return found

    def vector(self, subject: str, texts: list[str]) -> str:
        parts = []
        part, offset = self.fragment(subject, 0, "A")
        if part:
            parts.append(part)
        for text in texts:
            part, offset = self.fragment(text, offset, "")
            if part:
                parts.append(part)
        return " ".join(parts)


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


# Biggest builds first, so that the two connections finish together.
BUILD_ORDER = ["inbox_message", "inbox_conversation", "inbox_contactidentity", "inbox_contact"]


def _build_cost(definition: str) -> tuple[bool, int]:
    table = _table_of(definition)
    rank = BUILD_ORDER.index(table) if table in BUILD_ORDER else len(BUILD_ORDER)
    return "USING gin" not in definition, rank


def restore_indexes(progress=None, *, workers: int = 2, analyze_after: bool = False) -> int:
    """Build every index a bulk load dropped (one sorted build each, far cheaper than keeping
    them up to date row by row), then forget the stash. `workers` connections build side by
    side (CREATE INDEX lets other index builds on the table run), the GIN index first: it is
    the longest and PostgreSQL builds it on one core. With `analyze_after`, each loaded table is
    analyzed as soon as its last index is built, while the other connection is still building
    (ANALYZE waits for the builds on its own table, not for the others')."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [STASH])
        if not cursor.fetchone()[0]:
            if analyze_after:
                analyze()
            return 0
        cursor.execute(f"SELECT name, definition FROM {STASH}")  # noqa: S608
        rows = sorted(cursor.fetchall(), key=lambda row: _build_cost(row[1]))

    def build(row) -> None:
        name, definition = row
        if progress:
            progress(name)
        with transaction.atomic(), connection.cursor() as cursor:
            # Nothing is lost if a crash takes the last commits: the stash keeps the index.
            cursor.execute("SET LOCAL synchronous_commit TO off")
            cursor.execute("SET LOCAL maintenance_work_mem TO '512MB'")
            cursor.execute(definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            cursor.execute(f"DELETE FROM {STASH} WHERE name = %s", [name])  # noqa: S608

    def apart(task, *args) -> None:
        try:
            task(*args)
        finally:
            connection.close()  # this thread's connection, back to the pool

    if workers < 2 or not parallel_ok():  # inside a transaction only this connection sees it
        for row in rows:
            build(row)
        if analyze_after:
            analyze()
    else:
        left = {table: 0 for table in BULK_TABLES} if analyze_after else {}
        for row in rows:
            table = _table_of(row[1])
            if table in left:
                left[table] += 1
        with ThreadPoolExecutor(max_workers=workers) as builders:
            builds = {builders.submit(apart, build, row): _table_of(row[1]) for row in rows}
            # Tables that lost no index wait for no build: queued behind the builds.
            analyses = [builders.submit(apart, _analyze, t) for t, n in left.items() if not n]
            for future in as_completed(builds):
                future.result()
                table = builds[future]
                if table in left:
                    left[table] -= 1
                    if not left[table]:
                        analyses.append(builders.submit(apart, _analyze, table))
            for future in analyses:
                future.result()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STASH}")
    return len(rows)


def _table_of(definition: str) -> str | None:
    table = re.search(r" ON (?:public\.)?(\w+) ", definition)
    return table[1] if table else None


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


def pending(run: str, total: int, batch_size: int) -> list[tuple[int, int, int]]:
    """The batches of the run still to write, as (number, first conversation, size).

    Batch b holds conversations b*size .. (b+1)*size-1 (fewer when the total ends it) and every
    write of it is one transaction continuing after what it already holds, so what is there of
    a batch is a prefix; batches themselves are written in any order (several workers). A batch
    whose last conversation is there is complete and one whose first is missing is empty: two
    indexed lookups per batch. Only a batch that an earlier, smaller total cut short is counted."""
    ranges = [
        (b, b * batch_size, min((b + 1) * batch_size, total))
        for b in range((total + batch_size - 1) // batch_size)
    ]
    probes = [reply_token(run, n) for _, first, end in ranges for n in (first, end - 1)]
    present: set = set()
    for start in range(0, len(probes), 1000):
        present |= set(
            Conversation.objects.filter(reply_token__in=probes[start : start + 1000]).values_list(
                "reply_token", flat=True
            )
        )
    specs = []
    for (number, first, end), head, last in zip(ranges, probes[::2], probes[1::2], strict=True):
        if last in present:
            continue
        if head in present:
            tokens = [reply_token(run, n) for n in range(first, end)]
            first += Conversation.objects.filter(reply_token__in=tokens).count()
        specs.append((number, first, end - first))
    return specs


def write_batch(batch: Batch, *, bulk: bool = False) -> None:
    """One batch, one transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            write_postgres(batch, bulk=bulk)
        else:
            write_orm(batch)


@contextlib.contextmanager
def _without_cycle_collector():
    """A batch makes some 200,000 dicts, tuples and lists that live until it is written, and
    each allocation run of the cycle collector walks them all again: 12-15% of the Python time
    of a batch. Its rows hold no cycles (reference counting frees them), so the collector waits
    until the batch is written."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Job:
    """What every batch of a load shares; called with a batch's (number, first, size)."""

    world: World
    run: str
    seed: int
    messages_per: int
    bulk: bool = False
    ids: IdSource = field(default_factory=IdSource)

    def __call__(self, spec: tuple[int, int, int]) -> int:
        number, first, size = spec
        # SQLite's ids come from the table: build inside the write's transaction there. On
        # PostgreSQL the ids come from the sequences and write_batch() holds the transaction,
        # so no connection sits idle in one while Python builds.
        outer = (
            contextlib.nullcontext() if connection.vendor == "postgresql" else transaction.atomic()
        )
        with outer, _without_cycle_collector():
            batch = build_batch(
                self.world, run=self.run, seed=self.seed, number=number, first=first, size=size,
                messages_per=self.messages_per, now=timezone.now().timestamp(), ids=self.ids,
            )  # fmt: skip
            write_batch(batch, bulk=self.bulk)
        return size


def generate(job: Job, specs: list, *, workers: int = 1, progress=None) -> int:
    """Write the batches `specs`; returns how many conversations.

    On PostgreSQL, outside a transaction, `workers` processes each build a batch and COPY it on a
    connection of their own (ids come from the sequences, so they never collide): Python's
    building, the slow half, runs on every core while PostgreSQL writes. Batches then commit in
    any order, which `pending` allows for. Elsewhere (SQLite, inside a test's transaction) one
    process builds and writes batch after batch."""
    written = 0
    if workers < 2 or len(specs) < 2 or not parallel_ok():
        for spec in specs:
            written += job(spec)
            if progress:
                progress(spec[2])
        return written
    import multiprocessing

    # Forked children must not share the parent's sockets or its pool's threads: close the
    # pool first; each process opens its own.
    connection.close()
    connection.close_pool()
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    pool = context.Pool(min(workers, len(specs)), initializer=_start_worker, initargs=(job, stop))
    try:
        for size in pool.imap_unordered(_work, specs):
            written += size
            if progress:
                progress(size)
    except BaseException:
        stop.set()  # the workers skip what is still queued and finish the batch in hand
        raise
    finally:
        # Never Pool.terminate(): it kills workers that may hold the result queue's lock
        # while the pool's own task thread still has to write to it, and then hangs.
        pool.close()
        pool.join()
    return written


def parallel_ok() -> bool:
    """Worker processes see only committed rows: PostgreSQL, and no transaction open here."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


_job: Job | None = None
_stop = None


def _start_worker(job: Job, stop) -> None:
    global _job, _stop  # one job per worker process
    # Ctrl-C reaches the whole process group: the parent sets `stop`, the workers finish the
    # batch in hand and skip the rest, and the parent rebuilds the indexes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _job, _stop = job, stop


def _work(spec: tuple[int, int, int]) -> int:
    if _stop.is_set():
        return 0
    try:
        return _job(spec)
    except BaseException:
        _stop.set()
        raise


def analyze() -> None:
    for table in BULK_TABLES:
        _analyze(table)


def _analyze(table: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
