"""The load generator, run as its own process: N concurrent clients posting signed requests for
a fixed time or count over kept-alive connections (raw asyncio streams on uvloop, requests signed
ahead of time). Prints one JSON line: requests, errors, elapsed, latencies, the client's CPU."""

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

MEDIA_EVERY = 10  # as benchmarks.media (not imported: this process stays light)


def sign_api(secret: str, body: bytes) -> str:
    t = int(time.time())
    return (
        f"t={t},v1="
        + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    )


def api_request(secret: str, n: int, media_url: str = ""):
    message = {
        "id": f"bench-{uuid.uuid4().hex}",
        "sender": {"id": f"customer-{n % 5000}", "name": f"Customer {n % 5000}"},
        "text": f"Benchmark message {n}: my invoice export fails with an error, could you help?",
        "thread": f"thread-{n % 20000}",
    }
    if media_url and n % MEDIA_EVERY == 0:  # a file the worker downloads after storing it
        message["attachments"] = [
            {"name": "screenshot", "content_type": "image/png", "url": f"{media_url}/m/{n}.png"}
        ]
    body = json.dumps(message).encode()
    return body, {"Content-Type": "application/json", "X-Signature": sign_api(secret, body)}


def email_corpus() -> list[bytes]:
    folder = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "emails"
    return [p.read_bytes() for p in sorted(folder.glob("*.eml"))]


def mail_with_media(n: int) -> bytes:
    """A reply with a screenshot attached, as a mail client sends it."""
    from email.message import EmailMessage

    from benchmarks.media import PNG

    mail = EmailMessage()
    mail["From"] = f"Customer {n % 5000} <customer-{n % 5000}@bench.example>"
    mail["To"] = "help@support.example.com"
    mail["Subject"] = f"Screenshot of the error {n}"
    mail.set_content("Here is what I see when the export fails.")
    mail.add_attachment(PNG, maintype="image", subtype="png", filename="screenshot.png")
    return mail.as_bytes()


def email_request(secret: str, n: int, corpus: list[bytes], media: bool = False):
    import re

    raw = mail_with_media(n) if media and n % MEDIA_EVERY == 0 else corpus[n % len(corpus)]
    unique = f"bench-{uuid.uuid4().hex}@bench.example"
    # Give every mail its own Message-ID so each is a new message, not a duplicate.
    if re.search(rb"(?im)^message-id:", raw):
        raw = re.sub(
            rb"(?im)^message-id:[^\r\n]*", f"Message-ID: <{unique}>".encode(), raw, count=1
        )
    else:
        raw = f"Message-ID: <{unique}>\r\n".encode() + raw
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "message/rfc822", "X-Signature": f"sha256={digest}"}


def prepared(url: str, body: bytes, headers: dict) -> bytes:
    """One HTTP/1.1 request as the bytes put on the wire (keep-alive)."""
    parts = urlsplit(url)
    lines = [
        f"POST {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Requests:
    """Requests built and signed ahead of the clock, in chunks (signatures stay valid for
    five minutes), so the client spends its CPU on sending, not on JSON and HMAC."""

    CHUNK = 2000

    def __init__(self, url: str, kind: str, secret: str, planned: int, media_url: str = ""):
        self.url, self.kind, self.secret, self.media_url = url, kind, secret, media_url
        self.corpus = email_corpus() if kind == "email" else []
        self.built: list[bytes] = []
        self.extend(planned)

    def extend(self, count: int) -> None:
        start = len(self.built)
        for n in range(start, start + count):
            body, headers = (
                api_request(self.secret, n, self.media_url)
                if self.kind == "api"
                else email_request(self.secret, n, self.corpus, media=bool(self.media_url))
            )
            self.built.append(prepared(self.url, body, headers))

    def __getitem__(self, n: int) -> bytes:
        if n >= len(self.built):
            self.extend(self.CHUNK)
        return self.built[n]


async def exchange(reader, writer, request: bytes) -> int:
    """Send one request on a kept-alive connection and read the whole response: its status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def run(
    url: str,
    kind: str,
    secret: str,
    concurrency: int,
    seconds: float,
    count: int,
    media_url: str = "",
) -> dict:
    """Concurrent clients on raw asyncio streams, each with one kept-alive connection (a new one
    after an error). Reports the client's own CPU per request too: at 1,000 requests/s a client
    built on a full HTTP library would take a core of the machine under test."""
    requests = Requests(url, kind, secret, count or int(seconds * AHEAD_PER_SECOND), media_url)
    parts = urlsplit(url)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = {"n": 0}

    async def client_loop():
        connection = None
        while True:
            n = counter["n"]
            if (count and n >= count) or (stop_at and time.monotonic() >= stop_at):
                break
            counter["n"] += 1
            request = requests[n]
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = await asyncio.open_connection(parts.hostname, parts.port or 80)
                status = await asyncio.wait_for(exchange(*connection, request), 30)
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                status = exc.__class__.__name__
                if connection is not None:
                    connection[1].close()
                connection = None
            latencies.append(time.perf_counter() - started)
            if not (isinstance(status, int) and 200 <= status < 300):
                errors[str(status)] = errors.get(str(status), 0) + 1
        if connection is not None:
            connection[1].close()

    cpu_before = time.process_time()
    began = time.perf_counter()
    stop_at = began + seconds if seconds else None
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_before
    latencies.sort()

    def pct(p):
        return (
            round(1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 1)
            if latencies
            else None
        )

    return {
        "requests": len(latencies),
        "errors": errors,
        "elapsed_s": round(elapsed, 2),
        "accepted_per_s": round((len(latencies) - sum(errors.values())) / elapsed, 1),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "client_cpu_ms_per_request": round(1000 * cpu / len(latencies), 3) if latencies else None,
    }


AHEAD_PER_SECOND = 1500  # requests built before a timed run, per second of it


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--kind", choices=["api", "email"], required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument(
        "--media-url",
        default="",
        help=f"one message in {MEDIA_EVERY} with a file (API: a URL under this; mail: attached)",
    )
    args = parser.parse_args()
    result = uvloop.run(
        run(
            args.url,
            args.kind,
            args.secret,
            args.concurrency,
            args.seconds,
            args.count,
            args.media_url,
        )
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
