"""Processing stored inbound events in drains (what a worker runs under load), and the per-process
copies of rules and channels that processing reads."""

import json
import threading

import pytest
from django.db import OperationalError, connections, transaction
from django.utils import timezone

from core import refcache
from inbox.intake import processing
from inbox.models import Event, InboundEvent, Message
from tagging.models import ClassificationRule, Tag
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def stored(channel, n, **fields):
    body = json.dumps(
        {
            "id": f"drain-{n}",
            "sender": {"id": f"customer-{n}", "name": f"Customer {n}"},
            "text": f"Message {n}: the invoice export fails",
            **fields,
        }
    ).encode()
    return InboundEvent.objects.create(
        channel=channel, provider="api", body=body, received_at=timezone.now()
    )


@pytest.mark.django_db(transaction=True)  # real commits: outbox events fan out after each
def test_a_drain_processes_every_waiting_event_and_isolates_a_bad_one():
    channel = ChannelFactory(slug="partner", kind="api")
    good = [stored(channel, n) for n in range(5)]
    bad = InboundEvent.objects.create(
        channel=channel, provider="api", body=b"{not json", received_at=timezone.now()
    )
    assert processing.drain() == 6
    statuses = dict(InboundEvent.objects.values_list("pk", "status"))
    assert [statuses[e.pk] for e in good] == ["processed"] * 5
    assert statuses[bad.pk] == "failed"
    assert "JSON" in InboundEvent.objects.get(pk=bad.pk).error
    assert Message.objects.filter(channel=channel).count() == 5
    # Every outbox event of the run fanned out once the drain finished.
    assert Event.objects.filter(type="message.created").count() == 5
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    assert processing.drain() == 0  # nothing left; processed events are never taken again


