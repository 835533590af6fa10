"""Outbound HTTP to URLs that users typed (outbound webhooks, the API channel's callback_url),
safe against server-side request forgery.

A URL is checked when it is saved and again right before each connection: the host is resolved
(`resolve()`), every address must be public, and the request then goes to the checked address
with the original Host header and TLS server name, so a DNS answer that changes between the check
and the connection (rebinding) cannot steer it inward. Redirects are never followed.

Refused: loopback, private, shared (100.64/10), link-local (including the 169.254.169.254 cloud
metadata address), unique-local, multicast, unspecified (0.0.0.0, ::), reserved, and every IPv6 form
that embeds an IPv4 address of these (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d,
IPv4-translated ::ffff:0:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16): the embedded address is
the one checked. Local-use NAT64 (64:ff9b:1::/48) and the 6to4 relay anycast (192.88.99.0/24)
are refused outright. settings.WEBHOOK_ALLOWED_HOSTS names hosts an admin allows anyway
(tests allow "127.0.0.1" this way to reach their local receivers).

fetch() downloads a file the same way (customers' media: inbox/intake/media.py), from hosts on
an allow-list only, up to a size cap, following a few redirects, each hop checked again.

Name resolution goes through settings.WEBHOOK_DNS_OVERRIDES ({"host": ["ip", ...]}) before the
system resolver; tests point names at fixed addresses with it, and an operator can pin a name.
"""

import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeURL(ValueError):
    """The URL may not be called: wrong scheme, no host, or an address that is not public."""


@dataclass
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: list[str]


@dataclass
class Result:
    status_code: int | None
    body: bytes = b""
    latency_ms: int = 0
    error: str = ""
    retry_after: float | None = None


def resolve(host: str, port: int) -> list[str]:
    overrides = getattr(settings, "WEBHOOK_DNS_OVERRIDES", {}) or {}
    if host in overrides:
        return list(overrides[host])
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(_("The host %(host)s does not resolve.") % {"host": host}) from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# IPv6 forms that carry an IPv4 address a router or the kernel may deliver to: the embedded
# address is the one checked. (Teredo, 2001::/32, is not global and refused as it is.)
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address in the last 32 bits
SIIT = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 "IPv4-translated": ::ffff:0:a.b.c.d
COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291 "IPv4-compatible" (deprecated): ::a.b.c.d
# Refused whatever they carry: local-use NAT64 (RFC 8215; where the IPv4 address sits is the
# operator's choice) and the 6to4 relay anycast (RFC 7526, deprecated), which Python calls global.
NEVER = (ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("192.88.99.0/24"))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64, SIIT, compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in (NAT64, SIIT, COMPATIBLE)):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        ip = embedded_ipv4(ip) or ip
    return any(ip in network for network in NEVER) or ip.is_multicast or not ip.is_global


