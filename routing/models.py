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
