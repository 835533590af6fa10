import secrets

from django.db import transaction

from accounts.models import ApiToken, User


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
    return token, key
