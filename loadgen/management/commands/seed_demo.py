"""Demo data, idempotent: run it as often as you like.

Three layers: the people, teams, channels and policies; a few dozen live conversations that
arrive through the real intake (each one answerable: chat ones have a widget session, the API
channel calls back the demo partner receiver at /demo/partner-callback/); and, unless
`--history-days 0`, 90 days of resolved history written by the load generator (its `demo` run)
with answers, tags, resolutions and satisfaction scores, so every report has a shape from the
first visit.
"""

import datetime as dt
import hashlib
import io
import random
import secrets

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Team, User
from inbox.intake.receive import receive_message
from inbox.models import Activity, Channel, Conversation, Status
from inbox.normalized import AttachmentRef, NormalizedMessage, SenderRef
from loadgen.world import reply_token
from reports.models import SatisfactionSurvey
from reports.rollups import ensure_current
from routing.models import BusinessHours, SLAMeasurement, SLAPolicy, TeamPolicy
from tagging.models import ConversationTag

PASSWORD = "demo"

TEAMS = [("support", "Support"), ("sales", "Sales"), ("engineering", "Engineering")]
# The survey after each team's resolutions (blank: the channel's, CSAT): every kind has data.
TEAM_SURVEYS = {"support": "", "sales": "nps", "engineering": "ces"}

# username, role, full name, {team: membership role}
USERS = [
    ("admin", User.Role.ADMIN, "Ada Admin", {}),
    ("lead", User.Role.LEAD, "Lee Lead", {"support": Membership.Role.LEAD}),
    ("alice", User.Role.AGENT, "Alice Agent", {"support": Membership.Role.MEMBER}),
    ("bob", User.Role.AGENT, "Bob Agent", {"support": Membership.Role.MEMBER}),
    ("carol", User.Role.AGENT, "Carol Agent", {"sales": Membership.Role.MEMBER}),
    ("erin", User.Role.AGENT, "Erin Engineer", {"engineering": Membership.Role.MEMBER}),
    ("pat", User.Role.VIEWER, "Pat Product", {}),
]

POLICIES = {
    "support": TeamPolicy.Assignment.LEAST_LOAD,
    "sales": TeamPolicy.Assignment.ROUND_ROBIN,
    "engineering": TeamPolicy.Assignment.MANUAL,
}

# One channel of each kind; the slug is the kind. Secrets are for local demos only.
CHANNELS = [
    (Channel.Kind.EMAIL, "Support email", "support@switchboard.local", "support"),
    (Channel.Kind.CHAT, "Website chat", "", "support"),
    (Channel.Kind.META, "Messenger, Instagram and WhatsApp", "", "support"),
    (Channel.Kind.TELEGRAM, "Telegram bot", "", "support"),
    (Channel.Kind.TWILIO, "SMS", "+15005550006", "support"),
    (Channel.Kind.X, "X direct messages", "", "support"),
    (Channel.Kind.API, "Partner API", "", "sales"),
]

# What the social and SMS senders and webhook checks need; filled in where missing, never
# overwritten (an admin may have put real credentials there).
DEMO_CONFIG = {
    # Satisfaction survey on resolve (reports app): by email and in the chat widget.
    Channel.Kind.EMAIL: {"csat": {"enabled": True}},
    # Offline visitors' replies leave from the support mailbox (slug = kind) and come back there.
    Channel.Kind.CHAT: {"csat": {"enabled": True}, "email_channel": "email"},
    Channel.Kind.META: {
        "verify_token": "demo-meta-verify-token",
        "access_token": "demo-meta-access-token",
        "page_id": "demo-page-id",
        "phone_number_id": "demo-phone-number-id",
    },
    Channel.Kind.TELEGRAM: {"bot_token": "000000:demo-telegram-bot-token"},
    Channel.Kind.TWILIO: {"account_sid": "ACdemo0000000000000000000000000000"},
    Channel.Kind.X: {"account_id": "demo-x-account-id", "access_token": "demo-x-access-token"},
}

