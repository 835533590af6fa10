import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        LEAD = "lead", _("Team lead")
        AGENT = "agent", _("Agent")
        VIEWER = "viewer", _("Viewer")

    class Availability(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    availability = models.CharField(
        max_length=16, choices=Availability.choices, default=Availability.OFFLINE
    )
    capacity = models.PositiveSmallIntegerField(
        default=10, help_text="Most open conversations assigned at once."
    )
    # The IANA zone every time on the agent's pages is shown in; empty until the agent's
    # browser reports its own (once, accounts.services.set_time_zone) or the agent picks one.
    time_zone = models.CharField(max_length=64, blank=True, default="")
    # One of settings.LANGUAGES the agent's pages speak; empty: the browser's Accept-Language.
    language = models.CharField(max_length=8, blank=True, default="")

    teams: models.ManyToManyField = models.ManyToManyField(
        "Team", through="Membership", related_name="users"
    )

    class Meta:
        indexes = [models.Index(fields=["role", "availability"])]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin_role(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser


class SurveyKind(models.TextChoices):
    """The survey that follows a resolution (reports.surveys holds the scales and questions; it
    lives here because a team chooses one and accounts is the layer everything may import)."""

    CSAT = "csat", _("CSAT (satisfaction, 1-5)")
    NPS = "nps", _("NPS (likely to recommend, 0-10)")
    CES = "ces", _("CES (effort, 1-7)")


class Team(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    survey_kind = models.CharField(
        max_length=4,
        blank=True,
        default="",
        db_default="",
        choices=SurveyKind.choices,
        help_text=_(
            "The survey after this team resolves a conversation, where the channel sends "
            "surveys; blank: the channel's choice."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(  # looked up through membership_unique_user_team
        User, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="membership_unique_user_team")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the key is stored; the key is shown once."""

    class Scope(models.TextChoices):
        READ = "read", pgettext_lazy("an API token's scope", "Read")
        WRITE = "write", pgettext_lazy("an API token's scope", "Write")
        ADMIN = "admin", "Admin"

    user = models.ForeignKey(  # looked up through the (user, revoked_at) index
        User, on_delete=models.CASCADE, related_name="api_tokens", db_index=False
    )
    name = models.CharField(max_length=120)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters of the key, for display.")
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_labels(self) -> list[str]:
        """The scopes as people read them (the stored values stay the API's words)."""
        labels = dict(self.Scope.choices)
        return [str(labels.get(scope, scope)) for scope in self.scopes]

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
