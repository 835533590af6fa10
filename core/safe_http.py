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

Name resolution goes through settings.WEBHOOK_DNS_OVERRIDES ({"host": ["ip", ...]}) before the
system resolver; tests point names at fixed addresses with it, and an operator can pin a name.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings


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
        raise UnsafeURL(f"The host {host} does not resolve.") from exc
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
        raise UnsafeURL("The URL is not valid.") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("Only http and https URLs can be called.")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeURL("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("Put credentials in the secret, not in the URL.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host, port)
    if not addresses:
        raise UnsafeURL(f"The host {host} does not resolve.")
    allowed = {h.lower() for h in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", [])}
    if host not in allowed:
        for address in addresses:
            if forbidden(address):
                raise UnsafeURL(
                    f"{host} resolves to {address}, an internal address; we only call public "
                    "hosts (an admin can allow named hosts in WEBHOOK_ALLOWED_HOSTS)."
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
