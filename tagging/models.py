from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

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
    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="tag_links"
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="links")
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
