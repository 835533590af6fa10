"""Sentry is initialised from SENTRY_DSN and sends no personal data by default.

The DSN points at a local HTTP server standing in for Sentry: what the SDK posts there is what
would leave the building."""

import gzip
import os
import subprocess
import sys
import zlib
from pathlib import Path

from tests.support.http import LocalHTTPServer

ROOT = Path(__file__).resolve().parents[2]

# A request that fails with everything personal on it: a signed-in user's email, their IP, a
# session cookie, a form with an email address, and a local variable holding one.
SCRIPT = """
import types, django, sentry_sdk
from importlib import import_module
django.setup()
from django.conf import settings
from django.test import Client
from django.urls import path
from accounts.models import User

assert sentry_sdk.get_client().is_active(), "sentry was not initialised"

def boom(request):
    customer_email = "secret.customer@example.org"
    request.user = User(id=7, username="ada", email="ada.agent@example.org")
    raise RuntimeError("the view failed")

urls = types.ModuleType("boom_urls")
urls.urlpatterns = [path("boom/", boom), *import_module("config.urls").urlpatterns]
settings.ROOT_URLCONF = urls
client = Client(raise_request_exception=False, REMOTE_ADDR="198.51.100.23")
client.cookies["sessionid"] = "sess-cookie-9f8e7d"
response = client.post("/boom/", {"email": "form.field@example.org", "note": "hi"})
assert response.status_code == 500, response.status_code
sentry_sdk.flush(timeout=10)
"""


def decode(request) -> bytes:
    body = request.body
    encoding = request.headers.get("content-encoding", "")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    assert not encoding, f"unexpected encoding {encoding}"
    return body


def test_sentry_gets_the_error_and_nothing_personal(tmp_path):
    with LocalHTTPServer() as sentry:
        port = sentry.url.rsplit(":", 1)[1].strip("/")
        env = {
            **os.environ,
            "SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/42",
            "SWITCHBOARD_DATA_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        posted = [r for r in sentry.requests if r.path.startswith("/api/42/envelope/")]
    assert posted, "nothing reached the Sentry server"
    sent = b"\n".join(decode(r) for r in posted)
    assert b"the view failed" in sent and b"RuntimeError" in sent
    assert b"/boom/" in sent  # the request was described...
    for personal in [  # ...without anything that identifies a person
        b"ada.agent@example.org",
        b"198.51.100.23",
        b"sess-cookie-9f8e7d",
        b"form.field@example.org",
        b"secret.customer@example.org",
    ]:
        assert personal not in sent, personal
