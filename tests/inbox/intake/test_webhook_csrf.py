import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def webhook_paths():
    resolver = get_resolver()
    [webhooks] = [
        p
        for p in resolver.url_patterns
        if isinstance(p, URLResolver) and str(p.pattern) == "webhooks/"
    ]
    for pattern in webhooks.url_patterns:
        if isinstance(pattern, URLPattern):
            yield "/webhooks/" + str(pattern.pattern).replace("<slug:channel>", "nope")


@pytest.mark.parametrize("path", list(webhook_paths()))
def test_no_webhook_answers_a_provider_with_a_csrf_403(path):
    """The test client skips CSRF by default; real providers do not send our cookie."""
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, data=b"{}", content_type="application/json")
    assert response.status_code != 403 or b"CSRF" not in response.content
    assert response.status_code == 404  # the unknown channel, not a CSRF refusal
