from django.db import models

from inbox.models import Severity


class SLAPolicy(models.Model):
    """Response and resolution targets for conversations of one severity, optionally narrowed to
    a team, a channel or a tag. The most specific matching policy wins: a tag counts most, then
    a channel, then a team (see routing.sla.policy_for); ties go to the oldest policy."""

    name = models.CharField(max_length=120)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "inbox.Channel", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tag = models.ForeignKey(
        "tagging.Tag", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    first_response_minutes = models.PositiveIntegerField()
    next_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    business_hours_only = models.BooleanField(default=False)
    business_hours = models.ForeignKey(
        "BusinessHours",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Calendar for business-hours targets; empty uses the team's.",
    )
    warning_percent = models.PositiveSmallIntegerField(
        default=80, help_text="Warn when this share of a target's time has passed."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ["-severity", "name"]

    def __str__(self) -> str:
        return self.name


class BusinessHours(models.Model):
    """A calendar: time zone, weekly opening hours and holidays, or always open."""

    DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    name = models.CharField(max_length=120)
    timezone = models.CharField(max_length=64, default="UTC")
    always_open = models.BooleanField(default=False)
    weekly = models.JSONField(
        default=dict, blank=True, help_text='{"mon": [["09:00", "17:00"]], ...} in local time'
    )
    holidays = models.JSONField(default=list, blank=True, help_text='["2026-12-25", ...]')

    class Meta:
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return self.name


class TeamPolicy(models.Model):
    """How a team works: its hours and how new conversations find an agent."""

    class Assignment(models.TextChoices):
        MANUAL = "manual", "Manual"
        ROUND_ROBIN = "round_robin", "Round robin"
        LEAST_LOAD = "least_load", "Least open load"

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="policy")
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty: always open.",
    )
    assignment = models.CharField(
        max_length=16, choices=Assignment.choices, default=Assignment.MANUAL
    )
    last_assigned = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Round robin: who got the previous conversation.",
    )
    escalate_severity = models.BooleanField(
        default=False, help_text="On breach, raise severity one step."
    )
    escalation_team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="On breach, hand the conversation to this team's queue.",
    )
    reminder_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="While breached and unanswered, remind every N minutes."
    )
    max_reminders = models.PositiveSmallIntegerField(default=3)

    class Meta:
        verbose_name_plural = "team policies"

    def __str__(self) -> str:
        return f"{self.team} ({self.assignment})"


class RoutingRule(models.Model):
    """Ordered: when a new conversation arrives or its tags change, the first rules whose
    conditions all hold apply their actions (until one says stop).

    conditions: {"channels": [slug], "tags_any": [slug], "severity_at_least": "high",
                 "keywords": [text], "sender_domains": [domain],
                 "contact_attribute": {"key": k, "value": v}, "outside_business_hours": bool,
                 "automated": true (only, and also, mail that opened an Automated conversation)}
    actions:    {"add_tags": [slug], "set_severity": name, "assign_team": slug,
                 "assign_agent": username, "set_status": status,
                 "send_canned": canned response id (once per conversation; routing.rules)}
    """

    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=dict)
    stop_processing = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SLAAlert(models.Model):
    """A warning, breach or reminder, raised once per (conversation, target, kind, due time)."""

    class Target(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        NEXT_RESPONSE = "next_response", "Next response"
        RESOLUTION = "resolution", "Resolution"

    class Kind(models.TextChoices):
        WARNING = "warning", "Warning"
        BREACH = "breach", "Breach"
        REMINDER = "reminder", "Reminder"

    conversation = models.ForeignKey(  # looked up through sla_alert_by_conversation
        "inbox.Conversation", on_delete=models.CASCADE, related_name="sla_alerts", db_index=False
    )
    target = models.CharField(max_length=16, choices=Target.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    due_at = models.DateTimeField(
        help_text="The due time (for reminders, when the reminder was due)."
    )
    raised_at = models.DateTimeField()
    late = models.BooleanField(
        default=False, help_text="Raised well after it was due (sweeps were down)."
    )

    class Meta:
        verbose_name = "SLA alert"
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "target", "kind", "due_at"], name="sla_alert_once"
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "raised_at"], name="sla_alert_by_conversation")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} on {self.conversation_id}"


class SLAMeasurement(models.Model):
    """One run of one SLA clock, for reports: when it started, when it was due, when it stopped,
    how long it took (in the policy's time: business or wall seconds) and whether it was met."""

    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="sla_measurements"
    )
    target = models.CharField(max_length=16, choices=SLAAlert.Target.choices)
    policy = models.ForeignKey(SLAPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True)
    stopped_at = models.DateTimeField(db_index=True)
    elapsed_seconds = models.FloatField()
    met = models.BooleanField()
    business_hours = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["target", "stopped_at"], name="sla_measure_target_time")]

    def __str__(self) -> str:
        return f"{self.target} on {self.conversation_id}: {'met' if self.met else 'missed'}"


class Notification(models.Model):
    """Something one agent should see in their bell: a mention, a conversation someone else gave
    them, an SLA alert or a customer's reply on a conversation of theirs (routing.notifications).
    Made from outbox events after commit; unique per (recipient, event), so a re-dispatched
    event makes no second one."""

    class Kind(models.TextChoices):
        MENTION = "mention", "Mentioned you"
        ASSIGNED = "assigned", "Assigned to you"
        SLA_WARNING = "sla_warning", "SLA due soon"
        SLA_BREACHED = "sla_breached", "SLA breached"
        REPLY = "reply", "Customer replied"
        SPIKE = "spike", "Incident spike"

    recipient = models.ForeignKey(
        "accounts.User",
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_recent leads with it
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Empty for a spike alert, which is about many conversations (its `alert` says which).
    conversation = models.ForeignKey(
        "inbox.Conversation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    alert = models.ForeignKey(
        "tagging.SpikeAlert",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=300, blank=True)
    event_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # Mentions and assignments are mailed when the person is away (routing.notification_mail).
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="notification_once_per_event",
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recent"),
            models.Index(
                fields=["recipient", "created_at"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} on {self.conversation_id}"


class Macro(models.Model):
    """A named list of actions an agent runs on a conversation, or a selection, in one click
    (routing.macros). `actions` is a list of {"kind": ..., "value": ...} checked against
    routing.macros.ACTIONS_SCHEMA. Scoped like canned responses: personal (created_by set as
    owner), one team's, or everyone's."""

    name = models.CharField(max_length=120)
    actions = models.JSONField(default=list)
    owner = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        help_text="Personal to this agent; empty to share.",
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        help_text="Shared with this team only; empty for everyone.",
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
