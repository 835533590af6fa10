"""Two agents assign the same conversation at the same instant (two API requests in two threads,
both held at the conversation's row lock and released together): one outcome, recorded once,
one `conversation.assigned` event, one notification (the assignee's feed, the webhook)."""

import threading

import pytest
from rest_framework.test import APIClient

from inbox import groups
from inbox.models import Activity, Event
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import ConversationFactory
from tests.support.faultstack import wait_for
from tests.support.feed import FeedListener
from tests.support.pglock import HeldLock

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(60)]


def assign_at_once(conversation, requests: list[tuple]) -> list[int]:
    """POST each (user, body) to the assign endpoint from its own thread, all waiting on the
    conversation's row lock until every one has reached it."""
    from django.db import connection

    lock = HeldLock("SELECT 1 FROM inbox_conversation WHERE id = %s FOR UPDATE", [conversation.pk])
    statuses: list[int] = []

    def post(user, body):
        try:
            client = APIClient()
            client.force_authenticate(user)
            response = client.post(
                f"/api/v1/conversations/{conversation.pk}/assign/", body, format="json"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=pair) for pair in requests]
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: lock.waiters() == len(requests), message="the requests never met")
    finally:
        lock.release()
    for thread in threads:
        thread.join(timeout=20)
    return statuses


@pytest.fixture
def world(transactional_db, http_server, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    team = TeamFactory(slug="support")
    alice = AgentFactory(username="alice", teams=[team])
    bob = AgentFactory(username="bob", teams=[team])
    carol = AgentFactory(username="carol", teams=[team])
    conversation = ConversationFactory(team=team, assignee=None)
    WebhookEndpoint.objects.create(
        url=f"{http_server.url}/hooks",
        events=["conversation.assigned"],
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        enabled=True,
    )
    return {"alice": alice, "bob": bob, "carol": carol, "conversation": conversation}


def test_two_agents_assigning_the_same_conversation_at_once_record_one_outcome(world, http_server):
    alice, bob, carol, conversation = (world[k] for k in ("alice", "bob", "carol", "conversation"))
    carols_feed = FeedListener(groups.user(carol.pk))

    statuses = assign_at_once(
        conversation, [(alice, {"assignee": "carol"}), (bob, {"assignee": "carol"})]
    )

    assert statuses == [200, 200]
    conversation.refresh_from_db()
    assert conversation.assignee == carol
    assigned = Event.objects.filter(type="conversation.assigned", conversation_id=conversation.pk)
    assert assigned.count() == 1
    assert Activity.objects.filter(conversation=conversation, verb="assigned").count() == 1
    assert carols_feed.event_ids() == [assigned.get().pk]
    assert WebhookDelivery.objects.filter(event_type="conversation.assigned").count() == 1
    assert len([r for r in http_server.requests if r.path == "/hooks"]) == 1


def test_two_agents_each_taking_it_at_once_leave_a_history_that_matches_the_outcome(world):
    alice, bob, conversation = (world[k] for k in ("alice", "bob", "conversation"))

    statuses = assign_at_once(
        conversation, [(alice, {"assignee": "alice"}), (bob, {"assignee": "bob"})]
    )

    assert statuses == [200, 200]
    # The row lock orders them: each change is recorded against what it really replaced, and
    # the outcome is the last recorded one; nothing is lost between the two.
    events = list(
        Event.objects.filter(type="conversation.assigned", conversation_id=conversation.pk)
        .order_by("pk")
        .values_list("payload", flat=True)
    )
    assert len(events) == 2
    assert events[0]["before"]["assignee"] is None
    assert events[1]["before"] == events[0]["after"]
    conversation.refresh_from_db()
    assert conversation.assignee.username == events[1]["after"]["assignee"]
    activities = list(
        Activity.objects.filter(conversation=conversation, verb="assigned")
        .order_by("pk")
        .values_list("to_value", flat=True)
    )
    assert activities == [e["after"] for e in events]
