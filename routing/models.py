from django.db import models

from inbox.models import Severity


class SLAPolicy(models.Model):
    """Response and resolution targets for conversations of one severity."""

    name = models.CharField(max_length=120)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    first_response_minutes = models.PositiveIntegerField()
    next_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    business_hours_only = models.BooleanField(default=False)
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

    class Meta:
        verbose_name_plural = "team policies"

    def __str__(self) -> str:
        return f"{self.team} ({self.assignment})"


class RoutingRule(models.Model):
    """Ordered: when a new conversation arrives or its tags change, the first rules whose
    conditions all hold apply their actions (until one says stop).

    conditions: {"channels": [slug], "tags_any": [slug], "severity_at_least": "high",
                 "keywords": [text], "sender_domains": [domain],
                 "contact_attribute": {"key": k, "value": v}, "outside_business_hours": bool}
    actions:    {"add_tags": [slug], "set_severity": name, "assign_team": slug,
                 "assign_agent": username, "set_status": status}
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
