"""The admin API for webhook endpoints: secrets shown once, the delivery log, replay, test."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations import signing
from integrations.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(client_for, admin_user):
    return client_for(admin_user)


def test_an_admin_creates_an_endpoint_and_sees_the_generated_secret_once(admin_api, receiver):
    response = admin_api.post(
        "/api/v1/webhook-endpoints/",
        {"url": f"{receiver.url}/in", "events": ["message.created", "sla.breached"]},
        format="json",
    )
    assert response.status_code == 201
    created = response.json()
    assert created["secret"].startswith("whsec_") and created["created_by"] == "admin"
    assert created["events"] == ["message.created", "sla.breached"] and created["enabled"]
    listed = admin_api.get("/api/v1/webhook-endpoints/").json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]
    detail = admin_api.get(f"/api/v1/webhook-endpoints/{created['id']}/").json()
    assert "secret" not in detail


def test_a_given_secret_signs_the_deliveries(admin_api, receiver, note):
    secret = "a-shared-secret-of-32-characters"
    admin_api.post(
        "/api/v1/webhook-endpoints/",
        {"url": f"{receiver.url}/in", "secret": secret, "events": ["message.created"]},
        format="json",
    )
    note()
    [request] = receiver.requests
    assert signing.verify(secret, headers=request.headers, body=request.body)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "http://127.0.0.1:9/", "events": ["nope.happened"]}, "events"),
        ({"url": "http://127.0.0.1:9/", "events": []}, "events"),
        (
            {"url": "http://127.0.0.1:9/", "events": ["message.created"], "secret": "short"},
            "secret",
        ),
        ({"events": ["message.created"]}, "url"),
    ],
)
def test_bad_input_gets_a_field_error(admin_api, receiver, body, field):
    response = admin_api.post("/api/v1/webhook-endpoints/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_only_admins_manage_endpoints(client_for, agent, lead, viewer, endpoint, api_client):
    for user in (agent, lead, viewer):
        client = client_for(user)
        assert client.get("/api/v1/webhook-endpoints/").status_code == 403
        assert client.delete(f"/api/v1/webhook-endpoints/{endpoint.pk}/").status_code == 403
        assert client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/test/").status_code == 403
    assert api_client.get("/api/v1/webhook-endpoints/").status_code in (401, 403)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_enabling_a_disabled_endpoint_clears_its_failures(admin_api, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, consecutive_failures=20, disabled_reason="20 deliveries failed in a row."
    )
    response = admin_api.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/",
        {"enabled": True, "events": ["contact.created"]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["enabled"] and body["consecutive_failures"] == 0 and body["disabled_reason"] == ""
    assert body["events"] == ["contact.created"]


def test_changing_the_url_to_an_internal_one_is_refused(admin_api, endpoint, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []
    response = admin_api.patch(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"url": "http://10.0.0.1/"}, format="json"
    )
    assert response.status_code == 400 and "internal address" in response.json()["url"][0]


def test_deleting_an_endpoint_stops_its_deliveries(admin_api, endpoint, receiver, note):
    assert admin_api.delete(f"/api/v1/webhook-endpoints/{endpoint.pk}/").status_code == 204
    note()
    assert receiver.requests == []
    assert admin_api.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").status_code == 404


def test_the_delivery_log_shows_attempts_with_status_latency_and_body(
    admin_api, endpoint, receiver, note
):
    receiver.respond(500, b"x" * 5000)
    note()
    note("second")
    response = admin_api.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/?page_size=1")
    page = response.json()
    [latest] = page["results"]
    assert latest["status"] == "succeeded" and page["next"]
    older = admin_api.get(page["next"]).json()["results"][0]
    assert older["status"] == "pending" and older["event_type"] == "message.created"
    [attempt] = older["attempts_log"]
    assert attempt["status_code"] == 500 and attempt["latency_ms"] >= 0
    assert attempt["response_body"] == "x" * 2048
    failed = admin_api.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/?status=failed")
    assert failed.json()["results"] == []
    bad = admin_api.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/?status=lost")
    assert bad.status_code == 400


def test_replaying_a_delivery_sends_it_again_with_the_same_webhook_id(
    admin_api, endpoint, receiver, note, django_capture_on_commit_callbacks
):
    note()
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/")
    assert response.status_code == 202
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.log.count() == 2


def test_replaying_a_time_range_resends_what_an_endpoint_missed(
    admin_api, endpoint, receiver, note, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    note("while it was off")
    assert receiver.requests == []
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=True)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(
            f"/api/v1/webhook-endpoints/{endpoint.pk}/replay/",
            {
                "since": (now - dt.timedelta(hours=1)).isoformat(),
                "until": (now + dt.timedelta(minutes=1)).isoformat(),
            },
            format="json",
        )
    assert response.status_code == 202 and response.json() == {"queued": 1}
    [request] = receiver.requests
    assert request.json()["type"] == "message.created"
    empty = admin_api.post(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/replay/",
        {"since": now.isoformat(), "until": (now - dt.timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert empty.status_code == 400


def test_send_test_posts_a_signed_test_event_and_returns_only_the_status(
    admin_api, endpoint, receiver
):
    receiver.respond(201, b'{"internal": "details"}')
    response = admin_api.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/test/")
    assert response.json() == {"status_code": 201}
    [request] = receiver.requests
    assert request.json()["type"] == "webhook.test"
    assert signing.verify(endpoint.secret, headers=request.headers, body=request.body)
    assert not WebhookDelivery.objects.exists()


def test_the_event_catalogue_lists_schemas_and_examples(client_for, agent):
    response = client_for(agent).get("/api/v1/webhook-events/")
    assert response.status_code == 200
    by_type = {e["type"]: e for e in response.json()}
    assert by_type["message.created"]["example"]["data"]["direction"] == "in"
    assert by_type["conversation.updated"]["schema"]["properties"]["type"] == {
        "const": "conversation.updated"
    }
