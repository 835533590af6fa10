"""Calling a provider's HTTP API from a sender, with one mapping of failures:
network errors, 429 and 5xx are transient (retried, honouring Retry-After); other 4xx are
permanent. Only URLs under configured provider base URLs are ever called."""

import re
from collections.abc import Callable

import httpx

from inbox.outbound.senders import PermanentSendError, TransientSendError

TIMEOUT = httpx.Timeout(15.0, connect=5.0)

# Ids and tokens put into a provider URL's path: nothing that could leave the intended path.
SEGMENT = re.compile(r"[A-Za-z0-9_=+:-][A-Za-z0-9_.=+:-]{0,255}")


def path_segment(value, *, what: str) -> str:
    """`value` as one URL path segment, or PermanentSendError when it could be more than one."""
    value = str(value)
    if not SEGMENT.fullmatch(value):
        raise PermanentSendError(f"{what} {value[:40]!r} is not a valid id")
    return value


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the provider asks us to wait: the Retry-After header, or Telegram's
    `parameters.retry_after` in the body (https://core.telegram.org/bots/api#responseparameters)."""
    value = response.headers.get("Retry-After", "")
    if not value:
        try:
            value = response.json()["parameters"]["retry_after"]
        except (ValueError, KeyError, TypeError):
            return None
    try:
        return max(float(value), 0.0)
    except (TypeError, ValueError):
        return None


def call(
    method: str,
    url: str,
    *,
    provider: str,
    throttled: Callable[[httpx.Response], bool] | None = None,
    **kwargs,
) -> httpx.Response:
    """Send one request; return the response when it is a 2xx, else raise a SendError.
    `throttled` spots a provider's rate limiting answered with a plain 4xx (Meta does this)."""
    try:
        response = httpx.request(method, url, timeout=TIMEOUT, follow_redirects=False, **kwargs)
    except httpx.HTTPError as exc:
        raise TransientSendError(f"{provider}: {exc.__class__.__name__}: {exc}") from exc
    if (
        response.status_code == 429
        or response.status_code >= 500
        or (response.status_code >= 400 and throttled is not None and throttled(response))
    ):
        raise TransientSendError(
            f"{provider} answered {response.status_code}: {response.text[:300]}",
            retry_after=retry_after(response),
        )
    if response.status_code >= 300:
        raise PermanentSendError(
            f"{provider} answered {response.status_code}: {response.text[:300]}"
        )
    return response


def json_body(response: httpx.Response, *, provider: str) -> dict:
    try:
        data = response.json()
    except ValueError as exc:
        raise PermanentSendError(f"{provider} answered with a body that is not JSON") from exc
    if not isinstance(data, dict):
        raise PermanentSendError(f"{provider} answered with an unexpected body")
    return data


def latest_inbound(conversation):
    """The customer's latest message in the conversation: replies go back the way it came."""
    return (
        conversation.messages.filter(direction="in", kind="message")
        .order_by("-created_at", "-id")
        .first()
    )
