from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

DEFAULT_TAGS = [
    ("sales-lead", "Sales lead", "#2f855a", "Pricing, quotes, demos: someone who may buy."),
    (
        "feature-request",
        "Feature request",
        "#2b6cb0",
        "Something a customer wants the product to do.",
    ),
    ("incident", "Incident", "#c53030", "Something is down or broken for many customers."),
    ("technical-issue", "Technical issue", "#b7791f", "An error, bug or crash one customer hit."),
    ("ugc", "User-generated content", "#6b46c1", "The product shared or shown publicly by users."),
]


class Tag(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=64)
    color = models.CharField(max_length=7, default="#718096", help_text="#rrggbb")
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Declared here, not on Conversation, so that inbox never imports tagging.
    conversations = models.ManyToManyField(
        "inbox.Conversation", through="ConversationTag", related_name="tags"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class ConversationTag(models.Model):
    # Both looked up through the two-column indexes below (conversation_tag_unique,
    # convtag_by_tag), which lead with them.
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="tag_links", db_index=False
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="links", db_index=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "tag"], name="conversation_tag_unique")
        ]
        indexes = [models.Index(fields=["tag", "conversation"], name="convtag_by_tag")]

    def __str__(self) -> str:
        return f"{self.tag_id} on {self.conversation_id}"


class TagSuggestion(models.Model):
    """A tag a classification rule in `suggest` mode proposes; agents accept or dismiss it."""

    conversation = models.ForeignKey(  # looked up through tag_suggestion_unique
        "inbox.Conversation",
        on_delete=models.CASCADE,
        related_name="tag_suggestions",
        db_index=False,
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(
        "ClassificationRule", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "tag"], name="tag_suggestion_unique")
        ]

    def __str__(self) -> str:
        return f"suggest {self.tag_id} on {self.conversation_id}"


class ClassificationRule(models.Model):
    """Tags and severity from what a message says: keywords or a regex over subject and text,
    the sender's domain, the channel kind. All given conditions must hold."""

    class Mode(models.TextChoices):
        APPLY = "apply", "Apply"
        SUGGEST = "suggest", "Suggest"

    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.APPLY)
    keywords = models.JSONField(
        default=list, blank=True, help_text="Any of these words or phrases."
    )
    regex = models.CharField(max_length=500, blank=True)
    sender_domains = models.JSONField(default=list, blank=True)
    channel_kinds = models.JSONField(default=list, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="rules")
    severity = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=[(1, "low"), (2, "normal"), (3, "high"), (4, "critical")]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SuggestionDecision(models.Model):
    """An agent's answer to a suggested tag (learned or from a rule): accepted (the tag was
    added) or dismissed (hidden on that conversation from then on). One per conversation and tag.
    Both are training signal for the learned suggester (tagging.learning)."""

    class Source(models.TextChoices):
        LEARNED = "learned", "Learned"
        RULE = "rule", "Rule"

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    conversation = models.ForeignKey(  # looked up through suggestion_decision_unique
        "inbox.Conversation",
        on_delete=models.CASCADE,
        related_name="tag_suggestion_decisions",
        db_index=False,
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    score = models.FloatField(help_text="The suggestion's score when it was shown (0..1).")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "tag"], name="suggestion_decision_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.tag_id} on {self.conversation_id}"


class FeatureRequest(models.Model):
    """A request on the feature-request board that a person acted on (a status, a title, a merge
    or a split): its conversations stay together from then on. Requests nobody touched are
    computed on read (tagging.feature_requests) and not stored."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        PLANNED = "planned", "Planned"
        SHIPPED = "shipped", "Shipped"
        DECLINED = "declined", "Declined"

    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    customers_messaged_at = models.DateTimeField(
        null=True, blank=True, help_text="When its customers were told it shipped."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title


class FeatureRequestMember(models.Model):
    """A conversation placed in a stored feature request (at most one)."""

    request = models.ForeignKey(FeatureRequest, on_delete=models.CASCADE, related_name="members")
    conversation = models.OneToOneField(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="feature_request_member"
    )

    def __str__(self) -> str:
        return f"{self.conversation_id} in {self.request_id}"


class WatchWord(models.Model):
    """A word or phrase an admin watches for incident spikes, beside the watched tags
    (settings.SPIKE_TAGS): customers' messages containing it, as a whole word, are counted like
    conversations carrying a watched tag (tagging.spikes)."""

    word = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class SpikeAlert(models.Model):
    """Conversations about one watched tag or word arrived much faster than usual for that hour
    of the week (tagging.spikes). Open (closed_at null) until the rate falls back; at most one
    open per watch, so a spike alerts once however many messages it brings."""

    class Kind(models.TextChoices):
        TAG = "tag", "Tag"
        WORD = "word", "Watch word"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    watch = models.CharField(max_length=64, help_text="The tag's slug or the watch word.")
    count = models.PositiveIntegerField(help_text="Conversations in the window when raised.")
    peak = models.PositiveIntegerField(help_text="The most conversations in a window while open.")
    baseline = models.FloatField(help_text="Usual count in the window for that hour of the week.")
    threshold = models.FloatField(help_text="The count that raised it.")
    window_minutes = models.PositiveIntegerField()
    samples = models.JSONField(default=list, help_text="A few conversation ids, newest first.")
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    conversations = models.ManyToManyField(
        "inbox.Conversation", through="SpikeAlertConversation", related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "watch"],
                condition=models.Q(closed_at__isnull=True),
                name="spike_alert_one_open_per_watch",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.watch}: {self.count} (usual {self.baseline:g})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class SpikeAlertConversation(models.Model):
    """A conversation that belongs to a spike: the grouped list its banner links to."""

    alert = models.ForeignKey(
        SpikeAlert, on_delete=models.CASCADE, related_name="members", db_index=False
    )
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="spike_alert_members"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "conversation"], name="spike_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} in spike {self.alert_id}"


class UgcItem(models.Model):
    """A `ugc`-tagged conversation's place in the marketing library: whether its customer let us
    reuse what they shared, and who recorded it when. Made on the first action; a conversation
    with no row has not been asked (tagging.ugc)."""

    class Permission(models.TextChoices):
        NOT_ASKED = "not_asked", _("Not asked")
        ASKED = "asked", _("Permission asked")
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")

    conversation = models.OneToOneField(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="ugc_item"
    )
    permission = models.CharField(
        max_length=10, choices=Permission.choices, default=Permission.NOT_ASKED
    )
    asked_at = models.DateTimeField(null=True, blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    asked_message = models.ForeignKey(
        "inbox.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The reply that asked.",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent who recorded the answer; empty when read from the customer's reply.",
    )
    answer_message = models.ForeignKey(
        "inbox.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The customer's reply the answer was read from, when it was.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"ugc {self.conversation_id}: {self.permission}"
