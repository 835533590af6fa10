"""The login lockout and the password reset limit. The lockout sits in the authentication backend,
so every way to log in shares it: the app's /login/, /admin/login/, and anything else that calls
django.contrib.auth.authenticate(). Rates are settings.API_THROTTLE_RATES, counted in the shared
cache (core/ratelimit.py):

- `login`: attempts per IP, whatever the username;
- `login_failures`: attempts per account (the username typed, whether or not it exists), from
  every address together, counted before the password is checked so that attempts made side by
  side cannot overtake the count. Over it, the account is refused until the window ends, even
  with the right password: a locked attempt tells nothing. A successful login clears the count;
- `password_reset`: reset requests per IP and per email address.

A refused login makes authenticate() return None and marks the request; RateLimitMiddleware
(integrations/throttles.py) turns the marked response into a 429 with Retry-After.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from core.ratelimit import forget, hashed, over_rate

# The request attribute holding the seconds a refused login must wait (read by the middleware).
REFUSED_FOR = "login_refused_for"


def _address(request: HttpRequest | None) -> str:
    # Django's test client logs in through a bare HttpRequest with no address: no IP to count.
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""


def _account_key(username: str) -> str:
    return f"login-failures:{hashed(username)}"


def login_refused_for(request: HttpRequest | None, username: str) -> int | None:
    """Count an attempt against its IP; the seconds to wait when the IP or the account is over
    its limit, else None."""
    rates = settings.API_THROTTLE_RATES
    ip = _address(request)
    if ip:
        wait = over_rate(f"login:{ip}", rates.get("login"))
        if wait:
            return wait
    # Counted before the password is checked, atomically (INCR): attempts made side by side
    # each take a place in the window, so a burst from many addresses gets no more guesses
    # than the limit. A successful login gives the owner's places back (unlock_login).
    return over_rate(_account_key(username), rates.get("login_failures"))


def unlock_login(username: str) -> bool:
    """Lift an account's lockout (the failures counted in the current window); False when the
    cache is unreachable."""
    rate = settings.API_THROTTLE_RATES.get("login_failures")
    return forget(_account_key(username), rate) if rate else True


def password_reset_refused_for(request: HttpRequest, email: str) -> int | None:
    """Count a reset request against its IP and the address it names; the seconds to wait when
    either is over the `password_reset` rate, else None. Addresses without an account count too,
    so a refusal says nothing about who has one."""
    rate = settings.API_THROTTLE_RATES.get("password_reset")
    ip = _address(request)
    if ip:
        wait = over_rate(f"password-reset:{ip}", rate)
        if wait:
            return wait
    return over_rate(f"password-reset:{hashed(email)}", rate)


class LockoutModelBackend(ModelBackend):
    """ModelBackend behind the login limits (the only backend configured)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        wait = login_refused_for(request, str(username))
        if wait:
            if request is not None:
                setattr(request, REFUSED_FOR, wait)
            raise PermissionDenied  # authenticate() stops: no backend checks the password
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:  # the owner got in: earlier typos no longer bring a lockout closer
            unlock_login(str(username))
        return user
