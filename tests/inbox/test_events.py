import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from inbox import events, groups, hooks
from inbox.models import Event
from tests.inbox.factories import ConversationFactory, EventFactory

pytestmark = pytest.mark.django_db


def test_a_rolled_back_change_publishes_nothing(django_capture_on_commit_callbacks, published):
    conversation = ConversationFactory()

    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        events.publish("conversation.updated", conversation=conversation)
        raise Boom
    assert published == []
    assert not Event.objects.exists()


def test_a_committed_change_reaches_the_teams_group(django_capture_on_commit_callbacks):
    conversation = ConversationFactory()
    layer = get_channel_layer()
    channel_name = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(groups.team(conversation.team_id), channel_name)
    with django_capture_on_commit_callbacks(execute=True):
        event = events.publish(
            "conversation.updated",
            conversation=conversation,
            data={"changes": {"severity": [2, 3]}},
        )
    message = async_to_sync(layer.receive)(channel_name)
    assert message["type"] == "feed.event"
    assert message["event"]["id"] == event.pk
    assert message["event"]["data"]["changes"] == {"severity": [2, 3]}
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_stalled_events_are_dispatched_once_by_the_sweep():
    stalled = EventFactory(created_at=timezone.now() - dt.timedelta(minutes=5))
    fresh = EventFactory(created_at=timezone.now())
    done = EventFactory(dispatched_at=timezone.now())
    seen = []
    hooks.register("event_dispatched", lambda event: seen.append(event.pk))
    try:
        assert events.dispatch_stalled() == 1
        assert events.dispatch_stalled() == 0
    finally:
        hooks._registry["event_dispatched"] = [
            h for h in hooks._registry["event_dispatched"] if h[1].__name__ != "<lambda>"
        ]
    assert seen == [stalled.pk]
    stalled.refresh_from_db()
    fresh.refresh_from_db()
    done.refresh_from_db()
    assert stalled.dispatched_at is not None and fresh.dispatched_at is None


def test_a_failing_subscriber_leaves_the_event_for_the_sweep(django_capture_on_commit_callbacks):
    conversation = ConversationFactory()

    def broken(event):
        raise RuntimeError("subscriber down")

    hooks.register("event_dispatched", broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event = events.publish("conversation.updated", conversation=conversation)
    finally:
        hooks._registry["event_dispatched"] = [
            h for h in hooks._registry["event_dispatched"] if h[1] is not broken
        ]
    event.refresh_from_db()
    assert event.dispatched_at is None


def test_events_of_a_rolled_back_savepoint_are_never_sent(
    django_capture_on_commit_callbacks, published
):
    conversation = ConversationFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        kept = events.publish("conversation.updated", conversation=conversation, data={"n": 1})
        try:
            with transaction.atomic():
                events.publish("conversation.tagged", conversation=conversation)
                raise RuntimeError("inner step failed")
        except RuntimeError:
            pass
        after = events.publish("conversation.assigned", conversation=conversation)
    assert [e.pk for e in published] == [kept.pk, after.pk]
    assert list(Event.objects.values_list("type", flat=True).order_by("pk")) == [
        "conversation.updated",
        "conversation.assigned",
    ]


def test_all_events_of_a_transaction_go_out_together_after_commit(
    django_capture_on_commit_callbacks, monkeypatch
):
    conversation = ConversationFactory()
    flushes = []
    original = events.dispatch_batch
    monkeypatch.setattr(
        events, "dispatch_batch", lambda batch: (flushes.append(len(batch)), original(batch))
    )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for n in range(5):
            events.publish("message.created", conversation=conversation, data={"n": n})
    assert flushes == [5]


@pytest.mark.redis
def test_a_batch_reaches_the_watched_conversation_without_a_send_to_each_unwatched_one(
    django_capture_on_commit_callbacks, monkeypatch
):
    import redis
    from django.conf import settings

    watched, *unwatched = ConversationFactory.create_batch(25)
    layer = get_channel_layer()
    channel_name = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(groups.conversation(watched.pk), channel_name)
    # Other tests' channels may still be in some of these groups (ids repeat across test
    # databases): those are sent to as well.
    client = redis.Redis.from_url(settings.REDIS_URL)
    candidates = {
        group
        for c in [watched, *unwatched]
        for group in events.event_groups(Event(conversation_id=c.pk, team_id=c.team_id))
    }
    joined = {group for group in candidates if client.zcard(layer._group_key(group))}
    sent = []  # group_send costs two Redis round trips even for a group nobody is in
    group_send = type(layer).group_send

    async def recorded(self, group, message):
        sent.append(group)
        return await group_send(self, group, message)

    monkeypatch.setattr(type(layer), "group_send", recorded)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for conversation in [*unwatched, watched]:
            events.publish("conversation.updated", conversation=conversation)
    assert groups.conversation(watched.pk) in joined
    assert sorted(sent) == sorted(joined)
    assert len(joined) < len(candidates) - 20
    message = async_to_sync(layer.receive)(channel_name)
    assert message["type"] == "feed.event"
    assert message["event"]["conversation"] == watched.pk
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def outbox_rows() -> list[tuple]:
    return list(
        Event.objects.order_by("pk").values_list(
            "type", "conversation_id", "team_id", "actor_id", "payload", "created_at"
        )
    )


@pytest.mark.parametrize(
    "json_insert", [False, pytest.param(True, marks=pytest.mark.postgres)], ids=["orm", "json"]
)
def test_events_written_many_at_once_are_the_rows_of_one_at_a_time(settings, json_insert):
    """publish_many() (bulk actions) through bulk_create or, with BULK_JSON_INSERT, one JSON
    document: the same rows as each event saved alone, and the objects get their ids."""
    settings.BULK_JSON_INSERT = json_insert
    conversation = ConversationFactory()
    when = timezone.now().replace(microsecond=654321)

    def outbox():
        return [
            Event(
                type="conversation.updated",
                conversation_id=conversation.pk,
                team_id=conversation.team_id,
                payload={"changes": {"tags": [[], ["ünïcode", 'a "quote"']]}},
                created_at=when,
            ),
            Event(type="contact.created", payload={"contact": 7, "nested": {"n": None}}),
        ]

    with transaction.atomic():
        alone = outbox()
        for event in alone:
            event.created_at = event.created_at or when
            event.save(force_insert=True)
    one_at_a_time = outbox_rows()
    Event.objects.all().delete()

    with transaction.atomic():
        together = outbox()
        together[1].created_at = when
        created = events.publish_many(together)

    assert outbox_rows() == one_at_a_time
    assert [e.pk for e in created] == list(
        Event.objects.order_by("pk").values_list("pk", flat=True)
    )