# (channel kind, sender name, handle, subject, text)
CONVERSATIONS = [
    (
        "email",
        "Maria Lopez",
        "maria@example.com",
        "Pricing for 50 seats",
        "Hi, could you send a quote for 50 seats and maybe book a demo next week?",
    ),
    (
        "email",
        "Tom Becker",
        "tom@example.org",
        "Export to PDF would be great",
        "It would be great if reports could be exported to PDF. Please add it!",
    ),
    (
        "email",
        "Priya Shah",
        "priya@example.net",
        "Login page is down",
        "Your login page is down for our whole team, nobody can sign in. Outage?",
    ),
    (
        "email",
        "Jon Park",
        "jon@example.com",
        "Error 500 when uploading",
        "I get an error 500 and the app crashes when I upload a CSV over 2 MB.",
    ),
    ("chat", "Visitor 4821", "session-4821", "", "Hello, do you offer a discount for nonprofits?"),
    ("chat", "Emma", "session-4822", "", "The dark mode setting is not saved after logout, bug?"),
    ("meta", "Lucas Silva", "+5511987654321", "", "Oi! My order confirmation never arrived."),
    (
        "meta",
        "Aiko Tanaka",
        "17841400000001",
        "",
        "Posted a photo of your product on my feed, tagged you!",
    ),
    ("telegram", "Ivan Petrov", "100200300", "", "How do I reset my password?"),
    ("twilio", "", "+14155550123", "", "Is my appointment tomorrow still on?"),
    (
        "x",
        "Sam Rivera",
        "998877665544",
        "",
        "Your app keeps crashing on Android 15 since the update",
    ),
    (
        "api",
        "Acme CRM",
        "acme-42",
        "Lead from partner portal",
        "New lead: Globex wants pricing for the enterprise plan.",
    ),
]


HISTORY_RUN = "demo"
# Satisfaction answers on resolved history: about half answer, mostly happy.
SURVEY_ANSWER_RATE = 0.45
SURVEY_SCORES = {  # kind: [(score, weight)]
    "csat": [(5, 52), (4, 26), (3, 10), (2, 5), (1, 7)],
    "nps": [(10, 24), (9, 22), (8, 18), (7, 12), (6, 8), (5, 6), (3, 5), (1, 3), (0, 2)],
    "ces": [(7, 30), (6, 28), (5, 18), (4, 10), (3, 7), (2, 4), (1, 3)],
}
SURVEY_COMMENTS = {  # by how happy the answer is: good, middling, bad
    "good": ["Quick and friendly, thank you!", "Solved in one reply.", ""],
    "middling": ["Fine in the end.", "Good help, took a little while.", ""],
    "bad": ["Had to explain it twice.", "Nobody answered for two days.", "Still not fixed."],
}
GOOD_FROM = {"csat": 4, "nps": 9, "ces": 6}
BAD_UNTIL = {"csat": 2, "nps": 6, "ces": 3}


def partner_callback_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/demo/partner-callback/"


def demo_photo(n: int) -> tuple[AttachmentRef, ...]:
    """A customer's photo for the UGC library's demo (a sunset over a hill, its colours by n)."""
    from PIL import Image, ImageDraw

    sky = [(246, 173, 85), (144, 205, 244), (154, 230, 180)][n % 3]
    image = Image.new("RGB", (1200, 900), sky)
    draw = ImageDraw.Draw(image)
    draw.ellipse([-200, 560, 1400, 1300], fill=(56, 90, 60))
    draw.ellipse([760, 160, 960, 360], fill=(255, 245, 200))
    draw.rectangle([420, 420, 620, 640], fill=(43, 108, 176))  # the product, in the foreground
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return (
        AttachmentRef(name=f"photo-{n}.jpg", content_type="image/jpeg", content=out.getvalue()),
    )


