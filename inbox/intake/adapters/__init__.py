"""One module per provider, each exposing the same functions and holding no state:

    verify(request, channel) -> None          raise SignatureError (401)
    check(request) -> None                    optional; raise MalformedError (400) before storing
    parse(event) -> list[InboundItem]         pure: raw InboundEvent -> normalized items; no DB writes
    ack(request, event) -> HttpResponse       the reply the provider expects
    handshake(request, channel) -> HttpResponse   optional; a GET proving the URL is ours
                                              (Meta's hub.challenge, X's CRC); stores nothing

`ADAPTERS` maps an InboundEvent.provider to its module.
"""

from importlib import import_module
from types import ModuleType


class SignatureError(Exception):
    """The request is not from who it claims to be."""


def same_secret(expected: str, given: str) -> bool:
    """Constant-time comparison of a signature or token from a header. Header values can hold
    any character (hmac.compare_digest refuses non-ASCII str with a TypeError, a 500)."""
    import hmac

    return hmac.compare_digest(
        expected.encode("utf-8", "replace"), str(given).encode("utf-8", "replace")
    )


class MalformedError(Exception):
    """The body cannot be what this provider sends."""


class UnsupportedMediaType(MalformedError):
    """The body is sent with a content type this provider never uses (the door answers 415)."""

    status = 415


class UnknownPayload(Exception):
    """Well-formed, but a shape we do not understand: stored and shown to admins as failed."""


ADAPTERS: dict[str, str] = {
    "api": "inbox.intake.adapters.api",
    "meta": "inbox.intake.adapters.meta",
    "telegram": "inbox.intake.adapters.telegram",
    "twilio": "inbox.intake.adapters.twilio",
    "x": "inbox.intake.adapters.x",
    "chat": "inbox.intake.adapters.chat",
    "email": "inbox.intake.adapters.email",
}


def get_adapter(provider: str) -> ModuleType:
    try:
        return import_module(ADAPTERS[provider])
    except KeyError as exc:
        raise LookupError(f"no adapter for provider {provider!r}") from exc
