"""Redis (broker, channel layer, cache) goes away while providers deliver webhooks and agents work,
against the real web server and worker processes: requests still succeed once the database has
the write, and the stored work drains when Redis returns: nothing lost, nothing doubled."""

import collections

import httpx
import pytest

from accounts.services import create_api_token
from inbox.events import dispatch_stalled
from inbox.intake.queue import requeue_unprocessed
from inbox.models import Conversation, Event, InboundEvent, Message
from inbox.outbound.delivery import requeue_due as requeue_outbound
from integrations.delivery import requeue_due as requeue_webhooks
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.accounts.factories import AgentFactory
from tests.reliability.conftest import api_body, post_api
from tests.support.faultstack import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(90)]


def sweep() -> None:
    """What celery beat runs every few seconds (requeue_stalled, webhooks-due), without their
    age thresholds, so the test does not wait for them."""
    requeue_unprocessed(older_than_seconds=0)
    from datetime import timedelta

    dispatch_stalled(older_than=timedelta(0))
    requeue_outbound()
    requeue_webhooks()


def test_redis_down_webhooks_and_agents_still_succeed_and_the_work_drains_once(
    stack, api_channel, http_server, broker
):
    api_channel.config = {"callback_url": f"{http_server.url}/callback"}
    api_channel.save(update_fields=["config"])
    team = api_channel.default_team
    agent = AgentFactory(username="alice", teams=[team])
    _, key = create_api_token(user=agent, name="faults")
    WebhookEndpoint.objects.create(
        url=f"{http_server.url}/hooks",
        events=["message.created"],
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        enabled=True,
    )
    stack.start_worker()  # starts in the background while the web server boots
    stack.start_web()
    # One conversation to work on, made while everything is up.
    assert post_api(stack.base_url, api_body("evt-before")).status_code == 202
    conversation = wait_for(lambda: Conversation.objects.filter(team=team).first())
    wait_for(lambda: Message.objects.filter(external_id="evt-before").exists())

    stack.redis_proxy.cut()
    for i in range(3):
        response = post_api(stack.base_url, api_body(f"evt-down-{i}", text=f"Still there? {i}"))
        assert response.status_code == 202, response.text
    agent_api = httpx.Client(
        base_url=f"{stack.base_url}/api/v1", headers={"Authorization": f"Token {key}"}, timeout=10
    )
    note = agent_api.post(
        f"/conversations/{conversation.pk}/messages/", json={"kind": "note", "text": "Checking"}
    )
    assert note.status_code == 201, note.text
    reply = agent_api.post(
        f"/conversations/{conversation.pk}/messages/",
        json={"kind": "message", "text": "We are on it"},
    )
    assert reply.status_code == 201, reply.text
    # Stored, not lost: the raw deliveries and the agent's messages are in the database now.
    assert InboundEvent.objects.filter(provider="api").count() == 4
    assert Message.objects.filter(text="We are on it", delivery_status="queued").exists()

    stack.redis_proxy.restore()

    def drained():
        sweep()
        return (
            Message.objects.filter(external_id__startswith="evt-down-").count() == 3
            and not Event.objects.filter(dispatched_at__isnull=True).exists()
            and not Message.objects.filter(delivery_status="queued").exists()
            and not WebhookDelivery.objects.exclude(
                status=WebhookDelivery.Status.SUCCEEDED
            ).exists()
        )

    wait_for(drained, timeout=40, interval=1, message="the stored work did not drain")

    # Nothing doubled: one message per provider event, one reply sent to the provider, one
    # webhook per message.created event.
    for i in range(3):
        assert Message.objects.filter(external_id=f"evt-down-{i}").count() == 1
    callbacks = [r for r in http_server.requests if r.path == "/callback"]
    assert [r.json()["text"] for r in callbacks] == ["We are on it"]
    hooks = [r for r in http_server.requests if r.path == "/hooks"]
    created = set(Event.objects.filter(type="message.created").values_list("pk", flat=True))
    delivered = collections.Counter(r.headers["webhook-id"] for r in hooks)
    assert all(n == 1 for n in delivered.values()), delivered
    assert len(delivered) == len(created) == 1 + 3 + 2
