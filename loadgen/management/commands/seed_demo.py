"""Demo data, idempotent: run it as often as you like."""

import datetime as dt
import io

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Team, User
from inbox.intake.receive import receive_message
from inbox.models import Channel
from inbox.normalized import AttachmentRef, NormalizedMessage, SenderRef
from reports.rollups import ensure_current
from routing.models import BusinessHours, TeamPolicy

PASSWORD = "demo"

TEAMS = [("support", "Support"), ("sales", "Sales"), ("engineering", "Engineering")]

# username, role, full name, {team: membership role}
USERS = [
    ("admin", User.Role.ADMIN, "Ada Admin", {}),
    ("lead", User.Role.LEAD, "Lee Lead", {"support": Membership.Role.LEAD}),
    ("alice", User.Role.AGENT, "Alice Agent", {"support": Membership.Role.MEMBER}),
    ("bob", User.Role.AGENT, "Bob Agent", {"support": Membership.Role.MEMBER}),
    ("carol", User.Role.AGENT, "Carol Agent", {"sales": Membership.Role.MEMBER}),
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
            help="How many demo conversations (default 36).",
        )

    @transaction.atomic
    def handle(self, *args, conversations: int, **options):
        teams = {}
        for slug, name in TEAMS:
            teams[slug], _ = Team.objects.get_or_create(slug=slug, defaults={"name": name})

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
            missing = {
                key: value
                for key, value in DEMO_CONFIG.get(kind, {}).items()
                if key not in channels[kind].config
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
                    thread_key=None,
                    sender=sender,
                    text=text,
                    html=None,
                    attachments=demo_photo(n) if "photo" in text else (),
                    sent_at=now - dt.timedelta(minutes=37 * (conversations - n)),
                    subject=subject,
                ),
            )
            created_count += received.created
        ensure_current()  # the Reports page shows the demo conversations from the first visit
        self.stdout.write(
            f"Demo data ready: {len(TEAMS)} teams, {len(USERS)} users (password '{PASSWORD}'), "
            f"{len(CHANNELS)} channels, {created_count} new conversations."
        )
