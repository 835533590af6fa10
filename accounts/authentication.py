from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token KEY`, looked up by the key's SHA-256; the key itself is never stored."""

    model = ApiToken

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        # Touch last_used at most once a minute: a busy integration should not write per request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            needed = required_scope(request)
            if needed not in result[1].scopes:
                raise exceptions.PermissionDenied(f"This token lacks the {needed} scope.")
        return result


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def required_scope(request) -> str:
    """The scope a token needs for this request: `admin` on admin endpoints (a view whose
    permission classes say `token_scope = "admin"`, or `token_scope_writes = "admin"` for its
    writes only: the settings endpoints whose lists are reference data), else `read` for safe
    methods and `write` for the rest. Session users are not limited by scopes, only by their
    role."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    writing = request.method not in SAFE_METHODS
    for permission in getattr(view, "permission_classes", []):
        if getattr(permission, "token_scope", None) == ApiToken.Scope.ADMIN:
            return ApiToken.Scope.ADMIN
        if writing and getattr(permission, "token_scope_writes", None) == ApiToken.Scope.ADMIN:
            return ApiToken.Scope.ADMIN
    return ApiToken.Scope.READ if request.method in SAFE_METHODS else ApiToken.Scope.WRITE
