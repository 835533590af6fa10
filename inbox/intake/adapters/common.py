"""Small helpers the social and SMS adapters share."""

from datetime import UTC, datetime

from core import safejson
from inbox.intake.adapters import MalformedError, UnsupportedMediaType


def json_request(request) -> dict:
    """A JSON provider's body: 415 when it is sent as something else (a form, text, a file),
    400 when it is not a JSON object. No Content-Type at all is read as JSON."""
    content_type = (request.content_type or "").lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(f"Content-Type must be application/json, not {content_type!r}")
    return json_object(request.body)


def json_object(body: bytes) -> dict:
    """The body as a JSON object, or MalformedError (400) naming what is wrong."""
    try:
        data = safejson.loads(body)
    except safejson.UnsafeJson as exc:
        raise MalformedError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedError("body must be a JSON object")
    return data


def from_unix(value, *, millis: bool = False, fallback: datetime | None = None) -> datetime:
    """A provider's Unix timestamp (seconds, or milliseconds) as an aware UTC datetime."""
    try:
        seconds = float(value) / (1000 if millis else 1)
        return datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback or datetime.now(UTC)


def e164(number: str) -> str:
    """'+1 555-555-5555', '15555555555' or 'whatsapp:+15555555555' as '+15555555555'."""
    number = number.split(":", 1)[-1]
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"+{digits}" if digits else ""


def received_at(event) -> datetime:
    return event.received_at.astimezone(UTC) if event.received_at else datetime.now(UTC)
