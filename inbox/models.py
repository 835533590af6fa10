import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def new_public_key() -> str:
    return secrets.token_urlsafe(18)


def new_reply_token() -> str:
    # 16 random bytes: unguessable, and short enough for a plus address (help+TOKEN@...).
    return secrets.token_hex(8) + secrets.token_hex(8)


def attachment_key(instance: "Attachment", filename: str) -> str:
    # The stored path never derives from the sender's file name.
    return f"attachments/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}"


class Channel(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        CHAT = "chat", _("Live chat")
        META = "meta", "Meta (Messenger, Instagram, WhatsApp)"
        TELEGRAM = "telegram", "Telegram"
        TWILIO = "twilio", "Twilio SMS"
        X = "x", _("X direct messages")
        API = "api", "API"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    secret = models.CharField(
        max_length=255, blank=True, help_text="Signing secret. Never returned by the API."
    )
    address = models.CharField(
        max_length=255,
        blank=True,
        help_text="Inbound address: mailbox, phone number, page or bot id.",
    )
    public_key = models.CharField(max_length=64, unique=True, default=new_public_key)
    default_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    config = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "address"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def clean(self) -> None:
        """An API channel's callback_url is called by the server: http(s) to a public host only
        (the SSRF guard in core.safe_http; checked again before every delivery)."""
        from django.core.exceptions import ValidationError

        from core import safe_http

        url = (self.config or {}).get("callback_url") if isinstance(self.config, dict) else None
        if url:
            try:
                safe_http.check(str(url))
            except safe_http.UnsafeURL as exc:
                raise ValidationError({"config": f"callback_url: {exc}"}) from exc


class Contact(models.Model):
    name = models.CharField(max_length=255, blank=True)
    # Looked up by equality only: migration 0010 drops the varchar_pattern_ops twins that
    # db_index adds on PostgreSQL for prefix searches (as it does for reply_token's).
    email = models.EmailField(max_length=320, blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True, db_index=True, help_text="E.164")
    attributes = models.JSONField(default=dict, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Spam and blocking (issue 21): a contact an agent marked as spam has its next messages filed
    # as spam until an agent marks one of its conversations as not spam; a blocked contact's
    # messages are stored in a conversation no view lists (status "blocked"), with no hooks run.
    # db_default too: bulk writers that COPY named columns (loadgen) leave it to the database.
    spam = models.BooleanField(default=False, db_default=False)
    blocked_at = models.DateTimeField(null=True, blank=True)
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"Contact {self.pk}"


class ContactIdentity(models.Model):
    """One handle of a contact on one provider: an address, a phone number, a user id."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, help_text="email, phone, meta, telegram, x, chat, api")
    external_id = models.CharField(max_length=255)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "contact identities"
        constraints = [
            models.UniqueConstraint(fields=["kind", "external_id"], name="identity_unique_handle")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.external_id}"


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SNOOZED = "snoozed", _("Snoozed")
    RESOLVED = "resolved", _("Resolved")
    # Out of every view but "Spam"; the contact's next messages follow it there.
    SPAM = "spam", _("Spam")
    # Mailing lists, auto-replies and bounces that answer nothing of ours: the Automated view.
    AUTOMATED = "automated", _("Automated")
    # Messages from a blocked contact, stored but listed nowhere: never set by an agent.
    BLOCKED = "blocked", _("Blocked")


# What an agent may set or filter on: every status but "blocked" (blocking is the contact's).
AGENT_STATUSES = [(value, label) for value, label in Status.choices if value != Status.BLOCKED]
# Listed only when asked for by name ("spam", "automated") or never ("blocked").
HIDDEN_STATUSES = (Status.SPAM, Status.AUTOMATED, Status.BLOCKED)


class Severity(models.IntegerChoices):
    """Stored as a rank so that "most severe first" is an index scan; spoken as its name."""

    LOW = 1, "low"
    NORMAL = 2, "normal"
    HIGH = 3, "high"
    CRITICAL = 4, "critical"

    @classmethod
    def from_name(cls, name: str) -> "Severity":
        for member in cls:
            if member.label == name:
                return member
        raise ValueError(name)


# A severity's name is the API's word; people read it in their language.
SEVERITY_WORDS = {
    "low": _("low"),
    "normal": _("normal"),
    "high": _("high"),
    "critical": _("critical"),
}


OPEN_STATUSES = (Status.OPEN, Status.PENDING, Status.SNOOZED)


class ConversationQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ConversationQuerySet":
        """Scoping only; the rule itself lives in accounts.permissions."""
        from inbox.access import conversation_scope

        return self.filter(conversation_scope(user))


class Conversation(models.Model):
    # channel, contact, team and assignee get no single-column index of their own: each leads a
    # composite index below (conv_channel_recent, conv_contact_recent, conv_team_recent,
    # conv_assignee_recent) that answers the same lookups, and every index is written again on
    # each update that moves a row (the SLA sweep, status changes, new messages).
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="conversations", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="conversations", db_index=False
    )
    subject = models.CharField(max_length=998, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.NORMAL)
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        db_index=False,
    )
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField()
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    snippet = models.CharField(max_length=200, blank=True, help_text="Start of the latest message.")
    message_count = models.PositiveIntegerField(default=0)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_due = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    sla_breached = models.BooleanField(default=False)
    sla_next_check_at = models.DateTimeField(
        null=True, blank=True, help_text="When the SLA sweep must next look at this conversation."
    )
    sla_clock = models.JSONField(
        null=True,
        blank=True,
        help_text="SLA clocks: policy, and per target its start and paused time.",
    )
    arrived_outside_hours = models.BooleanField(default=False)
    reopened_count = models.PositiveIntegerField(default=0)
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="followups",
        help_text="The resolved conversation this one follows on from.",
    )
    reply_token = models.CharField(max_length=32, unique=True, default=new_reply_token)
    thread_key = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        help_text="The provider's or integration's thread id.",
    )
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["-last_message_at", "-id"], name="conv_recent"),
            models.Index(fields=["status", "-last_message_at", "-id"], name="conv_status_recent"),
            models.Index(fields=["team", "status", "-last_message_at"], name="conv_team_recent"),
            models.Index(
                fields=["assignee", "status", "-last_message_at"], name="conv_assignee_recent"
            ),
            models.Index(fields=["channel", "-last_message_at"], name="conv_channel_recent"),
            models.Index(fields=["contact", "-last_message_at"], name="conv_contact_recent"),
            models.Index(
                fields=["team", "-last_message_at"],
                condition=Q(assignee__isnull=True, status="open"),
                name="conv_unassigned_open",
            ),
            models.Index(
                fields=["first_response_due"],
                condition=Q(first_response_due__isnull=False, status="open"),
                name="conv_first_response_due",
            ),
            models.Index(
                fields=["next_response_due"],
                condition=Q(next_response_due__isnull=False, status="open"),
                name="conv_next_response_due",
            ),
            models.Index(
                fields=["sla_next_check_at"],
                condition=Q(sla_next_check_at__isnull=False),
                name="conv_sla_next_check",
            ),
            models.Index(
                fields=["-last_message_at"],
                condition=Q(sla_breached=True),
                name="conv_sla_breached",
            ),
            models.Index(
                fields=["team", "-last_message_at"],
                condition=Q(arrived_outside_hours=True, assignee__isnull=True, status="open"),
                name="conv_overnight",
            ),
            models.Index(fields=["-severity", "-last_message_at"], name="conv_severity_recent"),
            models.Index(
                fields=["channel", "thread_key"],
                condition=Q(thread_key__isnull=False),
                name="conv_thread_key",
            ),
        ]

    def __str__(self) -> str:
        return self.subject or f"Conversation {self.pk}"

    @property
    def severity_name(self) -> str:
        return Severity(self.severity).label

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.RESOLVED, *HIDDEN_STATUSES)


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", "Inbound"
        OUT = "out", "Outbound"

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        NOTE = "note", "Private note"

    class AutoKind(models.TextChoices):
        NONE = "", "None"
        AUTO_REPLY = "auto_reply", "Auto-reply"
        BOUNCE = "bounce", "Bounce"
        LIST = "list", "List or bulk mail"

    class DeliveryStatus(models.TextChoices):
        NONE = "", _("Not applicable")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        READ = "read", _("Read")
        FAILED = "failed", _("Failed")

    conversation = models.ForeignKey(
        # Looked up through msg_thread (conversation, created_at, id): a second index on the
        # column alone would only cost every message's insert.
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
    )
    # Denormalised from the conversation so that (channel, external_id) is one database constraint.
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MESSAGE)
    sender_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitised on the way in.")
    original_text = models.TextField(blank=True, help_text="The text before the sender edited it.")
    external_id = models.CharField(max_length=998, null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    auto_kind = models.CharField(max_length=16, choices=AutoKind.choices, default="", blank=True)
    delivery_status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default="", blank=True
    )
    delivery_error = models.TextField(blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    send_claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in"
    )
    inbound_event = models.ForeignKey(
        "InboundEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    created_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at", "id"], name="msg_thread"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivery_status="queued"),
                name="msg_delivery_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_external_id_per_channel",
            )
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.pk}"

    @property
    def sent_by_system(self) -> bool:
        """Sent by the product itself (the automatic acknowledgement, the satisfaction survey):
        outbound, and written by no agent."""
        return (
            self.direction == self.Direction.OUT
            and self.kind == self.Kind.MESSAGE
            and self.sender_user_id is None
        )

    @property
    def system_sender_name(self) -> str:
        """How a system message's sender is shown (API and thread): the product's name."""
        return settings.PRODUCT_NAME

    @property
    def text_for_agents(self) -> str:
        """The text as the thread shows it to agents. A system message may carry something meant
        for the customer alone (the satisfaction survey's personal link, with which anyone could
        answer in the customer's name): it says in headers["shown_to_agents"] what was sent."""
        if self.sent_by_system:
            return self.headers.get("shown_to_agents") or self.text
        return self.text


class Activity(models.Model):
    """The audit trail: who changed what on a conversation, from what to what, and why."""

    conversation = models.ForeignKey(
        # Looked up through activity_by_conversation (conversation, created_at).
        Conversation,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the system (a rule, a sweep) made the change.",
    )
    verb = models.CharField(max_length=32)
    from_value = models.JSONField(null=True, blank=True)
    to_value = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="activity_by_conversation")
        ]

    def __str__(self) -> str:
        return f"{self.verb} on {self.conversation_id}"


class Attachment(models.Model):
    class State(models.TextChoices):
        STORED = "stored", "Stored"
        # A provider's media reference (URL, media id, file id) whose bytes a task downloads
        # after the message is stored (inbox.intake.media).
        PENDING = "pending", "Downloading"
        UNAVAILABLE = "unavailable", "Unavailable"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_key, max_length=255, blank=True)
    name = models.CharField(max_length=255, help_text="Safe display name; never used as a path.")
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True, help_text="cid: of an inline image")
    is_inline = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.STORED, db_default=State.STORED
    )
    # What the provider gave: a URL, "whatsapp-media:<id>" or "telegram-file:<file_id>".
    source = models.CharField(max_length=2048, blank=True, default="", db_default="")
    unavailable_reason = models.CharField(max_length=500, blank=True, default="", db_default="")
    download_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    download_claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The re-queue sweep's look-up: only downloads still pending are in it.
            models.Index(
                fields=["next_attempt_at"],
                name="attachment_download_due",
                condition=Q(state="pending"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class InboundEvent(models.Model):
    """A raw inbound request, stored before the provider gets its 2xx."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Duplicate"
        FAILED = "failed", _("Failed")

    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_events"
    )
    provider = models.CharField(max_length=32)
    body = models.BinaryField()
    headers = models.JSONField(default=dict, blank=True)
    query = models.CharField(max_length=2048, blank=True)
    received_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The apply partition (inbox.intake.partitions), given by the drain that sorts it; None
    # until then.
    partition = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status"),
            models.Index(
                fields=["partition", "received_at"],
                condition=Q(status="received"),
                name="inbound_waiting_partition",
            ),
            models.Index(
                fields=["received_at"], condition=Q(status="received"), name="inbound_unprocessed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.pk} {self.status}"


class Event(models.Model):
    """The outbox: one row per domain change, written in the transaction that made it.

    Fan-out (agents' browsers, outbound webhooks) happens after commit; rows still undispatched
    a while later are picked up again by the re-queue sweep, so a committed change is never
    silently dropped. The id orders the feed and lets a reconnecting browser resync.
    """

    type = models.CharField(max_length=64)
    conversation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], condition=Q(dispatched_at__isnull=True), name="event_undispatched"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class SavedView(models.Model):
    """A named conversation filter, personal or shared with a team."""

    name = models.CharField(max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="saved_views",
        help_text="Shared with this team; empty for a personal view.",
    )
    filters = models.JSONField(
        default=dict, help_text="Query parameters, as the list API takes them."
    )
    position = models.PositiveIntegerField(default=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class CannedResponse(models.Model):
    """A saved reply agents pick in the composer. {{contact.name}} and {{agent.name}} are filled
    in when the list is shown. Shared with everyone (no owner, no team), with one team, or
    personal (owner)."""

    title = models.CharField(max_length=120)
    text = models.TextField(max_length=50000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text="Personal to this agent; empty to share.",
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text="Shared with this team only; empty for everyone.",
    )
    shortcut = models.SlugField(
        max_length=40,
        blank=True,
        default="",
        db_default="",
        db_index=False,  # read with the user's few canned responses, never looked up alone
        help_text="Typed after / in the composer to insert it, like thanks.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Draft(models.Model):
    """What an agent has typed in a conversation's reply or note box and not sent yet, saved as
    they type so it survives a reload, another device and an expired session. One per (agent,
    conversation, kind); deleted when the text is sent."""

    # No index of its own: the unique constraint below leads with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts", db_index=False
    )
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Message.Kind.choices)
    text = models.TextField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "conversation", "kind"], name="draft_one_per_agent_and_box"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.conversation_id}/{self.kind}"


class ConversationRead(models.Model):
    """When an agent last opened a conversation: a list row is unread for them while a customer
    message arrived after it (Conversation.last_inbound_at > read_at). One row per agent and
    conversation, written when the agent opens it (inbox.services.mark_read)."""

    # No index of its own: the unique constraint below leads with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"], name="conversation_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.conversation_id} at {self.read_at:%Y-%m-%d %H:%M}"


class ProfileLookup(models.Model):
    """A Messenger or Instagram contact's profile name to fetch from the Graph API once
    (inbox.intake.profiles): one row per contact, made after its first message. While the fetch
    fails it is retried with backoff (`next_attempt_at`); when it succeeds or is given up,
    `next_attempt_at` is None and the row stays, so the profile is never fetched twice."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, help_text="messenger or instagram")
    external_id = models.CharField(max_length=255, help_text="The PSID or Instagram-scoped id.")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id} of contact {self.contact_id}"