def check(url: str) -> Target:
    """Resolve and vet `url`; raise UnsafeURL with a message fit for the admin who typed it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(_("The URL is not valid.")) from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(_("Only http and https URLs can be called."))
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeURL(_("The URL has no host."))
    if parts.username or parts.password:
        raise UnsafeURL(_("Put credentials in the secret, not in the URL."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host, port)
    if not addresses:
        raise UnsafeURL(_("The host %(host)s does not resolve.") % {"host": host})
    allowed = {h.lower() for h in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", [])}
    if host not in allowed:
        for address in addresses:
            if forbidden(address):
                raise UnsafeURL(
                    _(
                        "%(host)s resolves to %(address)s, an internal address; we only call "
                        "public hosts (an admin can allow named hosts in WEBHOOK_ALLOWED_HOSTS)."
                    )
                    % {"host": host, "address": address}
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def post(url: str, *, body: bytes, headers: dict) -> Result:
    """POST `body` to `url` after vetting it. Never raises for network trouble: the Result says
    what happened. Reads at most WEBHOOK_MAX_RESPONSE_BYTES of the answer."""
    started = time.monotonic()
    try:
        target = check(url)
    except UnsafeURL as exc:
        return Result(None, error=f"Refused: {exc}")
    address = target.addresses[0]
    literal = f"[{address}]" if ":" in address else address
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:
        host_header = f"[{target.host}]" + (
            "" if target.port == default_port else f":{target.port}"
        )
    total = settings.WEBHOOK_TIMEOUT
    timeout = httpx.Timeout(total, connect=settings.WEBHOOK_CONNECT_TIMEOUT)
    cap = settings.WEBHOOK_MAX_RESPONSE_BYTES
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST",
                f"{target.scheme}://{literal}:{target.port}{target.path}",
                content=body,
                headers={**headers, "Host": host_header},
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            try:
                received = b""
                for chunk in response.iter_raw():
                    received += chunk
                    if len(received) >= cap:
                        break
                    if time.monotonic() - started > total:
                        raise httpx.ReadTimeout("The response took too long.")
            finally:
                response.close()
            return Result(
                response.status_code,
                body=received[:cap],
                latency_ms=int((time.monotonic() - started) * 1000),
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
    except httpx.TimeoutException:
        error = "Timed out."
    except httpx.HTTPError as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:500]
    return Result(None, latency_ms=int((time.monotonic() - started) * 1000), error=error)


@dataclass
class Fetched:
    """What fetch() got: the body of a 2xx, or why not. `refused`: nothing was sent, or the
    answer was dropped (host not allowed, internal address, over the size cap): trying again
    cannot help."""

    status_code: int | None
    body: bytes = b""
    content_type: str = ""
    error: str = ""
    refused: bool = False
    retry_after: float | None = None


REDIRECTS = (301, 302, 303, 307, 308)


@functools.cache
def _tls() -> ssl.SSLContext:
    # Building the context (loading the CA bundle) costs ~60 ms: once per process, not per call.
    return httpx.create_ssl_context()


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """Whether `host` is one of `allowed` or a subdomain of one ("fbcdn.net" allows
    "scontent.xx.fbcdn.net")."""
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower().strip().strip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def fetch(
    url: str,
    *,
    allowed_hosts: Iterable[str],
    max_bytes: int,
    timeout: float,
    headers: dict | None = None,
    max_redirects: int = 3,
) -> Fetched:
    """GET `url` from a host on `allowed_hosts` whose addresses pass check(); read at most
    `max_bytes` of the (decoded) body. Redirects are followed up to `max_redirects` times, each
    target checked the same way; credentials in `headers` go only to the first URL's host.
    Never raises for network trouble: the Fetched says what happened."""
    allowed = list(allowed_hosts)
    first_host = (urlsplit(url).hostname or "").lower()
    started = time.monotonic()
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout, connect=settings.WEBHOOK_CONNECT_TIMEOUT),
            follow_redirects=False,
            trust_env=False,
            verify=_tls(),
        ) as client:
            for _ in range(max_redirects + 1):
                host = (urlsplit(url).hostname or "").lower()
                if not host_allowed(host, allowed):
                    return Fetched(
                        None,
                        error=f"Refused: {host or 'the URL'} is not a media host we fetch from "
                        "(MEDIA_ALLOWED_HOSTS).",
                        refused=True,
                    )
                try:
                    target = check(url)
                except UnsafeURL as exc:
                    return Fetched(None, error=f"Refused: {exc}", refused=True)
                sent = dict(headers or {}) if host == first_host else {}
                response = client.send(_request(client, "GET", target, sent), stream=True)
                try:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECTS and location:
                        url = urljoin(url, location)
                        continue
                    return _read(response, max_bytes=max_bytes, started=started, limit=timeout)
                finally:
                    response.close()
            return Fetched(None, error=f"More than {max_redirects} redirects.", refused=True)
    except httpx.TimeoutException:
        return Fetched(None, error="Timed out.")
    except httpx.HTTPError as exc:
        return Fetched(None, error=f"{exc.__class__.__name__}: {exc}"[:500])


def _request(client: httpx.Client, method: str, target: Target, headers: dict) -> httpx.Request:
    """A request to the checked address, with the original Host header and TLS server name."""
    address = target.addresses[0]
    literal = f"[{address}]" if ":" in address else address
    default_port = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    host_header = host if target.port == default_port else f"{host}:{target.port}"
    return client.build_request(
        method,
        f"{target.scheme}://{literal}:{target.port}{target.path}",
        headers={**headers, "Host": host_header},
        extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
    )


def _read(response: httpx.Response, *, max_bytes: int, started: float, limit: float) -> Fetched:
    status = response.status_code
    if status >= 300:
        return Fetched(
            status,
            error=f"The server answered {status}.",
            retry_after=_retry_after(response.headers.get("retry-after")),
        )
    too_large = Fetched(
        status, error=f"The file is larger than the {max_bytes:,}-byte limit.", refused=True
    )
    try:
        if int(response.headers.get("content-length") or 0) > max_bytes:
            return too_large
    except ValueError:
        pass
    chunks, received = [], 0
    for chunk in response.iter_bytes():
        received += len(chunk)
        if received > max_bytes:
            return too_large
        chunks.append(chunk)
        if time.monotonic() - started > limit:
            raise httpx.ReadTimeout("The download took too long.")
    return Fetched(
        status, body=b"".join(chunks), content_type=response.headers.get("content-type", "")
    )
