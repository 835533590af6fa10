"""Fixed-window rate limits counted in the shared cache (Redis when configured). Every limit
of the product counts here: inbound webhooks, the API throttles, logins."""

import hashlib
import logging
import math
import time

from django.http import HttpResponse, JsonResponse
from redis.exceptions import RedisError

from core.cache import shared as shared_cache

logger = logging.getLogger(__name__)


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


def forget(key: str, rate: str) -> bool:
    """Drop `key`'s count in the current window of `rate` (a lockout lifted); False when the
    cache is unreachable."""
    try:
        shared_cache().delete(counter_key(key, rate_window(rate)[2]))
    except CACHE_DOWN as exc:
        logger.warning("rate limit %s not reset, the cache is unreachable: %s", key, exc)
        return False
    return True


def hashed(value: str) -> str:
    """A fixed-length key part for what a client typed (a username, an address): normalised, so
    "Alice " and "alice" count together, and hashed, so no key holds it or grows with it."""
    normal = str(value).strip().lower()[:254]
    return hashlib.sha256(normal.encode("utf-8", "replace")).hexdigest()[:32]


def too_many(wait: int, code: str = "rate_limited") -> JsonResponse:
    """The 429 every limit answers, with Retry-After."""
    response = JsonResponse(
        {"code": code, "detail": f"Too many requests; retry in {wait} s."}, status=429
    )
    response["Retry-After"] = str(wait)
    return response


def wants_page(request) -> bool:
    """A person's browser asking for a page (not the API, not a script): it gets words."""
    return not request.path.startswith(("/api/", "/webhooks/")) and "text/html" in request.META.get(
        "HTTP_ACCEPT", ""
    )


def too_many_for(request, wait: int, *, title: str, text: str) -> HttpResponse:
    """The 429 of a limit a person meets in the browser (the login lockout, the reset limit): a
    page in words with the wait, a link back and Retry-After; JSON for everyone else."""
    if not wants_page(request):
        return too_many(wait)
    from django.shortcuts import render

    minutes = max(1, math.ceil(wait / 60))
    response = render(
        request,
        "registration/too_many.html",
        {
            "title": title,
            "text": text,
            "wait": f"{minutes} minute{'s' if minutes > 1 else ''}",
            "next": request.GET.get("next") or request.POST.get("next") or "",
        },
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


def retry_after(count: int, number: int, window: int, slot: int) -> int | None:
    """The seconds to wait when `count` requests are over `number` in window `slot`, else None."""
    if count > number:
        return max(1, math.ceil((slot + 1) * window - time.time()))
    return None
