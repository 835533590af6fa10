"""The browser pages for integrations: admins manage webhook endpoints, every user manages their
own API tokens. Same services as the API, so the same rules hold."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken
from integrations.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_for():
    def login(user):
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture
def admin_browser(browser_for, admin_user):
    return browser_for(admin_user)


def test_an_admin_creates_an_endpoint_and_sees_the_secret_only_once(admin_browser, receiver):
    response = admin_browser.post(
        "/settings/webhooks/",
        {
            "url": f"{receiver.url}/in",
            "events": ["message.created", "sla.breached"],
            "description": "CRM",
        },
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["message.created", "sla.breached"] and endpoint.enabled
    page = response.content.decode()
    assert endpoint.secret in page and "will not be shown again" in page
    assert "no-store" in response["Cache-Control"]
    listing = admin_browser.get("/settings/webhooks/").content.decode()
    assert f"{receiver.url}/in" in listing and endpoint.secret not in listing
    detail = admin_browser.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in detail


def test_an_inward_url_is_refused_with_a_readable_message_and_nothing_stored(admin_browser):
    response = admin_browser.post(
        "/settings/webhooks/", {"url": "http://169.254.169.254/latest", "events": ["sla.warning"]}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Not saved" in page and "url:" in page and "169.254.169.254" in page
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_without_event_types_is_refused_readably(admin_browser, receiver):
    response = admin_browser.post("/settings/webhooks/", {"url": f"{receiver.url}/in"})
    assert response.status_code == 400
    assert "Subscribe to at least one event type" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_admin_disables_and_enables_an_endpoint(admin_browser, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=3)
    response = admin_browser.post(f"/settings/webhooks/{endpoint.pk}/enabled/", {"enabled": "0"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    admin_browser.post(f"/settings/webhooks/{endpoint.pk}/enabled/", {"enabled": "1"})
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0


def test_send_test_shows_only_the_status_code(admin_browser, endpoint, receiver):
    receiver.respond(202, b"internal details")
    response = admin_browser.post(f"/settings/webhooks/{endpoint.pk}/test/", follow=True)
    page = response.content.decode()
    assert "answered 202" in page and "internal details" not in page
    assert len(receiver.requests) == 1


def test_deleting_an_endpoint_removes_it(admin_browser, endpoint):
    admin_browser.post(f"/settings/webhooks/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_escapes_a_hostile_response_body(admin_browser, endpoint, receiver, note):
    receiver.respond(500, b"<script>alert('owned')</script>")
    note()
    page = admin_browser.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert "message.created" in page and "500" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page


def test_replay_queues_the_delivery_again_with_the_same_webhook_id(
    admin_browser, endpoint, receiver, note, django_capture_on_commit_callbacks
):
    note()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = admin_browser.post(f"/settings/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0 and queued
    for callback in queued:
        callback()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.webhook_id] * 2


def test_replaying_a_time_range_needs_a_range_in_the_right_order(admin_browser, endpoint, note):
    note()
    response = admin_browser.post(
        f"/settings/webhooks/{endpoint.pk}/replay/",
        {"since": "2026-01-02T10:00", "until": "2026-01-01T10:00"},
        follow=True,
    )
    assert "until must be after since" in response.content.decode()
    response = admin_browser.post(
        f"/settings/webhooks/{endpoint.pk}/replay/",
        {"since": "2000-01-01T00:00", "until": "2100-01-01T00:00"},
        follow=True,
    )
    assert "1 delivery queued" in response.content.decode()
    assert WebhookDelivery.objects.get().status == "pending"


@pytest.mark.parametrize("who", ["agent", "lead", "viewer"])
def test_non_admins_cannot_reach_the_endpoint_pages_nor_see_the_link(
    request, browser_for, endpoint, who
):
    browser = browser_for(request.getfixturevalue(who))
    assert browser.get("/settings/webhooks/").status_code == 403
    assert browser.get(f"/settings/webhooks/{endpoint.pk}/").status_code == 403
    assert browser.post(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    page = browser.get("/settings/tokens/").content.decode()
    assert "/settings/webhooks/" not in page and "/settings/tokens/" in page


def test_the_header_links_admins_to_the_endpoints(admin_browser):
    assert "/settings/webhooks/" in admin_browser.get("/settings/tokens/").content.decode()


def test_a_user_creates_a_token_uses_it_and_revokes_it(browser_for, agent):
    browser = browser_for(agent)
    response = browser.post("/settings/tokens/", {"name": "CRM sync", "scopes": ["read"]})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    key = response.context["key"]
    assert "no-store" in response["Cache-Control"]
    assert (
        key in response.content.decode() and "will not be shown again" in response.content.decode()
    )
    assert token.key_hash == ApiToken.hash_key(key) and key not in token.key_hash
    assert token.scopes == ["read"] and token.prefix == key[:8]
    listing = browser.get("/settings/tokens/").content.decode()
    assert "CRM sync" in listing and key not in listing and key[:8] in listing
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/conversations/").status_code == 200
    assert browser.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/conversations/").status_code == 401


def test_a_token_needs_a_name_and_a_scope(browser_for, agent):
    response = browser_for(agent).post("/settings/tokens/", {"name": "", "scopes": ["root"]})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give the token a name" in page and "Choose at least one of read" in page
    assert not ApiToken.objects.exists()


def test_a_user_cannot_revoke_someone_elses_token(browser_for, agent, lead):
    browser_for(agent).post("/settings/tokens/", {"name": "mine", "scopes": ["read"]})
    token = ApiToken.objects.get()
    assert browser_for(lead).post(f"/settings/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert "mine" not in browser_for(lead).get("/settings/tokens/").content.decode()


def test_pages_change_nothing_on_get(browser_for, agent, admin_browser, endpoint):
    assert browser_for(agent).get("/settings/tokens/1/revoke/").status_code == 405
    assert admin_browser.get(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 405
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
