"""What reports read: one fact row per conversation and daily rollups of counts, both derived
from the inbox, routing and survey tables (reports.rollups keeps them current; they can always be
rebuilt), and the satisfaction surveys themselves, which are primary data.

Rollup dimensions are the conversation's current team, channel, severity and assignee, so the
permission scope (accounts.permissions.conversation_scope, which filters on `team` and
`assignee`) applies to these tables unchanged.
"""

from django.conf import settings
from django.db import models

from accounts.models import SurveyKind


def _dim(to: str, *, db_index: bool = True) -> models.ForeignKey:
    # Dimensions, not relations to keep consistent: a deleted team must not block a rollup write.
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=db_index,
    )


class ConversationFact(models.Model):
    """One conversation as reports see it: when it arrived, was first answered and resolved, how
    long each took (business seconds when its SLA policy counts business hours), how many agent
    replies it took, and its satisfaction score."""

    conversation = models.OneToOneField(
        "inbox.Conversation", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    team = _dim("accounts.Team")
    channel = _dim("inbox.Channel")
    assignee = _dim(settings.AUTH_USER_MODEL)
    severity = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    created_day = models.DateField()
    first_response_day = models.DateField(null=True)
    first_response_seconds = models.FloatField(null=True)
    resolved_day = models.DateField(null=True, help_text="Set while the conversation is resolved.")
    resolution_seconds = models.FloatField(null=True)
    handle_seconds = models.FloatField(
        null=True, help_text="From the last assignment (or arrival) to resolution, wall clock."
    )
    business_hours = models.BooleanField(default=False)
    agent_replies = models.PositiveIntegerField(default=0)
    reopened_count = models.PositiveIntegerField(default=0)
    first_contact_resolution = models.BooleanField(default=False)
    csat_score = models.PositiveSmallIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_day"], name="fact_created_day"),
            models.Index(fields=["first_response_day"], name="fact_first_response_day"),
            models.Index(fields=["resolved_day"], name="fact_resolved_day"),
            # The response-times report counts these in its range.
            models.Index(
                fields=["resolved_day"],
                condition=models.Q(business_hours=True),
                name="fact_business_resolved_day",
            ),
        ]

    def __str__(self) -> str:
        return f"facts of conversation {self.conversation_id}"


class DailyRollup(models.Model):
    """Counts for one day (in REPORTS_TIME_ZONE) and one combination of dimensions. Rows with no
    tag count every conversation; rows with a tag count the conversations carrying it, so a tag
    filter reads its own rows (a conversation with two tags is in both)."""

    day = models.DateField()
    tag = _dim("tagging.Tag", db_index=False)  # led by the (tag, ...) index below
    team = _dim("accounts.Team")
    channel = _dim("inbox.Channel")
    severity = models.PositiveSmallIntegerField()
    assignee = _dim(settings.AUTH_USER_MODEL)
    created = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0, help_text="Resolve actions that day.")
    reopened = models.PositiveIntegerField(default=0)
    resolved_conversations = models.PositiveIntegerField(
        default=0, help_text="Conversations whose (current) resolution fell on this day."
    )
    first_contact_resolutions = models.PositiveIntegerField(default=0)
    assigned = models.PositiveIntegerField(default=0, help_text="Assignments to this assignee.")
    sla_first_response_met = models.PositiveIntegerField(default=0)
    sla_first_response_missed = models.PositiveIntegerField(default=0)
    sla_next_response_met = models.PositiveIntegerField(default=0)
    sla_next_response_missed = models.PositiveIntegerField(default=0)
    sla_resolution_met = models.PositiveIntegerField(default=0)
    sla_resolution_missed = models.PositiveIntegerField(default=0)
    csat_sent = models.PositiveIntegerField(default=0)
    csat_sent_answered = models.PositiveIntegerField(
        default=0, help_text="Of the surveys sent this day, those answered (so far)."
    )
    csat_answered = models.PositiveIntegerField(default=0, help_text="Answers given this day.")
    csat_score_sum = models.PositiveIntegerField(default=0)
    csat_score_1 = models.PositiveIntegerField(default=0)
    csat_score_2 = models.PositiveIntegerField(default=0)
    csat_score_3 = models.PositiveIntegerField(default=0)
    csat_score_4 = models.PositiveIntegerField(default=0)
    csat_score_5 = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["day"], condition=models.Q(tag__isnull=True), name="rollup_day"),
            models.Index(fields=["tag", "day"], name="rollup_tag_day"),
        ]

    def __str__(self) -> str:
        return f"rollup {self.day}"


