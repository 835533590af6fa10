"""GET through the SSRF guard of core.safe_http: the URL is vetted (public addresses only, or a
host in settings.WEBHOOK_ALLOWED_HOSTS), the connection goes to the checked address with the
original Host header and TLS server name, redirects are never followed, and at most `max_bytes`
of the answer are read. For provider lookups (Graph API profiles and templates) whose answer is
JSON."""

import json
import time

import httpx
from django.conf import settings

from core.safe_http import Result, UnsafeURL, _retry_after, check


def get(url: str, *, headers: dict, max_bytes: int = 262144, timeout: float = 10.0) -> Result:
    """GET `url` after vetting it. Never raises for network trouble: the Result says what
    happened (`status_code` None and `error` set when no answer came)."""
    started = time.monotonic()
    try:
        target = check(url)
    except UnsafeURL as exc:
        return Result(None, error=f"Refused: {exc}")
    address = target.addresses[0]
    literal = f"[{address}]" if ":" in address else address
    default_port = 443 if target.scheme == "https" else 80
    bare = f"[{target.host}]" if ":" in target.host else target.host
    host_header = bare if target.port == default_port else f"{bare}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    limit = httpx.Timeout(timeout, connect=min(timeout, settings.WEBHOOK_CONNECT_TIMEOUT))
    try:
        with httpx.Client(timeout=limit, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "GET",
                f"{target.scheme}://{literal}:{target.port}{target.path}",
                headers={**headers, "Host": host_header},
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            try:
                received = b""
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > max_bytes:
                        return Result(
                            response.status_code,
                            latency_ms=int((time.monotonic() - started) * 1000),
                            error=f"The answer is larger than {max_bytes} bytes.",
                        )
                    if time.monotonic() - started > timeout:
                        raise httpx.ReadTimeout("The response took too long.")
            finally:
                response.close()
            return Result(
                response.status_code,
                body=received,
                latency_ms=int((time.monotonic() - started) * 1000),
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
    except httpx.TimeoutException:
        error = "Timed out."
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:500]
    return Result(None, latency_ms=int((time.monotonic() - started) * 1000), error=error)


def json_of(result: Result) -> dict | None:
    """The answer's JSON object, or None when it is not one."""
    try:
        data = json.loads(result.body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def failure(result: Result, *, provider: str) -> str:
    """Words for a failed answer: the provider's `error.message` when it gave one (Graph API
    style), else the start of its body or the network error."""
    if result.status_code is None:
        return result.error or "no answer"
    data = json_of(result) or {}
    error = data.get("error")
    if not isinstance(error, dict):
        error = {}
    message = str(
        error.get("message") or result.error or result.body[:200].decode(errors="replace")
    )
    return f"{provider} answered {result.status_code}: {message}"[:500]