def test_a_drain_stops_at_its_limit_and_leaves_the_rest_waiting():
    channel = ChannelFactory(slug="partner", kind="api")
    events = [stored(channel, n) for n in range(3)]
    assert processing.drain(limit=2) == 2  # (eager in the suite: the follow-up drain ran too)
    waiting = InboundEvent.objects.filter(pk__in=[e.pk for e in events])
    assert set(waiting.values_list("status", flat=True)) == {"processed"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_another_worker_holds_is_skipped_not_waited_for():
    channel = ChannelFactory(slug="partner", kind="api")
    held, free = stored(channel, 1), stored(channel, 2)
    locked, release = threading.Event(), threading.Event()

    def other_worker():

        try:
            with transaction.atomic():
                InboundEvent.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert processing.drain() == 1
    finally:
        release.set()
        thread.join()
    assert InboundEvent.objects.get(pk=free.pk).status == "processed"
    assert InboundEvent.objects.get(pk=held.pk).status == "received"
    assert processing.drain() == 1
    assert InboundEvent.objects.get(pk=held.pk).status == "processed"


def arrive(channel, n):
    processing.process_inbound_event(event_id=stored(channel, n).pk)
    return Message.objects.get(channel=channel, external_id=f"drain-{n}").conversation


def test_a_rule_added_applies_to_the_next_message_at_once():
    channel = ChannelFactory(slug="partner", kind="api")
    assert "billing" not in set(arrive(channel, 1).tags.values_list("slug", flat=True))
    rule = ClassificationRule.objects.create(name="Billing", keywords=["invoice"], position=1)
    rule.tags.set([Tag.objects.create(slug="billing", name="Billing")])
    assert "billing" in set(arrive(channel, 2).tags.values_list("slug", flat=True))
    rule.is_active = False
    rule.save()
    assert "billing" not in set(arrive(channel, 3).tags.values_list("slug", flat=True))


def test_an_edit_made_by_another_process_is_picked_up(monkeypatch):
    channel = ChannelFactory(slug="partner", kind="api")
    monkeypatch.setattr(refcache, "CHECK_SECONDS", 0.0)
    rule = ClassificationRule.objects.create(
        name="Billing", keywords=["invoice"], position=1, is_active=False
    )
    rule.tags.set([Tag.objects.create(slug="billing", name="Billing")])
    refcache.reset(pending=True)  # from here on, as in a worker that edited nothing itself
    assert "billing" not in set(arrive(channel, 1).tags.values_list("slug", flat=True))
    # Another process switches the rule on: no signal fires in this one...
    ClassificationRule.objects.filter(pk=rule.pk).update(is_active=True)
    assert "billing" not in set(arrive(channel, 2).tags.values_list("slug", flat=True))
    # ...until its commit moves the shared generation, as every watched save does.
    refcache._bump_shared()
    assert "billing" in set(arrive(channel, 3).tags.values_list("slug", flat=True))


def test_a_deactivated_channel_stops_accepting_webhooks(client):
    from inbox.intake.adapters.api import sign

    channel = ChannelFactory(slug="partner", kind="api", secret="s3cret")
    body = json.dumps({"id": "x1", "sender": {"id": "u"}, "text": "hi"}).encode()

    def post():
        return client.post(
            "/webhooks/api/partner/",
            data=body,
            content_type="application/json",
            HTTP_X_SIGNATURE=sign("s3cret", body),
        )

    assert post().status_code == 202
    channel.is_active = False
    channel.save()
    assert post().status_code == 404


def heard_per_fan_out(monkeypatch) -> list[list[str]]:
    """For each fan-out round of message.created events: the status, at that moment, of every
    stored inbound event (what an agent's screen could show versus what is still waiting)."""
    from inbox import hooks

    rounds = []

    def record(events):
        if any(e.type == "message.created" for e in events):
            rounds.append(
                list(InboundEvent.objects.order_by("pk").values_list("status", flat=True))
            )

    monkeypatch.setitem(
        hooks._registry, "events_dispatched", [*hooks._registry["events_dispatched"], (999, record)]
    )
    return rounds


@pytest.mark.django_db(transaction=True)
def test_a_drain_that_keeps_up_fans_messages_out_as_soon_as_they_are_stored(monkeypatch, settings):
    settings.INBOUND_PARTITIONS = 1  # two senders: with partitions, maybe two claims
    # Messages fresher than CAUGHT_UP mean no backlog; widened so a slow test box cannot
    # turn these into a backlog.
    monkeypatch.setattr(processing, "CAUGHT_UP", timezone.timedelta(minutes=5))
    channel = ChannelFactory(slug="partner", kind="api")
    stored(channel, 1), stored(channel, 2)
    rounds = heard_per_fan_out(monkeypatch)
    assert processing.drain() == 2
    # What was waiting is stored together and reaches agents at once, not DISPATCH_WAIT later.
    assert rounds == [["processed", "processed"]]
    stored(channel, 3)
    assert processing.drain() == 1
    assert rounds[-1] == ["processed"] * 3


@pytest.mark.django_db(transaction=True)
def test_a_drain_working_off_a_backlog_fans_out_together(monkeypatch):
    channel = ChannelFactory(slug="partner", kind="api")
    for n in range(3):
        stored(channel, n)
    InboundEvent.objects.update(received_at=timezone.now() - timezone.timedelta(minutes=1))
    rounds = heard_per_fan_out(monkeypatch)
    assert processing.drain() == 3
    assert rounds == [["processed"] * 3]  # one round once caught up, not one per message
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_an_arrival_while_a_drain_is_finishing_gets_a_drain_of_its_own(monkeypatch):
    """The drain task clears its slot's flag when it starts: a message stored after the running
    drain's last look at the queue sends a new task instead of waiting for the re-queue sweep."""
    from config.celery import app
    from inbox.intake import queue, tasks

    sent = []  # what reached the broker (the network edge)
    monkeypatch.setattr(tasks.drain_inbound_events, "delay", lambda slot: sent.append(slot))
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    slots = queue.drain_slots()
    for n in range(slots):
        queue.drain_started(n)  # no task queued
    channel = ChannelFactory(slug="partner", kind="api")

    # A burst queues at most drain_slots() tasks, not one per message.
    assert [queue.schedule_drain() for _ in range(slots + 2)] == [True] * slots + [False] * 2
    assert sent == list(range(slots))
    sent.clear()
    for n in range(slots):
        queue.drain_started(n)  # the worker takes the tasks ...
    assert processing.drain() == 0  # ... and finds nothing waiting (its last claim)
    late = stored(channel, 99)  # arrives before that task has returned
    assert queue.schedule_drain()
    assert len(sent) == 1  # a new drain is on its way for it
    queue.drain_started(sent[0])
    assert processing.drain() == 1
    assert InboundEvent.objects.get(pk=late.pk).status == "processed"


@pytest.mark.django_db
def test_a_database_hiccup_while_processing_is_retried_not_parked(monkeypatch):
    from django.utils import timezone

    from inbox.intake import processing

    channel = ChannelFactory(slug="partner", kind="api")
    body = json.dumps({"id": "e1", "sender": {"id": "s"}, "text": "hello"}).encode()
    event = InboundEvent.objects.create(
        channel=channel, provider="api", body=body, received_at=timezone.now()
    )
    real = processing.receive_message
    monkeypatch.setattr(
        processing,
        "receive_message",
        lambda **kw: (_ for _ in ()).throw(
            OperationalError("server closed the connection unexpectedly")
        ),
    )
    assert processing.process_inbound_event(event_id=event.pk).status == "received"
    monkeypatch.setattr(processing, "receive_message", real)
    event = processing.process_inbound_event(event_id=event.pk)
    assert event.status == "processed" and event.attempts == 2
    assert Message.objects.count() == 1
