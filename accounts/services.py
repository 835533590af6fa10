import logging
import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User

# Credentials are audited in the log (accounts sits below the inbox's outbox of domain events).
audit = logging.getLogger("switchboard.audit")


@transaction.atomic
def create_api_token(
    *, user: User, name: str, scopes: list[str] | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its key. The key is not stored and cannot be shown again."""
    key = secrets.token_hex(20)  # 160 bits
    scopes = scopes if scopes is not None else [s.value for s in ApiToken.Scope]
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=ApiToken.hash_key(key), prefix=key[:8], scopes=scopes
    )
    audit.info(
        "api token created: id=%s user=%s prefix=%s scopes=%s",
        token.pk,
        user.get_username(),
        token.prefix,
        ",".join(scopes),
    )
    return token, key


@transaction.atomic
def revoke_api_token(*, token_id: int, actor: User) -> ApiToken:
    """Revoke one of `actor`'s own tokens (idempotent). Raises ApiToken.DoesNotExist for a token
    that is not theirs."""
    token = ApiToken.objects.select_for_update().get(pk=token_id, user=actor)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.info(
            "api token revoked: id=%s user=%s prefix=%s",
            token.pk,
            actor.get_username(),
            token.prefix,
        )
    return token


def revoke_all_api_tokens(*, user: User) -> int:
    """Revoke every live token of `user` (deactivated, or changed their password). Returns how
    many were revoked."""
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        audit.info("api tokens revoked: user=%s count=%s", user.get_username(), revoked)
    return revoked


def set_language(*, user: User, language: str) -> bool:
    """Store the language the agent's pages speak: one of settings.LANGUAGES, or empty for the
    browser's Accept-Language. Returns whether it changed. Raises ValueError, in words, for a
    language the product does not ship."""
    from django.conf import settings
    from django.utils.translation import gettext as _

    language = language.strip()
    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(_("%(code)r is not a language we ship.") % {"code": language})
    if user.language == language:
        return False
    user.language = language
    user.save(update_fields=["language"])
    return True


def set_time_zone(*, user: User, time_zone: str, only_if_unset: bool = False) -> bool:
    """Store the zone the agent's pages show times in. `only_if_unset` is the browser's own
    report, sent once: it never overrides what the agent picked. Returns whether it changed.
    Raises ValueError, in words, for a name that is not an IANA time zone."""
    from zoneinfo import available_timezones

    time_zone = time_zone.strip()
    if time_zone not in available_timezones():
        raise ValueError(f"{time_zone or 'An empty name'!r} is not a time zone we know.")
    if (only_if_unset and user.time_zone) or user.time_zone == time_zone:
        return False
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    return True