class Command(BaseCommand):
    help = "Create demo teams, users (password 'demo'), channels and conversations. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--conversations",
            type=int,
            default=36,
            help="How many live demo conversations (default 36).",
        )
        parser.add_argument(
            "--history-days",
            type=int,
            default=90,
            help="Days of resolved history for the reports (default 90; 0 for none).",
        )
        parser.add_argument(
            "--history-per-day",
            type=int,
            default=14,
            help="Conversations per day of history, on average (default 14).",
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where this server answers, for the demo API channel's callback "
            "(default http://127.0.0.1:8000; `make run` passes its own).",
        )

    def handle(
        self,
        *args,
        conversations: int,
        history_days: int = 90,
        history_per_day: int = 14,
        base_url: str = "http://127.0.0.1:8000",
        **options,
    ):
        if history_days < 0 or history_per_day < 0 or conversations < 0:
            raise CommandError("Counts and days must not be negative.")
        created_count = self._live(conversations, base_url)
        history = 0
        if history_days and history_per_day:
            history = self._history(history_days, history_days * history_per_day)
        ensure_current()  # the Reports page shows the demo conversations from the first visit
        self.stdout.write(
            f"Demo data ready: {len(TEAMS)} teams, {len(USERS)} users (password '{PASSWORD}'), "
            f"{len(CHANNELS)} channels, {created_count} new conversations, "
            f"{history} in {history_days} days of history."
        )

    @transaction.atomic
    def _live(self, conversations: int, base_url: str) -> int:
        teams = {}
        for slug, name in TEAMS:
            teams[slug], _ = Team.objects.get_or_create(
                slug=slug, defaults={"name": name, "survey_kind": TEAM_SURVEYS[slug]}
            )

        for username, role, full_name, memberships in USERS:
            first, _, last = full_name.partition(" ")
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "role": role,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@switchboard.local",
                    "availability": User.Availability.ONLINE,
                    "is_staff": role == User.Role.ADMIN,
                    "is_superuser": role == User.Role.ADMIN,
                },
            )
            if created:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            for team_slug, member_role in memberships.items():
                Membership.objects.get_or_create(
                    user=user, team=teams[team_slug], defaults={"role": member_role}
                )

        office, _ = BusinessHours.objects.get_or_create(
            name="Office hours (Berlin)",
            defaults={
                "timezone": "Europe/Berlin",
                "weekly": {day: [["09:00", "17:00"]] for day in BusinessHours.DAYS[:5]},
                "holidays": ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"],
            },
        )
        for slug, assignment in POLICIES.items():
            TeamPolicy.objects.get_or_create(
                team=teams[slug], defaults={"assignment": assignment, "business_hours": office}
            )

        channels = {}
        for kind, name, address, team in CHANNELS:
            channels[kind], _ = Channel.objects.get_or_create(
                slug=kind,
                defaults={
                    "kind": kind,
                    "name": name,
                    "address": address,
                    "secret": f"demo-{kind}-secret",
                    "default_team": teams[team],
                },
            )
            wanted = dict(DEMO_CONFIG.get(kind, {}))
            if kind == Channel.Kind.API:
                wanted["callback_url"] = partner_callback_url(base_url)
            missing = {
                key: value for key, value in wanted.items() if key not in channels[kind].config
            }
            if missing:
                channels[kind].config = {**channels[kind].config, **missing}
                channels[kind].save(update_fields=["config"])

        now = timezone.now()
        created_count = 0
        for n in range(conversations):
            kind, name, handle, subject, text = CONVERSATIONS[n % len(CONVERSATIONS)]
            round_ = n // len(CONVERSATIONS)
            if round_:
                handle = f"{round_}.{handle}" if kind == "email" else f"{handle}{round_}"
            email = handle if kind == "email" else ""
            phone = handle if handle.startswith("+") else ""
            sender = SenderRef(
                kind="email" if kind == "email" else kind,
                id=handle,
                name=name,
                email=email,
                phone=phone,
                verified=bool(email or phone),
            )
            received = receive_message(
                channel=channels[kind],
                message=NormalizedMessage(
                    channel_kind=kind,
                    external_id=f"demo-{n}",
                    # A chat conversation lives in its widget session: replies reach it there.
                    thread_key=handle if kind == "chat" else None,
                    sender=sender,
                    text=text,
                    html=None,
                    attachments=demo_photo(n) if "photo" in text else (),
                    sent_at=now - dt.timedelta(minutes=37 * (conversations - n)),
                    subject=subject,
                ),
            )
            created_count += received.created
        return created_count

    def _history(self, days: int, total: int) -> int:
        """Resolved conversations over `days`, through the load generator's `demo` run (rerun
        safe: it writes only what is missing), then satisfaction answers on about half."""
        call_command(
            "generate_load",
            conversations=total,
            run=HISTORY_RUN,
            history_days=float(days),
            resolved_only=True,
            workers=1,
            no_progress=True,
            keep_indexes=True,
            stdout=self.stdout,
        )
        tokens = [reply_token(HISTORY_RUN, n) for n in range(total)]
        self._trail(tokens)
        # The generator tags some history `ugc`, but its conversations carry words only: the UGC
        # library's demo is the live customers' photos, never empty cards.
        for start in range(0, len(tokens), 500):
            ConversationTag.objects.filter(
                conversation__reply_token__in=tokens[start : start + 500], tag__slug="ugc"
            ).delete()
        self._surveys(tokens)
        return total

    @staticmethod
    def _resolved_history(tokens, **filters):
        rows = []
        for start in range(0, len(tokens), 500):
            rows += Conversation.objects.filter(
                reply_token__in=tokens[start : start + 500],
                status=Status.RESOLVED,
                resolved_at__isnull=False,
                **filters,
            ).values_list(
                "pk",
                "channel_id",
                "contact_id",
                "severity",
                "assignee_id",
                "assignee__username",
                "team__slug",
                "created_at",
                "first_response_at",
                "resolved_at",
            )
        return rows

    @transaction.atomic
    def _trail(self, tokens) -> None:
        """What the services would have recorded as the history happened: the assignment and
        the resolve in the audit trail (the reports count resolves there) and the first-response
        SLA measured against the default policy of the severity."""
        policies = {
            p.severity: p
            for p in SLAPolicy.objects.filter(
                is_active=True, team=None, channel=None, tag=None, business_hours_only=False
            ).order_by("-created_at", "-pk")
        }
        done = set(
            Activity.objects.filter(
                conversation__reply_token__in=tokens, verb="status"
            ).values_list("conversation_id", flat=True)
        )
        activities, measurements = [], []
        for (
            pk,
            _,
            _,
            severity,
            assignee_id,
            username,
            team,
            created,
            first,
            resolved,
        ) in self._resolved_history(tokens):
            if pk in done:
                continue
            assigned_at = created + dt.timedelta(minutes=2)
            if assignee_id:
                activities.append(
                    Activity(
                        conversation_id=pk,
                        verb="assigned",
                        from_value={"team": None, "assignee": None},
                        to_value={"team": team, "assignee": username},
                        reason="routing rule",
                        created_at=assigned_at,
                    )
                )
            activities.append(
                Activity(
                    conversation_id=pk,
                    actor_id=assignee_id,
                    verb="status",
                    from_value=Status.OPEN,
                    to_value=Status.RESOLVED,
                    created_at=resolved,
                )
            )
            policy = policies.get(severity)
            if policy is not None and first is not None:
                due = created + dt.timedelta(minutes=policy.first_response_minutes)
                measurements.append(
                    SLAMeasurement(
                        conversation_id=pk,
                        target="first_response",
                        policy=policy,
                        started_at=created,
                        due_at=due,
                        stopped_at=first,
                        elapsed_seconds=(first - created).total_seconds(),
                        met=first <= due,
                    )
                )
        Activity.objects.bulk_create(activities, batch_size=500)
        SLAMeasurement.objects.bulk_create(measurements, batch_size=500)

    @transaction.atomic
    def _surveys(self, tokens) -> None:
        resolved = self._resolved_history(tokens, satisfaction_survey__isnull=True)
        rows = []
        for pk, channel_id, contact_id, _, _, _, team, *_, resolved_at in resolved:
            kind = TEAM_SURVEYS.get(team or "", "") or "csat"
            rng = random.Random(f"survey:{pk}")  # noqa: S311 - demo data, deterministic
            if rng.random() >= SURVEY_ANSWER_RATE:
                continue
            scale = SURVEY_SCORES[kind]
            score = rng.choices([s for s, _ in scale], weights=[w for _, w in scale])[0]
            mood = (
                "good"
                if score >= GOOD_FROM[kind]
                else "bad"
                if score <= BAD_UNTIL[kind]
                else "middling"
            )
            answered = resolved_at + dt.timedelta(minutes=rng.randint(5, 600))
            rows.append(
                SatisfactionSurvey(
                    conversation_id=pk,
                    channel_id=channel_id,
                    contact_id=contact_id,
                    token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
                    sent_at=resolved_at,
                    score=score,
                    kind=kind,
                    comment=rng.choice(SURVEY_COMMENTS[mood]),
                    answered_at=answered,
                )
            )
        SatisfactionSurvey.objects.bulk_create(rows, batch_size=500)
