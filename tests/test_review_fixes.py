"""Bugs found in review, each pinned by the behaviour a user would notice."""

import base64
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError, transaction

from accounts.models import Membership, User
from inbox import events
from inbox.consumers import AgentFeedConsumer
from inbox.models import InboundEvent, Message
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory


def publish_committed(type_, conversation=None, data=None):
    with transaction.atomic():
        return events.publish(type_, conversation=conversation, data=data)


@pytest.mark.django_db(transaction=True)
def test_an_agent_removed_from_a_team_stops_hearing_it_at_once():
    support = TeamFactory(slug="support")
    agent = AgentFactory(teams=[support])
    conversation = ConversationFactory(team=support, channel=ChannelFactory(default_team=support))

    async def scenario():
        feed = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
        feed.scope["user"] = agent
        await feed.connect()
        await sync_to_async(publish_committed)("conversation.updated", conversation)
        before = await feed.receive_json_from(timeout=2)
        await sync_to_async(Membership.objects.filter(user=agent).delete)()
        await sync_to_async(publish_committed)("conversation.updated", conversation)
        silent = await feed.receive_nothing(timeout=0.3)
        await sync_to_async(User.objects.filter(pk=agent.pk).update)(is_active=False)
        await sync_to_async(publish_committed)("conversation.updated", conversation)
        closed = await feed.receive_output(timeout=2)
        return before, silent, closed

    before, silent, closed = async_to_sync(scenario)()
    assert before["event"]["conversation"] == conversation.pk
    assert silent
    assert closed == {"type": "websocket.close", "code": 4401}


@pytest.mark.django_db(transaction=True)
def test_contact_events_reach_only_those_who_see_everything():
    lead = LeadFactory(teams=[TeamFactory(slug="sales")])

    async def scenario():
        feed = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
        feed.scope["user"] = lead
        await feed.connect()
        await sync_to_async(publish_committed)(
            "contact.merged", None, {"identities": ["email:vip@secret.example"]}
        )
        return await feed.receive_nothing(timeout=0.3)

    assert async_to_sync(scenario)()


@pytest.mark.django_db
def test_a_lead_cannot_spread_work_onto_another_teams_agents(client_for):
    support, sales = TeamFactory(slug="support"), TeamFactory(slug="sales")
    lead = LeadFactory(teams=[support])
    AgentFactory(username="carol", teams=[sales])
    conversation = ConversationFactory(team=support, channel=ChannelFactory(default_team=support))
    response = client_for(lead).post(
        "/api/v1/conversations/bulk/",
        {"ids": [conversation.pk], "action": "assign", "team": "sales", "spread": True},
        format="json",
    )
    assert response.status_code == 403
    conversation.refresh_from_db()
    assert conversation.assignee is None and conversation.team == support


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor", [["abc", 1], [{"a": 1}, 1], [3, 99999999999999999999], [True, 1]]
)
def test_a_crafted_cursor_is_a_400(client_for, admin_user, cursor):
    token = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")
    response = client_for(admin_user).get(
        f"/api/v1/conversations/?ordering=severity&cursor={token}"
    )
    assert response.status_code == 400 and "cursor" in response.json()


@pytest.mark.django_db
def test_ids_beyond_64_bits_are_a_400_not_a_500(client_for, admin_user):
    client = client_for(admin_user)
    bulk = client.post(
        "/api/v1/conversations/bulk/",
        {"ids": [99999999999999999999], "action": "status", "status": "open"},
        format="json",
    )
    assert bulk.status_code == 400
    assert client.get("/api/v1/sla-alerts/?conversation=99999999999999999999").status_code == 400


@pytest.mark.django_db
def test_esp_webhooks_are_closed_until_a_secret_is_set(client, settings):
    settings.ANYMAIL = {}
    response = client.post(
        "/webhooks/esp/postmark/inbound/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 401 and response.json()["code"] == "not_configured"
    assert not InboundEvent.objects.exists()


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


@pytest.mark.django_db
def test_an_sla_mail_goes_out_even_when_the_subject_has_line_breaks(settings):
    from django.core import mail

    from routing.sla_notify import notify_by_email

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    agent = AgentFactory(email="alice@example.com")
    conversation = ConversationFactory(subject="Help\nBcc: x@evil.example", assignee=agent)
    event = events.publish(
        "sla.warning", conversation=conversation, data={"target": "first_response"}
    )
    notify_by_email(event=event)
    [sent] = mail.outbox
    assert sent.to == ["alice@example.com"] and "\n" not in sent.subject and sent.bcc == []


def test_each_install_gets_its_own_secret_key(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(SWITCHBOARD_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    probe = "import django; from django.conf import settings; django.setup(); print(settings.SECRET_KEY)"
    first = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    second = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    key = first.stdout.strip().splitlines()[-1]
    assert key == second.stdout.strip().splitlines()[-1] and len(key) > 40
    assert "insecure" not in key and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
