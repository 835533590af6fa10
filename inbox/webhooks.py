"""Inbound HTTP from providers: find the channel, verify, store the raw request, acknowledge.

A 2xx means the raw request is committed: processing happens after, in a task, so a crash or a
broker outage loses nothing (the re-queue sweep picks stored events up again).
"""

import logging
import math
import time

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import RedisError

from config.cache import shared as shared_cache
from inbox.adapters import MalformedError, SignatureError, get_adapter
from inbox.models import Channel, InboundEvent

logger = logging.getLogger(__name__)

# Headers worth keeping with the raw body (signatures, content type, provider ids).
KEEP_HEADERS = ("content-type", "user-agent", "x-", "webhook-")


def error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


# The cache (Redis in distributed mode) being unreachable: limits fail open, because refusing a
# provider's webhook or an agent's request over a missing counter would lose work.
CACHE_DOWN = (OSError, RedisError)


def rate_window(rate: str) -> tuple[int, int, int]:
    """A rate "N/s|m|h|d" as (N, the window in seconds, the current window's number)."""
    number, period = rate.split("/")
    window = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    return int(number), window, int(time.time() // window)


def counter_key(key: str, slot: int) -> str:
    """The cache key counting `key`'s requests in window `slot` (every rate limit shares it)."""
    return f"ratelimit:{key}:{slot}"


def inbound_rate() -> str | None:
    """The rate ("N/s|m|h|d") each provider address may post to one channel, if limited."""
    return getattr(settings, "API_THROTTLE_RATES", {}).get("inbound")


def over_rate(key: str, rate: str | None) -> int | None:
    """Count one request against `rate` ("N/s|m|h|d") in a fixed window of the cache; return the
    seconds to wait when over the limit, else None (also when the cache is unreachable)."""
    if not rate:
        return None
    number, window, slot = rate_window(rate)
    key = counter_key(key, slot)
    cache = shared_cache()
    try:
        count_in_window = getattr(cache, "count_in_window", None)
        if count_in_window is not None:  # Redis: one round trip
            count = count_in_window(key, window)
        else:
            cache.add(key, 0, timeout=window + 1)
            try:
                count = cache.incr(key)
            except ValueError:  # the key expired between add and incr
                cache.add(key, 1, timeout=window + 1)
                count = 1
    except CACHE_DOWN as exc:
        logger.warning("rate limit %s not counted, the cache is unreachable: %s", key, exc)
        return None
    return retry_after(count, number, window, slot)


def retry_after(count: int, number: int, window: int, slot: int) -> int | None:
    """The seconds to wait when `count` requests are over `number` in window `slot`, else None."""
    if count > number:
        return max(1, math.ceil((slot + 1) * window - time.time()))
    return None


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


def enqueue_processing(event_id: int) -> None:
    """Have a stored event processed. With a worker, arrivals share drain tasks (one task per
    burst, not per event); in embedded mode the event is processed at once, in-process."""
    from config.celery import app, enqueue
    from inbox.processing import schedule_drain
    from inbox.tasks import process_inbound_event

    if app.conf.task_always_eager:
        enqueue(process_inbound_event, event_id)
    else:
        schedule_drain()


def store_inbound(*, request, channel: Channel | None, provider: str) -> InboundEvent:
    """One INSERT (committed by itself unless the caller holds a transaction), then the
    processing is enqueued after commit."""
    event = InboundEvent.objects.create(
        channel=channel,
        provider=provider,
        body=request.body,
        headers=kept_headers(request),
        query=request.META.get("QUERY_STRING", "")[:2048],
        received_at=timezone.now(),
    )
    transaction.on_commit(lambda: enqueue_processing(event.pk))
    return event


def active_channels() -> dict[str, Channel]:
    return {c.slug: c for c in Channel.objects.filter(is_active=True)}


def active_channel(slug: str, kinds: tuple[str, ...], *, load=active_channels) -> Channel | None:
    """The active channel `slug` of one of `kinds`, from this process's copy of the channels
    (refreshed when any channel changes: config.refcache); `load` reads them when it is stale."""
    from config import refcache

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


@csrf_exempt
def receive(request, *, provider: str, channel_slug: str, kinds: tuple[str, ...]):
    """The shared webhook door: 404 unknown channel, 413 too big, 401 bad signature,
    400 malformed, 503 when the database cannot store it; otherwise the adapter's ack.
    On PostgreSQL the ASGI server answers most webhook POSTs before Django (inbox.accept), with
    the same checks; this view serves the rest (the test client, SQLite, Twilio, handshakes)."""
    if request.method != "POST":
        return error(405, "method_not_allowed", "Use POST.")
    wait = over_rate(
        inbound_rate_key(channel_slug, request.META.get("REMOTE_ADDR", "")), inbound_rate()
    )
    if wait:
        return rate_limited(wait)
    if declared_length(request.META.get("CONTENT_LENGTH")) > settings.INBOUND_MAX_BYTES:
        return too_large()
    try:
        channel = active_channel(channel_slug, kinds)
    except DatabaseError:
        return unavailable()
    if channel is None:
        return unknown_channel(channel_slug)
    try:
        request.body  # noqa: B018 (read it now: Django refuses one over its limit here)
    except Exception:  # RequestDataTooBig raised while reading
        return too_large()
    refused = refusal(request, provider=provider, channel=channel)
    if refused is not None:
        return refused
    try:
        event = store_inbound(request=request, channel=channel, provider=provider)
    except DatabaseError:
        logger.exception("could not store %s webhook", provider)
        return unavailable()
    return get_adapter(provider).ack(request, event)


@csrf_exempt
def api_webhook(request, channel):
    return receive(request, provider="api", channel_slug=channel, kinds=(Channel.Kind.API,))


@csrf_exempt
def email_raw_webhook(request, channel):
    return receive(request, provider="email", channel_slug=channel, kinds=(Channel.Kind.EMAIL,))
