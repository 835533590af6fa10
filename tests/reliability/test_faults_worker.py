"""A Celery worker killed (SIGKILL) in the middle of a task, against the real worker processes:
inbound processing, the SLA sweep raising an alert, an agent's reply going out and a webhook
going out. The task is redelivered (late acks, reject on worker lost) and completed, and its
effect happens once.

A task is caught "in the middle" by making it wait: on a table lock the test holds (database
work), or on the local HTTP server holding the provider's / receiver's answer (a send)."""

import collections
import datetime as dt
import os
import signal

import pytest
import time_machine

from inbox.intake.receive import receive_message
from inbox.models import Conversation, Event, InboundEvent, Message
from inbox.normalized import NormalizedMessage, SenderRef
from inbox.outbound.replies import send_reply
from inbox.services import add_note
from integrations.models import WebhookDelivery, WebhookEndpoint
from routing.models import SLAAlert, SLAPolicy
from tests.accounts.factories import AgentFactory
from tests.reliability.conftest import api_body, post_api
from tests.support.faultstack import wait_for
from tests.support.pglock import HeldLock

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(60)]


def TableLock(table: str, mode: str) -> HeldLock:
    return HeldLock(f"LOCK TABLE {table} IN {mode} MODE")


def kill_pool_processes(stack) -> None:
    """SIGKILL every process of the worker's pool (the ones running tasks); the worker's main
    process sees them lost, re-queues their tasks (reject_on_worker_lost) and forks new ones."""
    children = stack.worker_children()
    assert children, "the worker has no pool processes"
    for pid in children:
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def running(stack):
    """The worker (and no web server: these tests hand it work themselves)."""
    stack.start_worker()
    wait_for(lambda: len(stack.worker_children()) == stack.worker_concurrency, timeout=20)
    return stack


def test_inbound_processing_killed_mid_task_is_redone_once(running, api_channel):
    running.start_web()
    lock = TableLock("inbox_message", "ACCESS EXCLUSIVE")
    try:
        assert post_api(running.base_url, api_body("evt-killed")).status_code == 202
        wait_for(lock.someone_waits, message="the worker never reached the message table")
        kill_pool_processes(running)
    finally:
        lock.release()
    event = wait_for(
        lambda: InboundEvent.objects.filter(status="processed").first(),
        message="the killed task was not redelivered",
    )
    assert Message.objects.filter(external_id="evt-killed").count() == 1
    assert Event.objects.filter(type="message.created").count() == 1
    assert InboundEvent.objects.get(pk=event.pk).attempts == 1  # the killed run left no trace


def test_the_whole_worker_killed_its_task_comes_back_after_the_visibility_timeout(
    stack, api_channel
):
    stack.env["CELERY_VISIBILITY_TIMEOUT"] = "2"
    stack.start_worker()  # starts in the background while the web server boots
    stack.start_web()
    lock = TableLock("inbox_message", "ACCESS EXCLUSIVE")
    try:
        assert post_api(stack.base_url, api_body("evt-worker-gone")).status_code == 202
        wait_for(lock.someone_waits, message="the worker never reached the message table")
        stack.kill("worker")  # main process and pool together: nobody left to re-queue
    finally:
        lock.release()
    stack.start_worker()  # a replacement worker finds the unacknowledged task
    wait_for(
        lambda: InboundEvent.objects.filter(status="processed").exists(),
        timeout=30,
        interval=0.5,
        message="the task of the killed worker never came back",
    )
    assert Message.objects.filter(external_id="evt-worker-gone").count() == 1


def test_sla_alert_killed_mid_sweep_is_raised_once(running, broker, api_channel):
    SLAPolicy.objects.all().delete()
    SLAPolicy.objects.create(
        name="Normal",
        severity=2,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=24 * 60,
    )
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with time_machine.travel(two_hours_ago, tick=False):
        conversation = receive_message(
            channel=api_channel,
            message=NormalizedMessage(
                channel_kind="api",
                external_id="evt-sla",
                thread_key="sla-1",
                sender=SenderRef(kind="api", id="cust-9", name="Bo"),
                text="Anyone?",
                html=None,
                attachments=(),
                sent_at=two_hours_ago,
            ),
        ).conversation
    lock = TableLock("routing_slaalert", "EXCLUSIVE")
    try:
        broker.send_task("routing.tasks.sla_sweep")
        wait_for(lock.someone_waits, message="the sweep never reached the alert table")
        kill_pool_processes(running)
    finally:
        lock.release()
    wait_for(
        lambda: SLAAlert.objects.filter(conversation=conversation).exists(),
        message="the killed sweep was not redelivered",
    )
    alerts = list(SLAAlert.objects.values_list("target", "kind"))
    assert alerts == [("first_response", "breach")]
    assert Event.objects.filter(type="sla.breached").count() == 1
    assert Conversation.objects.get(pk=conversation.pk).sla_breached


@pytest.fixture
def conversation(api_channel):
    message = receive_message(
        channel=api_channel,
        message=NormalizedMessage(
            channel_kind="api",
            external_id="evt-conv",
            thread_key="conv-1",
            sender=SenderRef(kind="api", id="cust-2", name="Cy"),
            text="Where is my parcel?",
            html=None,
            attachments=(),
            sent_at=dt.datetime.now(dt.UTC),
        ),
    )
    return message.conversation


def test_outbound_reply_killed_mid_send_is_sent_again_under_the_same_id(
    running, broker, api_channel, conversation, http_server
):
    api_channel.config = {"callback_url": f"{http_server.url}/callback"}
    api_channel.save(update_fields=["config"])
    agent = AgentFactory(teams=[conversation.team])
    http_server.respond(200, delay=20)  # the provider hangs on the first send
    reply = send_reply(conversation_id=conversation.pk, actor=agent, text="It ships today")
    wait_for(lambda: len(http_server.requests) == 1, message="the reply was never sent")
    kill_pool_processes(running)
    wait_for(
        lambda: Message.objects.get(pk=reply.pk).delivery_status == "sent",
        message="the reply of the killed worker was not sent again",
    )
    sends = [r.json()["id"] for r in http_server.requests]
    # At least once to the provider, always under one idempotency id: one message for them.
    assert set(sends) == {f"switchboard-{reply.pk}"} and len(sends) == 2
    assert Message.objects.filter(conversation=conversation, direction="out").count() == 1


def test_webhook_killed_mid_send_is_delivered_again_under_the_same_id(
    running, broker, conversation, http_server
):
    WebhookEndpoint.objects.create(
        url=f"{http_server.url}/hooks",
        events=["message.created"],
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        enabled=True,
    )
    agent = AgentFactory(teams=[conversation.team])
    http_server.respond(200, delay=20)  # the receiver hangs on the first delivery
    add_note(conversation_id=conversation.pk, actor=agent, text="Called the courier")
    wait_for(lambda: len(http_server.requests) == 1, message="the webhook was never sent")
    kill_pool_processes(running)
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(status="succeeded").first(),
        message="the webhook of the killed worker was not delivered again",
    )
    ids = collections.Counter(r.headers["webhook-id"] for r in http_server.requests)
    assert ids == {delivery.webhook_id: 2}
    assert WebhookDelivery.objects.count() == 1
