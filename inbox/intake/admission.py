"""Every check a door makes before it stores a delivery, in one ordered function: rate, size,
channel, body (signature, shape, content type). Both webhook doors (the Django view in
inbox.intake.doors.http and the ASGI door in inbox.intake.doors.asgi) answer with these."""

import logging

from django.conf import settings
from django.http import JsonResponse

from inbox.intake.adapters import MalformedError, SignatureError, get_adapter
from inbox.models import Channel

logger = logging.getLogger(__name__)


# Headers worth keeping with the raw body (signatures, content type, provider ids).
KEEP_HEADERS = ("content-type", "user-agent", "x-", "webhook-")


def error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def inbound_rate() -> str | None:
    """The rate ("N/s|m|h|d") each provider address may post to one channel, if limited."""
    return getattr(settings, "API_THROTTLE_RATES", {}).get("inbound")


def inbound_rate_key(channel_slug: str, remote_addr: str) -> str:
    """The rate-limit counter of one provider address posting to one channel (both doors)."""
    return f"inbound:{channel_slug}:{remote_addr}"


def rate_limited(wait: int) -> JsonResponse:
    response = error(429, "rate_limited", f"Too many requests; retry in {wait} s.")
    response["Retry-After"] = str(wait)
    return response


def too_large() -> JsonResponse:
    return error(413, "too_large", f"Body over {settings.INBOUND_MAX_BYTES} bytes.")


def unavailable() -> JsonResponse:
    return error(503, "unavailable", "Storage is unavailable; retry later.")


def unknown_channel(channel_slug: str) -> JsonResponse:
    return error(404, "unknown_channel", f"No channel {channel_slug!r} for this provider.")


def declared_length(value: str | None) -> int:
    """A Content-Length header as a number (0 when missing or not a number)."""
    try:
        return int(value or 0)
    except ValueError:
        return 0


def kept_headers(request) -> dict:
    return {
        key.lower(): value
        for key, value in request.headers.items()
        if key.lower().startswith(KEEP_HEADERS)
    }


def active_channels() -> dict[str, Channel]:
    return {c.slug: c for c in Channel.objects.filter(is_active=True)}


def active_channel(slug: str, kinds: tuple[str, ...], *, load=active_channels) -> Channel | None:
    """The active channel `slug` of one of `kinds`, from this process's copy of the channels
    (refreshed when any channel changes: config.refcache); `load` reads them when it is stale."""
    from core import refcache

    channels = refcache.get("active-channels", load)
    channel = channels.get(slug)
    return channel if channel is not None and channel.kind in kinds else None


def refusal(request, *, provider: str, channel: Channel) -> JsonResponse | None:
    """The checks of a delivery's body, shared by both doors (this view and inbox.accept): 413
    too big, 401 bad signature, 400 malformed, 415 wrong content type; None when it may be stored.
    `request` is a Django request or an inbox.accept.Delivery: both have .headers, .body and
    .content_type, which is all the adapters read."""
    if len(request.body) > settings.INBOUND_MAX_BYTES:
        return too_large()
    adapter = get_adapter(provider)
    try:
        adapter.verify(request, channel)
    except SignatureError as exc:
        logger.warning("rejected %s webhook for %s: %s", provider, channel.slug, exc)
        return error(401, "bad_signature", str(exc))
    check = getattr(adapter, "check", None)
    if check is not None:
        try:
            check(request)
        except MalformedError as exc:
            status = getattr(exc, "status", 400)  # 415 for a wrong content type
            return error(
                status, "malformed" if status == 400 else "unsupported_media_type", str(exc)
            )
    return None
