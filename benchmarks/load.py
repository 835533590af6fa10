"""The load generator, run as its own process: N concurrent clients posting signed requests for
a fixed time or count. Prints one JSON line: requests, errors, elapsed, latencies."""

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
import uuid
from pathlib import Path

import httpx


def sign_api(secret: str, body: bytes) -> str:
    t = int(time.time())
    return (
        f"t={t},v1="
        + hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    )


def api_request(secret: str, n: int):
    body = json.dumps(
        {
            "id": f"bench-{uuid.uuid4().hex}",
            "sender": {"id": f"customer-{n % 5000}", "name": f"Customer {n % 5000}"},
            "text": f"Benchmark message {n}: my invoice export fails with an error, could you help?",
            "thread": f"thread-{n % 20000}",
        }
    ).encode()
    return body, {"Content-Type": "application/json", "X-Signature": sign_api(secret, body)}


def email_corpus() -> list[bytes]:
    folder = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "emails"
    return [p.read_bytes() for p in sorted(folder.glob("*.eml"))]


def email_request(secret: str, n: int, corpus: list[bytes]):
    import re

    raw = corpus[n % len(corpus)]
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


async def run(
    url: str, kind: str, secret: str, concurrency: int, seconds: float, count: int
) -> dict:
    corpus = email_corpus() if kind == "email" else []
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = {"n": 0}
    stop_at = time.monotonic() + seconds if seconds else None
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client):
        while True:
            n = counter["n"]
            if (count and n >= count) or (stop_at and time.monotonic() >= stop_at):
                return
            counter["n"] += 1
            body, headers = (
                api_request(secret, n) if kind == "api" else email_request(secret, n, corpus)
            )
            started = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
                status = response.status_code
            except httpx.HTTPError as exc:
                status = exc.__class__.__name__
            latencies.append(time.perf_counter() - started)
            if not (isinstance(status, int) and 200 <= status < 300):
                errors[str(status)] = errors.get(str(status), 0) + 1

    began = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
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
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--kind", choices=["api", "email"], required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()
    result = asyncio.run(
        run(args.url, args.kind, args.secret, args.concurrency, args.seconds, args.count)
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
