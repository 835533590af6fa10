"""Every check a door makes before it stores a delivery, in one ordered function: rate, size,
channel, body (signature, shape, content type). Both webhook doors (the Django view in
inbox.intake.doors.http and the ASGI door in inbox.intake.doors.asgi) answer with these."""

import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import JsonResponse

from inbox.intake.adapters import MalformedError, SignatureError, get_adapter
from inbox.models import Channel

logger = logging.getLogger(__name__)


# Headers worth keeping with the raw body (signatures, content type, provider ids).
KEEP_HEADERS = ("content-type", "user-agent", "x-", "webhook-")
# ...but never a credential: a header that *is* a shared secret or a login (Telegram's
# X-Telegram-Bot-Api-Secret-Token is the channel's secret itself) would hand it to whoever reads
# stored events (admin, backups, exports). Processing reads no stored header. Signatures stay:
# each one vouches only for the exact body stored beside it.
CREDENTIAL_WORDS = ("secret", "token", "password", "auth", "cookie", "session", "api-key", "apikey")


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
    """The request's headers stored with an InboundEvent: the provider's own (KEEP_HEADERS),
    without any that carries a credential (CREDENTIAL_WORDS)."""
    kept = {}
    for key, value in request.headers.items():
        name = key.lower()
        if name.startswith(KEEP_HEADERS) and not any(w in name for w in CREDENTIAL_WORDS):
            kept[name] = value
    return kept


def active_channels() -> dict[str, Channel]:
    return {c.slug: c for c in Channel.objects.filter(is_active=True)}


def active_channel(slug: str, kinds: tuple[str, ...], *, load=active_channels) -> Channel | None:
    """The active channel `slug` of one of `kinds`, from this process's copy of the channels
    (refreshed when any channel changes: core.refcache); `load` reads them when it is stale."""
    from core import refcache

    channels = refcache.get("active-channels", load)
    channel = channels.get(slug)
    return channel if channel is not None and channel.kind in kinds else None


def refusal(request, *, provider: str, channel: Channel) -> JsonResponse | None:
    """The checks of a delivery's body, shared by both doors (the Django view and inbox.intake.doors.asgi): 413
    too big, 401 bad signature, 400 malformed, 415 wrong content type; None when it may be stored.
    `request` is a Django request or an inbox.intake.doors.asgi.Delivery: both have .headers, .body and
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


# --- the one ordered admission, driven by each door with its own I/O ----------------------------


@dataclass(frozen=True)
class Count:
    """Count this request against the inbound rate: the door answers the seconds to wait when
    it is over the limit, else None."""

    key: str


@dataclass(frozen=True)
class FindChannel:
    """The active channel `slug` of one of `kinds`: the door answers it or None."""

    slug: str
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class ReadBody:
    """Read the body: the door answers the delivery (anything with .headers, .body and
    .content_type) or None when the body ran over INBOUND_MAX_BYTES."""


@dataclass(frozen=True)
class Store:
    """Store the delivery (inbox.intake.queue.store_inbound or its group twin): the door answers
    the stored InboundEvent."""

    channel: Channel
    provider: str
    delivery: Any


class StorageDown(Exception):
    """A door could not read or write the database (its own driver's errors, as one)."""


def admit(*, provider: str, slug: str, kinds: tuple[str, ...], client: str, declared: str | None):
    """Every check of an inbound webhook, in order, for both doors: 429 over the rate, 413 a
    declared body too big, 503 storage down, 404 no such channel, 413 a body too big, then the
    body's own checks (refusal(): 401, 400, 415), 503 when it cannot be stored; otherwise the
    provider adapter's acknowledgement. A generator without I/O: it yields what it needs
    (Count, FindChannel, ReadBody, Store) and each door answers with its own I/O, the Django
    view at once (answer()), the ASGI door awaiting (answer_async())."""
    wait = yield Count(inbound_rate_key(slug, client))
    if wait:
        return rate_limited(wait)
    if declared_length(declared) > settings.INBOUND_MAX_BYTES:
        return too_large()
    try:
        channel = yield FindChannel(slug, kinds)
    except StorageDown:
        return unavailable()
    if channel is None:
        return unknown_channel(slug)
    delivery = yield ReadBody()
    if delivery is None:
        return too_large()
    refused = refusal(delivery, provider=provider, channel=channel)
    if refused is not None:
        return refused
    try:
        event = yield Store(channel, provider, delivery)
    except StorageDown:
        logger.exception("could not store %s webhook", provider)
        return unavailable()
    return get_adapter(provider).ack(delivery, event)


def answer(steps: Generator, io: Callable[[Any], Any]) -> JsonResponse:
    """Run admit() with blocking I/O: `io(step)` answers each step, raising StorageDown."""
    try:
        step = next(steps)
        while True:
            try:
                result = io(step)
            except StorageDown as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(result)
    except StopIteration as done:
        return done.value


async def answer_async(steps: Generator, io: Callable[[Any], Awaitable[Any]]) -> JsonResponse:
    """answer() for an event loop: `io(step)` is awaited."""
    try:
        step = next(steps)
        while True:
            try:
                result = await io(step)
            except StorageDown as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(result)
    except StopIteration as done:
        return done.value
