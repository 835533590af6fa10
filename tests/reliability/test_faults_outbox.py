"""The outbox (inbox/events.py): a change rolled back publishes nothing (no event, no alert, no
webhook, no frame to a browser); a change committed by a process killed before it could publish
is delivered exactly once by the stalled-event sweep after the restart."""

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import time_machine
from django.db import connection, transaction

from benchmarks.stack import ROOT
from inbox import groups
from inbox.events import dispatch_stalled
from inbox.intake.receive import receive_message
from inbox.models import Event, Message
from inbox.normalized import NormalizedMessage, SenderRef
from inbox.outbound.replies import send_reply
from inbox.services import add_note
from integrations.models import WebhookDelivery, WebhookEndpoint
from routing import sla_sweep
from routing.models import SLAAlert, SLAPolicy
from routing.services import assign_conversation
from tests.accounts.factories import AgentFactory
from tests.support.feed import FeedListener

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(60)]


class Rollback(Exception):
    pass


@pytest.fixture
def world(transactional_db, api_channel, http_server, settings):
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
        events=["message.created", "conversation.assigned", "sla.breached"],
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        enabled=True,
    )
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with time_machine.travel(two_hours_ago, tick=False):
        conversation = receive_message(
            channel=api_channel,
            message=NormalizedMessage(
                channel_kind="api",
                external_id="evt-outbox",
                thread_key="outbox-1",
                sender=SenderRef(kind="api", id="cust-3", name="Di"),
                text="Hello?",
                html=None,
                attachments=(),
                sent_at=two_hours_ago,
            ),
        ).conversation
    # What arrived so far is delivered; the test looks at what comes after.
    dispatch_stalled(older_than=dt.timedelta(0))
    http_server.requests.clear()
    agent = AgentFactory(teams=[conversation.team])
    return {"conversation": conversation, "agent": agent}


def test_a_rolled_back_change_publishes_nothing(world, http_server, sent, published):
    conversation, agent = world["conversation"], world["agent"]
    before = Event.objects.count()
    deliveries = WebhookDelivery.objects.count()
    feed = FeedListener(groups.conversation(conversation.pk))
    with pytest.raises(Rollback), transaction.atomic():
        assert sla_sweep.sweep().breaches == 1  # the overdue first response, inside the same change
        add_note(conversation_id=conversation.pk, actor=agent, text="Draft thought")
        send_reply(conversation_id=conversation.pk, actor=agent, text="Never sent")
        assign_conversation(conversation_id=conversation.pk, team=None, assignee=agent, actor=agent)
        raise Rollback

    assert Event.objects.count() == before
    assert not SLAAlert.objects.exists()
    assert not Message.objects.filter(text__in=["Draft thought", "Never sent"]).exists()
    assert published == [] and sent == []
    assert WebhookDelivery.objects.count() == deliveries
    assert http_server.requests == []
    assert feed.event_ids() == []


SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import django
    django.setup()
    from accounts.models import User
    from inbox import events
    from inbox.services import add_note

    def die(batch):
        # Committed, not yet published: the process is killed right here.
        os.kill(os.getpid(), signal.SIGKILL)

    events.dispatch_batch = die
    add_note(conversation_id=int(sys.argv[1]), actor=User.objects.get(pk=int(sys.argv[2])),
             text="Written just before the crash")
    """
)


def test_a_change_committed_by_a_process_killed_before_publishing_is_delivered_once(
    world, http_server
):
    conversation, agent = world["conversation"], world["agent"]
    s = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:"
        f"{s['PORT'] or 5432}/{s['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(ROOT),
    }
    crashed = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(conversation.pk), str(agent.pk)],
        cwd=ROOT,
        env=env,
        timeout=30,
        capture_output=True,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()[-2000:]
    note = Message.objects.get(text="Written just before the crash")  # the change committed
    event = Event.objects.get(type="message.created", payload__message=note.pk)
    assert event.dispatched_at is None and http_server.requests == []

    # After the restart, the re-queue sweep (celery beat: requeue_stalled) finds it, once.
    feed = FeedListener(groups.conversation(conversation.pk))
    assert dispatch_stalled(older_than=dt.timedelta(0)) == 1
    assert dispatch_stalled(older_than=dt.timedelta(0)) == 0
    assert feed.event_ids() == [event.pk]
    delivery = WebhookDelivery.objects.get(event=event)
    hooks = [r.headers["webhook-id"] for r in http_server.requests if r.path == "/hooks"]
    assert hooks == [delivery.webhook_id] and delivery.status == "succeeded"
