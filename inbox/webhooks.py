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


def over_rate(key: str, rate: str | None) -> int | None:
    """Count one request against `rate` ("N/s|m|h|d") in a fixed window of the cache; return the
    seconds to wait when over the limit, else None (also when the cache is unreachable)."""
    if not rate:
        return None
    number, window, slot = rate_window(rate)
    key = f"ratelimit:{key}:{slot}"
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
    if count > number:
        return max(1, math.ceil((slot + 1) * window - time.time()))
    return None


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


def active_channel(slug: str, kinds: tuple[str, ...]) -> Channel | None:
    """The active channel `slug` of one of `kinds`, from this process's copy of the channels
    (refreshed when any channel changes: config.refcache)."""
    from config import refcache

    channels = refcache.get(
        "active-channels", lambda: {c.slug: c for c in Channel.objects.filter(is_active=True)}
    )
    channel = channels.get(slug)
    return channel if channel is not None and channel.kind in kinds else None


@csrf_exempt
def receive(request, *, provider: str, channel_slug: str, kinds: tuple[str, ...]):
    """The shared webhook door: 404 unknown channel, 413 too big, 401 bad signature,
    400 malformed, 503 when the database cannot store it; otherwise the adapter's ack."""
    if request.method != "POST":
        return error(405, "method_not_allowed", "Use POST.")
    rate = getattr(settings, "API_THROTTLE_RATES", {}).get("inbound")
    wait = over_rate(f"inbound:{channel_slug}:{request.META.get('REMOTE_ADDR', '')}", rate)
    if wait:
        response = error(429, "rate_limited", f"Too many requests; retry in {wait} s.")
        response["Retry-After"] = str(wait)
        return response
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.INBOUND_MAX_BYTES:
        return error(413, "too_large", f"Body over {settings.INBOUND_MAX_BYTES} bytes.")
    try:
        channel = active_channel(channel_slug, kinds)
    except DatabaseError:
        return error(503, "unavailable", "Storage is unavailable; retry later.")
    if channel is None:
        return error(404, "unknown_channel", f"No channel {channel_slug!r} for this provider.")
    adapter = get_adapter(provider)
    try:
        body = request.body
    except Exception:  # RequestDataTooBig raised while reading
        return error(413, "too_large", f"Body over {settings.INBOUND_MAX_BYTES} bytes.")
    if len(body) > settings.INBOUND_MAX_BYTES:
        return error(413, "too_large", f"Body over {settings.INBOUND_MAX_BYTES} bytes.")
    try:
        adapter.verify(request, channel)
    except SignatureError as exc:
        logger.warning("rejected %s webhook for %s: %s", provider, channel_slug, exc)
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
    try:
        event = store_inbound(request=request, channel=channel, provider=provider)
    except DatabaseError:
        logger.exception("could not store %s webhook", provider)
        return error(503, "unavailable", "Storage is unavailable; retry later.")
    return adapter.ack(request, event)


@csrf_exempt
def api_webhook(request, channel):
    return receive(request, provider="api", channel_slug=channel, kinds=(Channel.Kind.API,))


@csrf_exempt
def email_raw_webhook(request, channel):
    return receive(request, provider="email", channel_slug=channel, kinds=(Channel.Kind.EMAIL,))
