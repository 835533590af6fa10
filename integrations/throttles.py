"""Rate limits, counted in the Django cache (Redis when configured, so every process shares
the counts). Rates live in settings.API_THROTTLE_RATES and are read on each request.

- `token`: per API token; `user`: per signed-in user (session); `anon`: per IP without auth.
- `login`: POSTs to the login page per IP, and `anon` also counts API requests that failed
  authentication per IP (RateLimitMiddleware).
- `login_failures`: failed logins per (username, IP); over it, that username is refused from
  that IP until the window ends, even with the right password (a guesser learns nothing).
- `inbound`: inbound webhooks per (channel, IP), checked in inbox.intake.doors.http.receive.
Over the limit: 429 with Retry-After.
"""

import functools
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.urls import reverse
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken
from core.ratelimit import CACHE_DOWN, counter_key, over_rate, rate_window, retry_after


class _SettingsRate(SimpleRateThrottle):
    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def __init__(self):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except CACHE_DOWN:  # no counter to read: let the request through (see over_rate)
            return True


class TokenRateThrottle(_SettingsRate):
    scope = "token"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None


class UserRateThrottle(_SettingsRate):
    scope = "user"

    def get_cache_key(self, request, view):
        if request.user.is_authenticated and not isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
        return None


class AnonRateThrottle(_SettingsRate):
    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def too_many(wait: int, code: str = "rate_limited") -> JsonResponse:
    response = JsonResponse(
        {"code": code, "detail": f"Too many requests; retry in {wait} s."}, status=429
    )
    response["Retry-After"] = str(wait)
    return response


def _waiting(key: str, rate: str | None) -> int | None:
    """Like over_rate() without counting: the wait when the window is already full."""
    if not rate:
        return None
    number, window, slot = rate_window(rate)
    try:
        count = cache.get(counter_key(key, slot)) or 0
    except CACHE_DOWN:
        return None
    return retry_after(count + 1, number, window, slot)  # would the next request be over?


@functools.cache
def _login_path() -> str:
    return reverse("login")


class RateLimitMiddleware:
    """Per-IP limits DRF throttles cannot see: login POSTs (`login` rate), and API requests that
    failed authentication (`anon` rate: a missing or guessed token answered 401), which DRF
    rejects before its throttles run."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ip = request.META.get("REMOTE_ADDR", "")
        rates = settings.API_THROTTLE_RATES
        if request.method == "POST" and request.path == _login_path():
            wait = over_rate(f"login:{ip}", rates.get("login"))
            if wait:
                return too_many(wait)
            username = str(request.POST.get("username", "")).strip().lower()[:150]
            hashed = hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]
            failures = f"login-failures:{hashed}:{ip}"
            wait = _waiting(failures, rates.get("login_failures"))
            if wait:
                return too_many(wait)
            response = self.get_response(request)
            if response.status_code == 200:  # the form again: wrong credentials
                over_rate(failures, rates.get("login_failures"))
            return response
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        wait = _waiting(f"anon:{ip}", rates.get("anon"))
        if wait:
            return too_many(wait)
        response = self.get_response(request)
        if response.status_code == 401:
            over_rate(f"anon:{ip}", rates.get("anon"))
        return response
