"""GET /metrics: who may scrape, and that each metric follows what happened."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from inbox.chat import service as chat
from inbox.models import InboundEvent
from inbox.services import add_note
from integrations.models import WebhookDelivery
from integrations.services import endpoint_create
from routing.sla_sweep import sweep
from tests.inbox.chat.test_consumer import open_feed, open_widget
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-" + "q8Rr2VvY0bS1kZ7x"


@pytest.fixture(autouse=True)
def _metrics_settings(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_ADDRESSES = ["10.20.0.0/16", "192.0.2.7"]


def scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"HTTP_AUTHORIZATION": "Bearer wrong-token"}, 403),
        ({"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}, 401),
        ({"REMOTE_ADDR": "203.0.113.5"}, 401),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.20.1.1"}, 401),
    ],
)
def test_metrics_are_refused_without_the_token_or_an_allowed_address(client, headers, status):
    response = client.get("/metrics", **headers)
    assert response.status_code == status
    assert "detail" in response.json()
    assert b"switchboard_" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"},
        {"REMOTE_ADDR": "10.20.3.4"},
        {"REMOTE_ADDR": "192.0.2.7"},
    ],
)
def test_metrics_answer_the_token_or_an_allowed_address(client, headers):
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert b"# TYPE switchboard_inbound_backlog gauge" in response.content


@pytest.mark.django_db
def test_nobody_may_scrape_when_neither_token_nor_addresses_are_set(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401


@pytest.mark.django_db
def test_backlog_gauges_follow_the_stored_work(client):
    before = scrape(client)
    assert before[("switchboard_inbound_backlog", ())] == 0
    assert before[("switchboard_inbound_oldest_seconds", ())] == 0
    now = timezone.now()
    for age, status in [(300, "received"), (20, "received"), (900, "processed")]:
        InboundEvent.objects.create(
            provider="api", body=b"{}", status=status, received_at=now - dt.timedelta(seconds=age)
        )
    conversation = ConversationFactory()
    for status in ["queued", "queued", "sent"]:
        MessageFactory(conversation=conversation, direction="out", delivery_status=status)
    after = scrape(client)
    assert after[("switchboard_inbound_backlog", ())] == 2
    assert 300 <= after[("switchboard_inbound_oldest_seconds", ())] < 330
    assert after[("switchboard_outbound_backlog", (("kind", "messages"),))] == 2
    assert after[("switchboard_outbound_backlog", (("kind", "webhooks"),))] == 0


@pytest.mark.django_db
def test_failed_webhook_deliveries_are_counted(
    client, http_server, settings, admin_user, team, agent, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    endpoint_create(
        actor=admin_user,
        url=f"{http_server.url}/hooks",
        event_types=["message.created"],
        secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    )
    conversation = ConversationFactory(team=team)
    key = ("switchboard_webhook_deliveries_failed_total", ())
    before = scrape(client)[key]
    http_server.respond(400)
    with django_capture_on_commit_callbacks(execute=True):
        add_note(conversation_id=conversation.pk, actor=agent, text="first")
    http_server.respond(200)
    with django_capture_on_commit_callbacks(execute=True):
        add_note(conversation_id=conversation.pk, actor=agent, text="second")
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == [
        "failed",
        "succeeded",
    ]
    assert scrape(client)[key] == before + 1


@pytest.mark.django_db
def test_each_sla_sweep_is_timed(client):
    key = ("switchboard_sla_sweep_seconds_count", ())
    before = scrape(client)[key]
    sweep()
    sweep()
    after = scrape(client)
    assert after[key] == before + 2
    assert after[("switchboard_sla_sweep_seconds_bucket", (("le", "+Inf"),))] == before + 2


@pytest.mark.django_db
def test_requests_are_counted_and_timed_per_view_never_per_path(client, agent):
    client.force_login(agent)
    ok = (
        "switchboard_http_requests_total",
        (("method", "GET"), ("status", "200"), ("view", "healthz")),
    )
    missing = (
        "switchboard_http_requests_total",
        (("method", "GET"), ("status", "404"), ("view", "<unresolved>")),
    )
    before = scrape(client)
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/page/123456/")
    after = scrape(client)
    assert after[ok] == before.get(ok, 0) + 3
    assert after[missing] == before.get(missing, 0) + 1
    timed = ("switchboard_http_request_seconds_count", (("view", "healthz"),))
    assert after[timed] == before.get(timed, 0) + 3
    assert not any("123456" in str(labels) for _name, labels in after)


@pytest.mark.django_db(transaction=True)
def test_open_websockets_are_counted_while_open(client, agent, team):
    channel = ChannelFactory(
        kind="chat",
        slug="chat",
        default_team=team,
        config={"allowed_origins": ["https://shop.example.com"]},
    )
    session = chat.start_session(channel=channel, name="Ada", email="ada@example.org")
    feed_key = ("switchboard_websocket_connections", (("consumer", "agent_feed"),))
    chat_key = ("switchboard_websocket_connections", (("consumer", "chat"),))
    before = scrape(client)

    async def scenario():
        feed = await open_feed(agent)
        widget, connected, _ = await open_widget(session)
        assert connected
        while_open = await sync_scrape()
        await feed.disconnect()
        await widget.disconnect()
        return while_open

    sync_scrape = sync_to_async(lambda: scrape(client))
    while_open = async_to_sync(scenario)()
    after = scrape(client)
    assert while_open[feed_key] == before.get(feed_key, 0) + 1
    assert while_open[chat_key] == before.get(chat_key, 0) + 1
    assert after[feed_key] == before.get(feed_key, 0)
    assert after[chat_key] == before.get(chat_key, 0)


@pytest.mark.django_db
def test_multiprocess_mode_adds_up_every_process(client, settings, tmp_path):
    """Two other processes observe into PROMETHEUS_MULTIPROC_DIR; /metrics reports their sum."""
    script = (
        "from core import metrics; metrics.WEBHOOK_DELIVERIES_FAILED.inc(); "
        "metrics.SLA_SWEEP_SECONDS.observe(0.2)"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    samples = scrape(client)
    assert samples[("switchboard_webhook_deliveries_failed_total", ())] == 2
    assert samples[("switchboard_sla_sweep_seconds_count", ())] == 2
    assert samples[("switchboard_inbound_backlog", ())] == 0  # still read from the database
