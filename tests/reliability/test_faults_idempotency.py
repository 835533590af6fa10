"""A task run twice with the same id (a broker redelivery after the first run finished, or a
retry that raced the original): the second run changes nothing. Every task the product sends
is captured as it is sent, run once, then run again with the same task id."""

import datetime as dt

import pytest
import time_machine

from config.celery import app as celery_app
from inbox.models import Activity, Event, InboundEvent, Message
from inbox.outbound.replies import send_reply
from inbox.services import add_note
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from routing.models import SLAAlert, SLAPolicy
from tests.accounts.factories import AgentFactory
from tests.reliability.conftest import api_body

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def fingerprint(http_server) -> dict:
    return {
        "messages": list(
            Message.objects.order_by("pk").values_list(
                "pk", "delivery_status", "send_attempts", "external_id"
            )
        ),
        "inbound": list(InboundEvent.objects.order_by("pk").values_list("status", "attempts")),
        "events": list(Event.objects.order_by("pk").values_list("type", "dispatched_at")),
        "activities": Activity.objects.count(),
        "alerts": list(SLAAlert.objects.values_list("target", "kind")),
        "deliveries": list(WebhookDelivery.objects.values_list("status", "attempts")),
        "attempts": WebhookAttempt.objects.count(),
        "http": len(http_server.requests),
    }


def run_twice(name: str, args: tuple, http_server) -> tuple[dict, dict]:
    import routing.tasks  # noqa: F401 (registers the tasks)

    task = celery_app.tasks[name]
    task_id = f"faults-{name}-{args}"
    for run in range(2):
        result = task.apply(args=args, task_id=task_id)
        assert result.successful(), result.traceback
        if run == 0:
            first = fingerprint(http_server)
    return first, fingerprint(http_server)


def test_every_task_run_twice_with_the_same_id_changes_nothing_the_second_time(
    transactional_db, sent, api_channel, http_server, client, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    api_channel.config = {"callback_url": f"{http_server.url}/callback"}
    api_channel.save(update_fields=["config"])
    SLAPolicy.objects.all().delete()
    SLAPolicy.objects.create(
        name="Normal",
        severity=2,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=24 * 60,
    )
    WebhookEndpoint.objects.create(
        url=f"{http_server.url}/hooks",
        events=["message.created"],
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        enabled=True,
    )
    agent = AgentFactory(teams=[api_channel.default_team])

    # A provider delivers a message, two hours ago: processing, its webhook, then its SLA breach.
    from inbox.intake.adapters.api import sign

    with time_machine.travel(dt.datetime.now(dt.UTC) - dt.timedelta(hours=2), tick=False):
        body = api_body("evt-twice")
        response = client.post(
            "/webhooks/api/partner/",
            data=body,
            content_type="application/json",
            HTTP_X_SIGNATURE=sign("fault-api-secret", body),
        )
        assert response.status_code == 202
        ((name, args),) = [s for s in sent if s[0] == "inbox.tasks.process_inbound_event"]
        first, second = run_twice(name, args, http_server)
    assert first == second
    assert [m[0] for m in first["messages"]] and first["inbound"] == [("processed", 1)]
    conversation = Message.objects.get(external_id="evt-twice").conversation

    # The webhook its message.created event made.
    ((name, args),) = [s for s in sent if s[0] == "integrations.tasks.deliver_webhook"]
    first, second = run_twice(name, args, http_server)
    assert first == second and first["deliveries"] == [("succeeded", 1)] and first["http"] == 1

    # The SLA sweep: the first response is an hour overdue.
    first, second = run_twice("routing.tasks.sla_sweep", (), http_server)
    assert first == second and first["alerts"] == [("first_response", "breach")]

    # An agent's reply going out.
    sent.clear()
    reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Sorry for the wait")
    ((name, args),) = [s for s in sent if s[0] == "inbox.tasks.deliver_message"]
    assert args == (reply.pk,)
    first, second = run_twice(name, args, http_server)
    assert first == second
    callbacks = [r for r in http_server.requests if r.path == "/callback"]
    assert len(callbacks) == 1 and Message.objects.get(pk=reply.pk).delivery_status == "sent"

    # A bulk fan-out of stored events (publish_many hands the ids to a task).
    Event.objects.update(dispatched_at=None)
    ids = list(Event.objects.values_list("pk", flat=True))
    first, second = run_twice("inbox.tasks.dispatch_events", (ids,), http_server)
    assert first == second
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()

    # A note: nothing to send to the customer, one more webhook, still once.
    sent.clear()
    add_note(conversation_id=conversation.pk, actor=agent, text="Escalated to the courier")
    ((name, args),) = [s for s in sent if s[0] == "integrations.tasks.deliver_webhook"]
    first, second = run_twice(name, args, http_server)
    assert first == second and len([r for r in http_server.requests if r.path == "/hooks"]) == 2
