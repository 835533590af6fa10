"""JSON that the stdlib parser refuses with something other than a syntax error: nesting deeper
than its recursion limit, and integers over Python's 4,300-digit conversion limit. Every door
that reads JSON answers 400 with a JSON error and stores nothing: the signed webhooks (through
the Django view and the ASGI accept door), the chat widget's door (no login needed), the REST
API and the ESP inbound door (issue 21, "Every input stored, none crashing")."""

import base64
import json

import pytest
from django.test import Client

from inbox.intake.adapters import api as api_adapter
from inbox.intake.adapters import meta, x
from inbox.models import InboundEvent, Message
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.inbox.intake.test_accept_door import through_both
from tests.inbox.social import provider_client

pytestmark = pytest.mark.django_db

SECRET = "the-channel-secret"
DEEP = b'{"id": "1", "text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
HUGE = b'{"id": 1' + b"9" * 5000 + b', "sender": {"id": "a"}, "text": "hi"}'
BODIES = {"deeply nested": DEEP, "integer over 4,300 digits": HUGE}


def signed(kind: str, body: bytes) -> dict:
    return {
        "api": {"HTTP_X_SIGNATURE": api_adapter.sign(SECRET, body)},
        "meta": {"HTTP_X_HUB_SIGNATURE_256": meta.sign(SECRET, body)},
        "telegram": {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": SECRET},
        "x": {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": x.digest(SECRET, body)},
    }[kind]


def assert_json_400(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body.get("detail") or body, body


@pytest.mark.parametrize("case", sorted(BODIES))
@pytest.mark.parametrize("kind", ["api", "meta", "telegram", "x"])
def test_signed_webhooks_refuse_hostile_json_with_400(kind, case, team, settings):
    settings.INBOUND_MAX_BYTES = 1024 * 1024
    ChannelFactory(slug="door", kind=kind, secret=SECRET, default_team=team)
    body = BODIES[case]
    response = provider_client().post(
        f"/webhooks/{kind}/door/", data=body, content_type="application/json", **signed(kind, body)
    )
    assert_json_400(response)
    assert response.json()["code"] == "malformed"
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("case", sorted(BODIES))
def test_the_accept_door_refuses_hostile_json_like_the_django_view(
    case, transactional_db, settings
):
    settings.INBOUND_MAX_BYTES = 1024 * 1024
    ChannelFactory(slug="partner", kind="api", secret=SECRET)
    body = BODIES[case]
    headers = {"Content-Type": "application/json", "X-Signature": api_adapter.sign(SECRET, body)}
    [(by_django, by_door)] = through_both(("POST", "/webhooks/api/partner/", body, headers))
    for response in (by_django, by_door):
        assert response.status_code == 400, response.content[:300]
        assert response.json()["code"] == "malformed"
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("case", sorted(BODIES))
def test_the_chat_door_refuses_hostile_json_with_400(case, team, settings):
    settings.CHAT_MAX_CHARS = 200_000
    channel = ChannelFactory(kind="chat", slug="chat", config={"allowed_origins": ["https://a.b"]})
    widget = Client(headers={"Origin": "https://a.b"})
    url = f"/chat/{channel.public_key}/session/"
    assert_json_400(widget.post(url, BODIES[case], content_type="application/json"))
    token = widget.post(url, b"{}", content_type="application/json").json()["token"]
    response = widget.post(
        f"/chat/{channel.public_key}/messages/",
        BODIES[case],
        content_type="application/json",
        headers={"X-Chat-Token": token},
    )
    assert_json_400(response)
    assert not Message.objects.exists()


@pytest.mark.parametrize("case", sorted(BODIES))
def test_the_rest_api_refuses_hostile_json_with_400(case, team, lead, client_for):
    conversation = ConversationFactory(team=team)
    api = client_for(lead)
    for method, path in (
        ("post", f"/api/v1/conversations/{conversation.pk}/messages/"),
        ("patch", f"/api/v1/conversations/{conversation.pk}/"),
        ("post", "/api/v1/conversations/bulk/"),
    ):
        response = getattr(api, method)(path, BODIES[case], content_type="application/json")
        assert_json_400(response)
        assert "JSON" in response.json()["detail"]
    assert not Message.objects.filter(conversation=conversation).exists()


@pytest.mark.parametrize("case", sorted(BODIES))
def test_the_esp_inbound_door_refuses_hostile_json(case, team, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "esp-user:esp-pass"}
    ChannelFactory(slug="door", kind="email", address="mailbox@inbound.postmarkapp.com")
    response = Client().post(
        "/webhooks/esp/postmark/inbound/",
        data=BODIES[case],
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"esp-user:esp-pass").decode(),
    )
    assert response.status_code == 400, response.content[:300]
    assert not InboundEvent.objects.exists()


def test_a_json_body_within_the_limits_still_works(team, django_capture_on_commit_callbacks):
    ChannelFactory(slug="door", kind="api", secret=SECRET, default_team=team)
    body = json.dumps(
        {"id": "ok-1", "sender": {"id": "a", "name": "Ann"}, "text": "x" * 10, "n": 10**4000}
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = provider_client().post(
            "/webhooks/api/door/", data=body, content_type="application/json", **signed("api", body)
        )
    assert response.status_code == 202
    assert Message.objects.get().text == "x" * 10