class HourlyArrivals(models.Model):
    """Conversations created per day and hour of day (REPORTS_TIME_ZONE): the busiest-hours map."""

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    tag = _dim("tagging.Tag", db_index=False)  # led by the (tag, ...) index below
    team = _dim("accounts.Team")
    channel = _dim("inbox.Channel")
    severity = models.PositiveSmallIntegerField()
    assignee = _dim(settings.AUTH_USER_MODEL)
    created = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "hourly arrivals"
        indexes = [
            models.Index(fields=["day"], condition=models.Q(tag__isnull=True), name="arrivals_day"),
            models.Index(fields=["tag", "day"], name="arrivals_tag_day"),
        ]

    def __str__(self) -> str:
        return f"arrivals {self.day} {self.hour:02d}h"


class DurationHistogram(models.Model):
    """How many conversations' first response, resolution or handle time fell in each duration
    bucket, per day (first responses by the day they were sent, resolutions and handle times by
    the day of the current resolution) and combination of dimensions, tagged like DailyRollup.
    Medians and 90th percentiles over long ranges are read from these sums (reports.histograms)
    instead of sorting every fact."""

    class Metric(models.IntegerChoices):
        FIRST_RESPONSE = 1, "first response"
        RESOLUTION = 2, "resolution"
        HANDLE = 3, "handle"

    day = models.DateField()
    metric = models.PositiveSmallIntegerField(choices=Metric.choices)
    bucket = models.PositiveSmallIntegerField()
    tag = _dim("tagging.Tag", db_index=False)  # led by the (tag, ...) index below
    team = _dim("accounts.Team")
    channel = _dim("inbox.Channel")
    severity = models.PositiveSmallIntegerField()
    assignee = _dim(settings.AUTH_USER_MODEL)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["metric", "day"], condition=models.Q(tag__isnull=True), name="histogram_day"
            ),
            models.Index(fields=["tag", "metric", "day"], name="histogram_tag_day"),
        ]

    def __str__(self) -> str:
        return f"histogram {self.day} metric {self.metric} bucket {self.bucket}"


class TeamDurationHistogram(models.Model):
    """DurationHistogram summed over channels, severities and assignees: per day, team and tag.
    A day's rows of one dimension combination hold only a few conversations each, so the full
    table has about a row per value; this one has a few hundred rows a day. Read when neither the
    user's scope, the filters nor the grouping need the other dimensions (an admin's or viewer's
    report, unfiltered or by team or tag, per period or per team)."""

    day = models.DateField()
    metric = models.PositiveSmallIntegerField(choices=DurationHistogram.Metric.choices)
    bucket = models.PositiveSmallIntegerField()
    tag = _dim("tagging.Tag", db_index=False)  # led by the (tag, ...) index below
    team = _dim("accounts.Team")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["metric", "day"],
                condition=models.Q(tag__isnull=True),
                name="team_histogram_day",
            ),
            models.Index(fields=["tag", "metric", "day"], name="team_histogram_tag_day"),
        ]

    def __str__(self) -> str:
        return f"team histogram {self.day} metric {self.metric} bucket {self.bucket}"


class RollupState(models.Model):
    """Singleton: how far the incremental refresh has read the outbox."""

    last_event_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)
    rebuilt_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"rollups up to event {self.last_event_id}"


class SatisfactionSurvey(models.Model):
    """The one-question survey sent when a conversation is resolved: CSAT (1-5), NPS (0-10) or
    CES (1-7), as its `kind` says. The customer reaches it with a 256-bit random token; only its
    SHA-256 is stored. One answer, never changed."""

    Kind = SurveyKind

    conversation = models.OneToOneField(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="satisfaction_survey"
    )
    channel = models.ForeignKey("inbox.Channel", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("inbox.Contact", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    message = models.ForeignKey(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(db_index=True)
    kind = models.CharField(
        max_length=4, choices=SurveyKind.choices, default=SurveyKind.CSAT, db_default="csat"
    )
    language = models.CharField(
        max_length=16,
        blank=True,
        default="",
        db_default="",
        help_text="The customer's language when known (contact or channel); blank: the browser's.",
    )
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True, max_length=5000)
    answered_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True)
                | models.Q(kind="csat", score__gte=1, score__lte=5)
                | models.Q(kind="nps", score__gte=0, score__lte=10)
                | models.Q(kind="ces", score__gte=1, score__lte=7),
                name="survey_score_in_its_scale",
            )
        ]

    def __str__(self) -> str:
        return f"survey on {self.conversation_id}: {self.score or 'unanswered'}"
