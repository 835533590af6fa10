"""A run's world and vocabulary: what exists already (World), the proportions and the words a
generated conversation is made of, and the reply token that names conversation n of a run."""

import hashlib
import hmac
import random
from dataclasses import dataclass

from django.conf import settings

from inbox.models import Channel, Status

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
