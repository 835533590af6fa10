"""core.safe_get: a GET through the SSRF guard, against a local HTTP server (allowed by name)."""

import pytest

from core import safe_get


@pytest.fixture
def allowed(settings, http_server):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return http_server


def test_a_get_returns_the_answer_and_sends_the_headers(allowed):
    allowed.respond(200, {"name": "Dana"})
    result = safe_get.get(f"{allowed.url}/v1/me?fields=name", headers={"Authorization": "Bearer t"})
    assert result.status_code == 200 and safe_get.json_of(result) == {"name": "Dana"}
    [request] = allowed.requests
    assert (request.method, request.path) == ("GET", "/v1/me?fields=name")
    assert request.headers["authorization"] == "Bearer t"
    assert request.headers["host"] == allowed.url.removeprefix("http://")


def test_an_internal_address_is_refused_without_a_connection(settings, http_server):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    result = safe_get.get(f"{http_server.url}/x", headers={})
    assert result.status_code is None and "internal address" in result.error
    assert not http_server.requests


def test_an_answer_over_the_cap_is_not_kept(allowed):
    allowed.respond(200, b"x" * 5000)
    result = safe_get.get(f"{allowed.url}/big", headers={}, max_bytes=1000)
    assert result.body == b"" and "larger than 1000 bytes" in result.error


def test_a_redirect_is_not_followed(allowed):
    allowed.respond(302, b"", headers={"Location": "http://169.254.169.254/latest/meta-data"})
    result = safe_get.get(f"{allowed.url}/moved", headers={})
    assert result.status_code == 302 and len(allowed.requests) == 1


def test_failure_words_use_the_providers_message():
    result = safe_get.Result(400, body=b'{"error": {"message": "(#100) Bad field", "code": 100}}')
    assert safe_get.failure(result, provider="Meta") == "Meta answered 400: (#100) Bad field"
    assert safe_get.failure(safe_get.Result(None, error="Timed out."), provider="Meta") == (
        "Timed out."
    )
