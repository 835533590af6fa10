"""The generic signed API channel end to end: webhook -> stored raw -> processed -> message."""

import json
import time

import pytest
from django.db import DatabaseError
from django.utils import timezone

from inbox.intake.adapters.api import sign
from inbox.models import InboundEvent, Message
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db

SECRET = "api-secret"


@pytest.fixture
def channel():
    return ChannelFactory(slug="partner", kind="api", secret=SECRET)


def payload(**overrides):
    data = {
        "id": "evt-1",
        "sender": {"id": "u-9", "name": "Globex", "email": "ops@globex.test"},
        "text": "We would like a quote",
        "thread": "deal-77",
    }
    data.update(overrides)
    return json.dumps(data).encode()


def post(client, body, *, slug="partner", signature=None, secret=SECRET, **headers):
    signature = signature if signature is not None else sign(secret, body)
    return client.post(
        f"/webhooks/api/{slug}/",
        data=body,
        content_type="application/json",
        HTTP_X_SIGNATURE=signature,
        **headers,
    )


def test_a_signed_message_is_stored_then_processed(
    client, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, payload())
    assert response.status_code == 202
    event = InboundEvent.objects.get(pk=response.json()["event"])
    assert event.status == "processed" and bytes(event.body) == payload()
    message = Message.objects.get(channel=channel, external_id="evt-1")
    assert message.text == "We would like a quote"
    assert message.conversation.thread_key == "deal-77"
    assert message.conversation.contact.name == "Globex"


def test_the_same_event_twice_makes_one_message(
    client, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, payload())
        second = post(client, payload())
    assert first.status_code == second.status_code == 202
    assert Message.objects.filter(channel=channel).count() == 1
    assert InboundEvent.objects.get(pk=second.json()["event"]).status == "duplicate"


def test_messages_with_the_same_thread_share_a_conversation(
    client, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, payload(id="a"))
        post(client, payload(id="b", sender={"id": "u-10", "name": "Globex colleague"}))
        post(client, payload(id="c", thread="other"))
    conversations = {m.external_id: m.conversation_id for m in Message.objects.all()}
    assert conversations["a"] == conversations["b"] != conversations["c"]


@pytest.mark.parametrize("signature", ["", "t=1,v1=abc", "garbage", None])
def test_bad_signatures_are_401_and_store_nothing(client, channel, signature):
    body = payload()
    if signature is None:
        signature = sign("another-channels-secret", body)
    response = post(client, body, signature=signature)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert not InboundEvent.objects.exists()


def test_a_signature_outside_the_five_minute_window_is_refused(client, channel):
    body = payload()
    response = post(client, body, signature=sign(SECRET, body, int(time.time()) - 301))
    assert response.status_code == 401
    assert "window" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"id": "x", "sender": {"id": "s"}}).encode(), "text"),
        (json.dumps({"id": "x", "sender": "me", "text": "t"}).encode(), "sender.id"),
        (
            json.dumps(
                {"id": "x", "sender": {"id": "s"}, "text": "t", "attachments": "no"}
            ).encode(),
            "attachments",
        ),
    ],
)
def test_malformed_bodies_are_400(client, channel, body, needle):
    response = post(client, body)
    assert response.status_code == 400
    assert needle in response.json()["detail"]
    assert not InboundEvent.objects.exists()


def test_unknown_channel_is_404(client, channel):
    response = post(client, payload(), slug="nope")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_channel"


def test_a_channel_of_another_kind_is_404(client):
    ChannelFactory(slug="mail", kind="email", secret=SECRET)
    assert post(client, payload(), slug="mail").status_code == 404


def test_oversized_bodies_are_413(client, channel, settings):
    settings.INBOUND_MAX_BYTES = 100
    response = post(client, payload(text="x" * 200))
    assert response.status_code == 413
    assert not InboundEvent.objects.exists()


def test_get_is_405(client, channel):
    assert client.get("/webhooks/api/partner/").status_code == 405


def test_database_down_is_503_never_2xx(client, channel, monkeypatch):
    from inbox.intake.doors import http as webhooks

    def down(**kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(webhooks, "store_inbound", down)
    response = post(client, payload())
    assert response.status_code == 503


def test_a_failure_while_processing_is_kept_and_can_be_retried(channel, monkeypatch):
    from django.core.management import call_command

    from inbox.intake import processing

    event = InboundEvent.objects.create(
        channel=channel, provider="api", body=payload(), received_at=timezone.now()
    )
    real = processing.receive_message

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(processing, "receive_message", broken)
    assert processing.process_inbound_event(event_id=event.pk).status == "failed"
    event.refresh_from_db()
    assert "database hiccup" in event.error and event.attempts == 1
    assert not Message.objects.exists()

    monkeypatch.setattr(processing, "receive_message", real)
    call_command("reprocess_inbound")
    event.refresh_from_db()
    assert event.status == "processed" and event.attempts == 2
    assert Message.objects.count() == 1


def test_failed_events_are_listed_for_admins_only(client_for, admin_user, agent, channel):
    InboundEvent.objects.create(
        channel=channel,
        provider="api",
        body=b"{}",
        received_at=timezone.now(),
        status="failed",
        error="KeyError: id",
    )
    InboundEvent.objects.create(
        channel=channel, provider="api", body=b"{}", received_at=timezone.now(), status="processed"
    )
    rows = client_for(admin_user).get("/api/v1/inbound-events/?status=failed").json()["results"]
    assert [(r["status"], r["error"], r["channel"]) for r in rows] == [
        ("failed", "KeyError: id", "partner")
    ]
    assert client_for(agent).get("/api/v1/inbound-events/").status_code == 403
    assert client_for(admin_user).get("/api/v1/inbound-events/?status=bogus").status_code == 400


def test_stored_but_unprocessed_events_are_requeued(channel):
    import datetime as dt

    from inbox.intake.queue import requeue_unprocessed

    old = InboundEvent.objects.create(
        channel=channel,
        provider="api",
        body=payload(),
        received_at=timezone.now() - dt.timedelta(minutes=5),
    )
    assert requeue_unprocessed() == 1  # tasks run eagerly in the suite
    old.refresh_from_db()
    assert old.status == "processed"
    assert requeue_unprocessed() == 0
