"""Outbound webhooks from the outbox to a real local receiver: signing, retries, disabling."""

import contextlib
import datetime as dt

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone
from jsonschema import validate

from core import sendlock
from inbox.events import dispatch_batch
from inbox.models import Event
from inbox.services import add_note
from integrations import schemas, signing
from integrations.delivery import BACKOFF, deliver, requeue_due
from integrations.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def make_due(delivery):
    """Let the clock reach the delivery's retry time (a test cannot wait minutes)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def test_a_committed_change_is_posted_signed_with_the_standard_webhooks_scheme(
    endpoint, receiver, note
):
    message = note()
    [request] = receiver.requests
    assert request.path == "/hooks?team=support"
    assert signing.verify(endpoint.secret, headers=request.headers, body=request.body)
    body = request.json()
    assert body["type"] == "message.created" and body["version"] == schemas.SCHEMA_VERSION
    assert body["data"] == {
        "conversation": message.conversation_id,
        "message": message.pk,
        "direction": "out",
        "kind": "note",
    }
    validate(body, schemas.json_schema("message.created"))
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == delivery.webhook_id
    assert delivery.status == "succeeded" and delivery.attempts == 1
    [attempt] = delivery.log.all()
    assert attempt.status_code == 200 and attempt.response_body == "{}"


def test_a_tampered_body_does_not_verify(endpoint, receiver, note):
    note()
    [request] = receiver.requests
    assert not signing.verify(endpoint.secret, headers=request.headers, body=request.body + b" ")
    assert not signing.verify("whsec_" + "A" * 32, headers=request.headers, body=request.body)


def test_a_rolled_back_change_sends_nothing(
    endpoint, receiver, conversation, agent, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        add_note(conversation_id=conversation.pk, actor=agent, text="never")
        raise RuntimeError("the change fails after the note")
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()


def test_an_event_nobody_subscribed_to_is_not_sent(endpoint, receiver, admin_user):
    from integrations.services import endpoint_update

    endpoint_update(endpoint_id=endpoint.pk, actor=admin_user, event_types=["contact.created"])
    event = Event.objects.create(
        type="message.created", payload={"message": 1}, created_at=timezone.now()
    )
    dispatch_batch([event])
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_dispatching_an_event_twice_delivers_it_once(
    endpoint, receiver, conversation, django_capture_on_commit_callbacks
):
    event = Event.objects.create(
        type="conversation.updated",
        conversation_id=conversation.pk,
        payload={"changes": {"status": ["open", "resolved"]}},
        created_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_batch([event])
        dispatch_batch([event])  # the re-queue sweep found it undispatched again
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.filter(event=event).count() == 1


def test_a_failing_receiver_is_retried_with_the_same_webhook_id_until_it_succeeds(
    endpoint, receiver, note, django_capture_on_commit_callbacks
):
    receiver.respond(500, b"database down")
    note()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()
    assert requeue_due() == 0  # not due yet
    make_due(delivery)
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.webhook_id
    assert first.body == second.body
    assert all(
        signing.verify(endpoint.secret, headers=r.headers, body=r.body) for r in (first, second)
    )
    log = list(delivery.log.values_list("status_code", "response_body"))
    assert log == [(500, "database down"), (200, "{}")]


def test_a_receiver_that_times_out_is_retried(endpoint, receiver, note, settings):
    settings.WEBHOOK_TIMEOUT = 0.3
    receiver.respond(200, delay=1.0)
    note()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_error == "Timed out."
    [attempt] = delivery.log.all()
    assert attempt.status_code is None and attempt.error == "Timed out."


def test_a_410_disables_the_endpoint_and_tells_the_admins(
    endpoint, receiver, note, mailoutbox, admin_user
):
    receiver.respond(410)
    note()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert WebhookDelivery.objects.get().status == "failed"
    [mail] = mailoutbox
    assert mail.to == [admin_user.email] and endpoint.url in mail.subject
    note("another")
    assert len(receiver.requests) == 1  # a disabled endpoint gets nothing more


def test_a_429_waits_at_least_as_long_as_retry_after(endpoint, receiver, note):
    receiver.respond(429, headers={"Retry-After": "3600"})
    before = timezone.now()
    note()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code == 429
    assert delivery.next_attempt_at - before >= dt.timedelta(seconds=3600)


def test_a_503_without_retry_after_follows_the_backoff(endpoint, receiver, note):
    receiver.respond(503)
    before = timezone.now()
    note()
    delivery = WebhookDelivery.objects.get()
    wait = delivery.next_attempt_at - before
    assert dt.timedelta(seconds=BACKOFF[0] * 0.8) <= wait < dt.timedelta(seconds=60)


@pytest.mark.parametrize("code", [302, 400, 401, 404])
def test_redirects_and_client_errors_are_not_retried(endpoint, receiver, note, code):
    receiver.respond(code, headers={"Location": "http://127.0.0.1:1/"})
    note()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.last_status_code == code
    assert len(receiver.requests) == 1


def test_a_delivery_that_keeps_failing_is_abandoned_after_the_last_retry(
    endpoint, receiver, note, django_capture_on_commit_callbacks
):
    receiver.respond(500)
    note()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=len(BACKOFF))
    make_due(delivery)
    receiver.respond(500)
    with django_capture_on_commit_callbacks(execute=True):
        requeue_due()
    delivery.refresh_from_db()
    assert delivery.status == "abandoned" and "Gave up" in delivery.last_error
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1 and endpoint.enabled


def test_consecutive_failed_deliveries_disable_the_endpoint(
    endpoint, receiver, note, settings, mailoutbox
):
    settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES = 2
    receiver.respond(400)
    note("one")
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 1
    receiver.respond(400)
    note("two")
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "2 deliveries failed" in endpoint.disabled_reason
    assert len(mailoutbox) == 1


def test_a_success_resets_the_failure_count(endpoint, receiver, note):
    receiver.respond(400)
    note("one")
    note("two")
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


@contextlib.contextmanager
def another_worker_sending(delivery_id: int):
    """A live worker in the middle of sending: on PostgreSQL it holds the send lock
    (core.sendlock) on its own connection; on SQLite the fresh claim alone says so."""
    if connection.vendor != "postgresql":
        yield
        return
    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"], dbname=s["NAME"], autocommit=True
    ) as other:
        key = (sendlock.WEBHOOK_DELIVERY << 48) | delivery_id
        other.execute("SELECT pg_advisory_lock(%s)", [key])
        yield


def test_a_worker_killed_mid_delivery_is_redelivered_once_by_the_sweep(
    endpoint, receiver, conversation, django_capture_on_commit_callbacks
):
    event = Event.objects.create(
        type="message.created",
        conversation_id=conversation.pk,
        payload={"message": 5, "direction": "in", "kind": "message"},
        created_at=timezone.now(),
    )
    # A worker claimed it and died before recording anything.
    delivery = WebhookDelivery.objects.create(
        event=event,
        endpoint=endpoint,
        event_type=event.type,
        payload=schemas.body_for(event),
        next_attempt_at=timezone.now() - dt.timedelta(minutes=20),
        claimed_at=timezone.now(),
        attempts=1,
    )
    assert requeue_due() == 0  # the claim is fresh: another worker may be sending it
    with another_worker_sending(delivery.pk):
        deliver(delivery_id=delivery.pk)
    assert receiver.requests == []  # and a second worker does not send it alongside
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - dt.timedelta(minutes=10)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_due() == 1
    assert requeue_due() == 0
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    assert len(receiver.requests) == 1


def test_every_event_type_has_an_example_that_matches_its_schema():
    for entry in schemas.catalogue():
        validate(entry["example"], entry["schema"])
    assert {e["type"] for e in schemas.catalogue()} >= {
        "conversation.created",
        "conversation.assigned",
        "contact.merged",
        "sla.breached",
    }


def test_the_readme_verification_snippet_accepts_a_real_delivery(endpoint, receiver, note):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    snippet = readme.split("## Integrations", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(snippet, namespace)
    note()
    [request] = receiver.requests
    assert namespace["verify"](endpoint.secret, request.headers, request.body)
    assert not namespace["verify"](endpoint.secret, request.headers, request.body + b"x")
