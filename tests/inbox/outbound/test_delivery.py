"""Replies and notes, and delivering replies through a provider's HTTP API (a local server)."""

import datetime as dt
import hashlib
import hmac

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from core.errors import ActionRefused
from inbox.models import Message
from inbox.outbound.delivery import deliver, requeue_due
from inbox.outbound.replies import send_reply
from inbox.services import add_note
from tests.accounts.factories import AgentFactory, TeamFactory, ViewerFactory
from tests.inbox.factories import ChannelFactory, ContactIdentityFactory, ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(http_server, team, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the integration's local stand-in
    channel = ChannelFactory(
        kind="api",
        secret="cb-secret",
        default_team=team,
        config={"callback_url": f"{http_server.url}/replies"},
    )
    conversation = ConversationFactory(channel=channel, team=team, thread_key="deal-1")
    ContactIdentityFactory(contact=conversation.contact, kind="api", external_id="crm-7")
    return conversation


def test_a_reply_is_signed_and_posted_to_the_integration(
    conversation, agent, http_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Here is your quote")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent" and reply.external_id == f"switchboard-{reply.pk}"
    [request] = http_server.requests
    assert request.path == "/replies"
    body = request.json()
    assert body["text"] == "Here is your quote" and body["thread"] == "deal-1"
    assert body["recipient"] == {"id": "crm-7"} and body["agent"] == "alice"
    t, v1 = (part.split("=", 1)[1] for part in request.headers["x-signature"].split(","))
    assert v1 == hmac.new(b"cb-secret", f"{t}.".encode() + request.body, hashlib.sha256).hexdigest()
    conversation.refresh_from_db()
    assert conversation.first_response_at is not None and conversation.message_count == 1


def test_a_failing_provider_is_retried_then_succeeds(
    conversation, agent, http_server, django_capture_on_commit_callbacks
):
    http_server.respond(503)
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Hello")
    reply.refresh_from_db()
    assert reply.delivery_status == "queued" and reply.send_attempts == 1
    assert "503" in reply.delivery_error
    assert requeue_due() == 0  # not due yet
    Message.objects.filter(pk=reply.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert requeue_due() == 1
    reply.refresh_from_db()
    assert reply.delivery_status == "sent" and reply.send_attempts == 2
    assert len(http_server.requests) == 2


def test_a_4xx_fails_for_good_and_says_why(
    conversation, agent, http_server, django_capture_on_commit_callbacks
):
    http_server.respond(422, body=b"unknown recipient")
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Hello")
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert "422" in reply.delivery_error and "unknown recipient" in reply.delivery_error


def test_a_sent_message_is_not_sent_twice(
    conversation, agent, http_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Once")
    deliver(message_id=reply.pk)
    assert len(http_server.requests) == 1


def test_a_channel_that_cannot_reply_refuses_before_storing(agent, team):
    channel = ChannelFactory(kind="api", default_team=team, config={})
    conversation = ConversationFactory(channel=channel, team=team)
    with pytest.raises(ActionRefused, match="callback URL"):
        send_reply(conversation_id=conversation.pk, actor=agent, text="Hi")
    assert not Message.objects.exists()


def test_viewers_and_other_teams_cannot_reply(conversation):
    with pytest.raises(PermissionDenied):
        send_reply(conversation_id=conversation.pk, actor=ViewerFactory(), text="Hi")
    with pytest.raises(PermissionDenied):
        send_reply(
            conversation_id=conversation.pk,
            actor=AgentFactory(teams=[TeamFactory(slug="x")]),
            text="Hi",
        )


def test_a_note_records_mentions_of_users_who_can_see_it(
    conversation, agent, team, http_server, django_capture_on_commit_callbacks, published
):
    AgentFactory(username="bob", teams=[team])
    AgentFactory(username="eve", teams=[TeamFactory(slug="elsewhere")])
    with django_capture_on_commit_callbacks(execute=True):
        note = add_note(
            conversation_id=conversation.pk, actor=agent, text="@bob can you check? cc @eve @nobody"
        )
    assert note.kind == "note" and note.delivery_status == ""
    assert list(note.mentions.values_list("username", flat=True)) == ["bob"]
    assert [e.type for e in published] == ["message.created", "note.mentioned"]
    assert http_server.requests == []  # never sent to the customer
