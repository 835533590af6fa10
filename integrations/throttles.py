"""Rate limits, counted in the Django cache (Redis when configured, so every process shares
the counts). Rates live in settings.API_THROTTLE_RATES and are read on each request.

- `token`: per API token; `user`: per signed-in user (session); `anon`: per IP without auth.
- `anon` also counts API requests that failed authentication per IP (RateLimitMiddleware); a
  valid token or session is never refused by it.
- `login`, `login_failures`, `password_reset`: the login lockout and the reset limit, in
  accounts/lockout.py (the authentication backend, so every login page shares them).
- `inbound`: inbound webhooks per (channel, IP), checked in inbox.intake.doors.http.receive.
Over the limit: 429 with Retry-After.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.lockout import REFUSED_FOR
from accounts.models import ApiToken
from core.ratelimit import over_rate, too_many, too_many_for


class _SettingsRate(SimpleRateThrottle):
    """A fixed window counted like every other limit of the product (core.ratelimit: one INCR
    on the process's shared Redis client), not DRF's sliding history, which read and rewrote a
    pickled list of up to N timestamps through a cache object built per request: two round
    trips and ~1 ms on every API call of a busy agent."""

    wait_for: int | None = None

    def get_rate(self):
        return settings.API_THROTTLE_RATES.get(self.scope)

    def __init__(self):
        self.rate = self.get_rate()

    def allow_request(self, request, view):
        key = self.get_cache_key(request, view)
        if key is None or not self.rate:
            return True
        self.wait_for = over_rate(key, self.rate)  # None also when the cache is unreachable
        return self.wait_for is None

    def wait(self):
        return self.wait_for


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


class RateLimitMiddleware:
    """What DRF throttles cannot see. A login that the lockout refused (accounts/lockout.py marks
    the request) is answered 429 wherever it was made. API requests that failed authentication
    (a missing or guessed token answered 401, which DRF decides before its throttles run) count
    per IP at the `anon` rate, and over it answer 429: only the failed ones, so a valid token or
    session from the same address is never held back by someone else's guessing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        wait = getattr(request, REFUSED_FOR, None)
        if wait:  # a person at the login page reads a page in words, a script gets JSON
            return too_many_for(
                request,
                wait,
                title="Too many login attempts",
                text="Logging in is paused for a while after several failed attempts, to keep "
                "the account safe (even the right password is refused until then).",
            )
        if response.status_code == 401 and request.path.startswith("/api/"):
            ip = request.META.get("REMOTE_ADDR", "")
            wait = over_rate(f"anon:{ip}", settings.API_THROTTLE_RATES.get("anon"))
            if wait:
                return too_many(wait)
        return response
