"""Customers' media in the ingestion steps (issue 21): one message in MEDIA_EVERY carries a file.

The webhook step's API messages reference a PNG by URL on a local HTTP server run here (the
worker downloads it through core.safe_http, as it would a Twilio or Messenger URL); the email
step's mails carry the same PNG as a MIME attachment (mail brings its files inside; nothing to
download). measured() reports the media files downloaded per second: from the first such
attachment stored as pending to the last download finished (its message.updated event).
"""

import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

MEDIA_EVERY = 10


def png() -> bytes:
    """A 64x64 PNG of one colour (~150 bytes: what is measured is the round trip, not bytes)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((30, 120, 200)) * 64
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * 64))
        + chunk(b"IEND", b"")
    )


PNG = png()


class MediaServer:
    """Serves PNG for any GET on 127.0.0.1 (a provider's media host), counting requests."""

    def __init__(self):
        self.served = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.served += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def serving(stack, *, enabled: bool):
    """Run the media server for the stack's load steps (stack.media_url; "" when disabled). The
    served processes may fetch from it: an internal address, which the guard refuses unless
    allowed by name."""
    stack.media_url = ""
    stack.env.update({"MEDIA_ALLOWED_HOSTS": "127.0.0.1", "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"})
    if not enabled:
        yield
        return
    with MediaServer() as server:
        stack.media_url = server.url
        yield


def load_args(stack) -> list[str]:
    media_url = getattr(stack, "media_url", "")
    return ["--media-url", media_url] if media_url else []


def downloaded(stack, *, since_id: int, quick: bool) -> dict:
    if not getattr(stack, "media_url", ""):
        return {}
    return wait_downloaded(stack.database_url, since_id=since_id, timeout=60 if quick else 300)


def table_rows(name: str, result: dict) -> list[tuple[str, str]]:
    if "attachments" not in result:
        return []
    if not (result["media_downloaded"] or result["media_pending"] or result["media_unavailable"]):
        return [(f"{name}: files attached (stored with the mail)", str(result["attachments"]))]
    return [
        (
            f"{name}: media downloaded/s (done, pending, unavailable)",
            f"{result['media_downloaded_per_s']} ({result['media_downloaded']}, "
            f"{result['media_pending']}, {result['media_unavailable']})",
        )
    ]


def last_attachment_id(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT coalesce(max(id), 0) FROM inbox_attachment").fetchone()[0]


def wait_downloaded(database_url: str, *, since_id: int, timeout: float) -> dict:
    """Wait until no attachment after `since_id` is pending; count what was stored, downloaded
    and left unavailable, and the download rate."""
    deadline = time.monotonic() + timeout
    query = (
        "SELECT count(*), count(*) FILTER (WHERE state = 'pending'), "
        "count(*) FILTER (WHERE state = 'unavailable'), "
        "count(*) FILTER (WHERE source <> '' AND state = 'stored'), "
        "count(*) FILTER (WHERE state = 'stored' AND size = %s), min(created_at) "
        "FILTER (WHERE source <> '') FROM inbox_attachment WHERE id > %s"
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            total, pending, unavailable, downloaded, right_size, first = conn.execute(
                query, [len(PNG), since_id]
            ).fetchone()
            if pending == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        last = (
            conn.execute(
                "SELECT max(created_at) FROM inbox_event WHERE type = 'message.updated' "
                "AND created_at >= %s AND payload ? 'attachment'",
                [first],
            ).fetchone()[0]
            if first
            else None
        )
        reasons = conn.execute(
            "SELECT unavailable_reason, count(*) FROM inbox_attachment WHERE id > %s "
            "AND state = 'unavailable' GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
            [since_id],
        ).fetchall()
    span = (last - first).total_seconds() if first and last else None
    return {
        "attachments": total,
        "media_downloaded": downloaded,
        "media_pending": pending,
        "media_unavailable": unavailable,
        "unavailable_reasons": dict(reasons),
        "attachments_with_the_served_size": right_size,
        "media_downloaded_per_s": round(downloaded / span, 1) if span and downloaded else None,
    }
