"""Building a batch: conversations number first .. first + size - 1 of a run, with their
contacts, identities, messages, tags and SLA state, as plain rows ready to write."""

import datetime as dt
import random
from dataclasses import dataclass, field

from django.db import connection

from inbox.models import Contact, Conversation, Message
from loadgen.world import (
    ASSIGNED_RATE,
    CHANNEL_MIX,
    DAY,
    DOMAINS,
    FIRST,
    FOLLOWUPS,
    LAST,
    REPLIES,
    SEVERITY_MIX,
    STATUS_MIX,
    SUBJECT_POOL,
    TAG_RATES,
    TAG_TEAMS,
    TEXT_POOL,
    K,
    S,
    World,
    _pick,
    reply_token,
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


def _office_shaped(r, now: float, history_days: float) -> float:
    """A time in the last `history_days` (at least 0.2 days ago), weighted as customers write:
    weekdays 08-18 UTC fully, weekday evenings about a third as often, nights and weekends less.
    Rejection sampling, at most four draws (so a few stray night messages stay, as in life)."""
    span = max(history_days - 0.2, 0.0)
    for _ in range(4):
        created = now - (0.2 + span * r()) * DAY
        hour = int(created // 3600) % 24
        weekday = (int(created // DAY) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
        weight = 1.0 if 8 <= hour < 18 else 0.35 if 6 <= hour < 22 else 0.12
        if weekday >= 5:
            weight *= 0.4
        if r() < weight:
            break
    return created


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
    history_days: float = 365.0,
    resolved_only: bool = False,
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
        by_email = False
        for _ in range(min(1 + int(rng.expovariate(1.1)), 5)):
            kind = home if rng.random() < 0.9 or K.EMAIL not in world.channels else K.EMAIL
            by_email = by_email or kind == K.EMAIL
            plan.append((len(batch.contacts), kind))
        batch.contacts.append({"home": home, "by_email": by_email})
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
        # Whoever writes by email has an address: an email conversation can always be answered.
        has_email = contact["home"] in (K.EMAIL, K.API) or rng.random() < 0.5
        has_email = has_email or contact["by_email"]
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
        if resolved_only:
            status = S.RESOLVED  # drawn anyway, so the rest of the batch's draws stay the same
        severity = rng.choice((3, 4)) if "incident" in tags else _pick(rng, SEVERITY_MIX)
        team_id = channel.default_team_id
        if main_tag in TAG_TEAMS and TAG_TEAMS[main_tag] in world.teams and rng.random() < 0.6:
            team_id = world.teams[TAG_TEAMS[main_tag]]
        if team_id is None and world.teams and rng.random() < 0.7:
            team_id = rng.choice(list(world.teams.values()))
        members = world.agents.get(team_id, [])
        assigned = ASSIGNED_RATE.get(status, 1.0)
        assignee_id = choose(members) if members and r() < assigned else None

        # Timeline: resolved conversations anywhere in the history window (a year unless told),
        # more on weekdays in office hours; the others recent.
        if status == S.RESOLVED:
            created = _office_shaped(r, now, history_days)
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
