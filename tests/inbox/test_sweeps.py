"""The periodic re-queue sweeps, one per wing (beat runs each every minute): stored inbound
events nobody processed, outbox events nobody fanned out, replies whose retry time came. The
old hub task, inbox.tasks.requeue_stalled, still runs all three for one release."""

import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone

from config.celery import app
from inbox.models import Conversation, InboundEvent, Message
from tests.inbox.factories import ChannelFactory, ConversationFactory, EventFactory

pytestmark = pytest.mark.django_db


def run(task_name: str):
    app.loader.import_default_modules()
    return app.tasks[task_name].apply().get()


def forgotten_event(channel) -> InboundEvent:
    """An event stored two minutes ago whose processing never reached a worker."""
    body = {"id": "lost-1", "sender": {"id": "c-9", "name": "Ines"}, "text": "Still there?"}
    return InboundEvent.objects.create(
        channel=channel,
        provider="api",
        body=json.dumps(body).encode(),
        received_at=timezone.now() - dt.timedelta(minutes=2),
    )


def forgotten_reply(channel) -> Message:
    conversation = ConversationFactory(channel=channel)
    return Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=Message.Direction.OUT,
        text="Here is your invoice.",
        delivery_status=Message.DeliveryStatus.QUEUED,
        next_attempt_at=timezone.now() - dt.timedelta(minutes=1),
        created_at=timezone.now() - dt.timedelta(minutes=1),
    )


def test_the_inbound_sweep_processes_what_was_stored_and_forgotten():
    event = forgotten_event(ChannelFactory(kind="api", slug="partner"))
    assert run("inbox.intake.tasks.requeue_inbound") == 1
    event.refresh_from_db()
    assert event.status == InboundEvent.Status.PROCESSED
    assert Conversation.objects.filter(contact__name="Ines").exists()


def test_the_outbox_sweep_fans_out_what_was_written_and_forgotten():
    stalled = EventFactory(conversation_id=ConversationFactory().pk)
    assert run("inbox.tasks.requeue_outbox") == 1
    stalled.refresh_from_db()
    assert stalled.dispatched_at is not None


def test_the_outbound_sweep_sends_replies_whose_time_came(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reply = forgotten_reply(ChannelFactory(kind="email", slug="help"))
    assert run("inbox.outbound.tasks.requeue_outbound") == 1
    reply.refresh_from_db()
    assert reply.delivery_status == Message.DeliveryStatus.SENT
    assert [m.body.strip() for m in mail.outbox] == ["Here is your invoice."]


def test_the_old_hub_still_runs_all_three(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    channel = ChannelFactory(kind="api", slug="partner")
    forgotten_event(channel)
    stalled = EventFactory(conversation_id=ConversationFactory().pk)
    forgotten_reply(ChannelFactory(kind="email", slug="help"))
    done = run("inbox.tasks.requeue_stalled")
    assert done == {"inbound": 1, "events": 1, "outbound": 1}
    stalled.refresh_from_db()
    assert stalled.dispatched_at is not None
    assert len(mail.outbox) == 1
