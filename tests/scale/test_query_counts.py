"""Every list endpoint and page costs the same number of SQL queries for 5 rows as for 50: no
query per row (N+1) anywhere a big inbox would feel it."""

import datetime as dt
import hashlib
import itertools

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from inbox import search
from inbox.models import SavedView
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from routing.models import SLAAlert
from tagging.models import ConversationTag, Tag
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import (
    ActivityFactory,
    AttachmentFactory,
    ChannelFactory,
    ContactFactory,
    ContactIdentityFactory,
    ConversationFactory,
    EventFactory,
    InboundEventFactory,
    MessageFactory,
)

serial = itertools.count()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_same_queries(client, url, make, rows, page=50):
    """Make 5 rows, request, make 45 more, request again: the same number of queries. `page` is
    how many rows the page shows at most."""
    make(5)
    client.get(url)  # warm: session, content types, caches filled once per process
    with CaptureQueriesContext(connection) as five:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    assert rows(response) == 5
    make(45)
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(url)
    assert response.status_code == 200
    assert rows(response) == min(50, page)
    assert len(fifty) == len(five), "\n".join(q["sql"][:200] for q in fifty.captured_queries)


def results(response):
    body = response.json()
    return len(body["results"] if isinstance(body, dict) else body)


@pytest.fixture
def channel(team):
    return ChannelFactory(slug="email", default_team=team)


def conversation(channel, **kw):
    c = ConversationFactory(channel=channel, team=channel.default_team, **kw)
    c.refresh_from_db()
    return c


def tag_it(c, *slugs):
    for slug in slugs:
        ConversationTag.objects.create(conversation=c, tag=Tag.objects.get(slug=slug))


# --- API lists ----------------------------------------------------------------------------------


def test_conversation_list(agent, channel):
    other = AgentFactory(teams=[channel.default_team])

    def make(n):
        for i in range(n):
            c = conversation(channel, assignee=[agent, other][i % 2], contact=ContactFactory())
            tag_it(c, "incident", "feature-request")

    assert_same_queries(client_for(agent), "/api/v1/conversations/?page_size=100", make, results)


@pytest.mark.parametrize(
    "query",
    ["team=support", "tag=feature-request", "sla_breached=false", "q=Question", "assignee=me"],
)
def test_conversation_list_filtered(agent, channel, query):
    def make(n):
        for _ in range(n):
            c = conversation(channel, assignee=agent, subject="Question about billing")
            search.index_text(conversation_id=c.pk, text="", subject=c.subject)
            tag_it(c, "feature-request")

    assert_same_queries(
        client_for(agent), f"/api/v1/conversations/?page_size=100&{query}", make, results
    )


def test_conversation_export(agent, channel):
    def make(n):
        for _ in range(n):
            tag_it(conversation(channel, assignee=agent), "incident")

    assert_same_queries(
        client_for(agent),
        "/api/v1/conversations/export.csv",
        make,
        lambda r: b"".join(r.streaming_content).count(b"\n") - 1,
    )


def test_message_list(agent, channel):
    c = conversation(channel)

    def make(n):
        for i in range(n):
            if i % 2:
                m = MessageFactory(
                    conversation=c, direction="out", sender_user=agent, sender_contact=None,
                    external_id=None,
                )  # fmt: skip
            else:
                m = MessageFactory(conversation=c, html='<p>see <img src="cid:x1"></p>')
            AttachmentFactory(message=m, content_id="x1")

    assert_same_queries(client_for(agent), f"/api/v1/conversations/{c.pk}/messages/", make, results)


def test_activity_list(agent, channel):
    c = conversation(channel)
    make = lambda n: [ActivityFactory(conversation=c, actor=agent) for _ in range(n)]  # noqa: E731
    assert_same_queries(client_for(agent), f"/api/v1/conversations/{c.pk}/activity/", make, results)


def test_contact_detail_lists_its_conversations(agent, channel):
    contact = ContactFactory()
    ContactIdentityFactory(contact=contact)

    def make(n):
        for _ in range(n):
            conversation(channel, contact=contact, assignee=agent)

    assert_same_queries(
        client_for(agent),
        f"/api/v1/contacts/{contact.pk}/",
        make,
        lambda r: len(r.json()["conversations"]),
    )


def test_tag_list(agent):
    base = Tag.objects.count()

    def make(n):
        for _ in range(n):
            i = next(serial)
            Tag.objects.create(slug=f"tag-{i}", name=f"Tag {i}")

    assert_same_queries(client_for(agent), "/api/v1/tags/", make, lambda r: results(r) - base)


def test_team_list(agent):
    base = 1  # the agent's own team

    def make(n):
        for _ in range(n):
            TeamFactory()

    assert_same_queries(client_for(agent), "/api/v1/teams/", make, lambda r: results(r) - base)


def test_user_list(agent, team, other_team):
    def make(n):
        for _ in range(n):
            AgentFactory(teams=[team, other_team])

    assert_same_queries(client_for(agent), "/api/v1/users/", make, lambda r: results(r) - 1)


def test_channel_list(agent, team):
    def make(n):
        for _ in range(n):
            ChannelFactory(default_team=team)

    assert_same_queries(client_for(agent), "/api/v1/channels/", make, results)


def test_sla_alert_list(agent, channel):
    now = timezone.now()

    def make(n):
        for _ in range(n):
            SLAAlert.objects.create(
                conversation=conversation(channel), target="first_response", kind="breach",
                due_at=now - dt.timedelta(minutes=next(serial)), raised_at=now,
            )  # fmt: skip

    assert_same_queries(client_for(agent), "/api/v1/sla-alerts/", make, results)


def test_inbound_event_list(admin_user, channel):
    make = lambda n: [InboundEventFactory(channel=channel) for _ in range(n)]  # noqa: E731
    assert_same_queries(
        client_for(admin_user), "/api/v1/inbound-events/?page_size=100", make, results
    )


def endpoint_for(admin_user):
    return WebhookEndpoint.objects.create(
        url=f"https://hooks.example.com/{next(serial)}",
        secret="whsec_dGVzdA==",
        events=["conversation.created"],
        created_by=admin_user,
    )


def test_webhook_endpoint_list(admin_user):
    make = lambda n: [endpoint_for(admin_user) for _ in range(n)]  # noqa: E731
    assert_same_queries(client_for(admin_user), "/api/v1/webhook-endpoints/", make, results)


def test_webhook_delivery_list(admin_user):
    endpoint = endpoint_for(admin_user)

    def make(n):
        for _ in range(n):
            delivery = WebhookDelivery.objects.create(
                event=EventFactory(), endpoint=endpoint, event_type="conversation.created",
                payload={}, attempts=2,
            )  # fmt: skip
            for code in (500, 200):
                WebhookAttempt.objects.create(
                    delivery=delivery, at=timezone.now(), status_code=code
                )

    assert_same_queries(
        client_for(admin_user),
        f"/api/v1/webhook-endpoints/{endpoint.pk}/deliveries/?page_size=100",
        make,
        results,
    )


def token_for(user):
    key = f"key-{next(serial)}"
    return ApiToken.objects.create(
        user=user, name=key, key_hash=hashlib.sha256(key.encode()).hexdigest(), prefix=key[:8],
        scopes=["read"],
    )  # fmt: skip


def test_token_list(agent):
    make = lambda n: [token_for(agent) for _ in range(n)]  # noqa: E731
    assert_same_queries(client_for(agent), "/api/v1/tokens/", make, results)


def test_saved_view_list_counts_every_view_in_one_query(agent, team, channel):
    conversation(channel, assignee=agent)

    def make(n):
        for i in range(n):
            SavedView.objects.create(
                name=f"View {next(serial)}", owner=agent, team=team if i % 2 else None,
                filters={"status": ["open"], "tag": ["incident"]} if i % 3 else {},
            )  # fmt: skip

    client = client_for(agent)
    assert_same_queries(client, "/api/v1/views/", make, results)
    counts = {
        v["filters"].get("tag", [None])[0]: v["count"] for v in client.get("/api/v1/views/").json()
    }
    assert counts == {None: 1, "incident": 0}  # each view still has its own live count


# --- pages --------------------------------------------------------------------------------------


def rows_marked(marker: bytes):
    return lambda r: r.content.count(marker)


def test_inbox_page(agent, channel):
    def make(n):
        for _ in range(n):
            tag_it(conversation(channel, assignee=agent), "incident")

    assert_same_queries(
        client_for(agent),
        "/inbox/?page_size=100",
        make,
        lambda r: len(r.context["conversations"]),
    )


def test_inbox_sidebar(agent, channel):
    def make(n):
        for _ in range(n):
            conversation(channel, assignee=agent)

    client = client_for(agent)
    make(5)
    client.get("/inbox/sidebar/")
    with CaptureQueriesContext(connection) as five:
        assert client.get("/inbox/sidebar/").status_code == 200
    make(45)
    with CaptureQueriesContext(connection) as fifty:
        assert client.get("/inbox/sidebar/").status_code == 200
    assert len(five) == len(fifty)


def test_conversation_page(agent, channel):
    c = conversation(channel, assignee=agent)
    tag_it(c, "incident")

    def make(n):
        for i in range(n):
            m = MessageFactory(
                conversation=c,
                direction="out" if i % 2 else "in",
                sender_user=agent if i % 2 else None,
                external_id=None if i % 2 else f"<m{next(serial)}@example.com>",
            )
            AttachmentFactory(message=m)
            ActivityFactory(conversation=c, actor=agent)

    assert_same_queries(
        client_for(agent),
        f"/inbox/conversations/{c.pk}/",
        make,
        lambda r: len(r.context["thread_messages"]),
    )


def test_conversation_page_activity_says_names_without_a_query_per_row(agent, channel):
    """The activity panel names tags, teams and people (workspace.activity_text) in one query per
    kind for the whole list."""
    c = conversation(channel, assignee=agent)

    def make(n):
        for i in range(n):
            if i % 3 == 0:
                ActivityFactory(conversation=c, verb="tagged", from_value=None, to_value="incident")
            elif i % 3 == 1:
                ActivityFactory(
                    conversation=c, verb="untagged", actor=agent, from_value="incident",
                    to_value=None,
                )  # fmt: skip
            else:
                ActivityFactory(
                    conversation=c, verb="assigned", reason="auto (least_load)",
                    from_value={"team": "support", "assignee": None},
                    to_value={"team": "support", "assignee": agent.username},
                )  # fmt: skip

    assert_same_queries(
        client_for(agent),
        f"/inbox/conversations/{c.pk}/",
        make,
        rows_marked(b'class="activity-text"'),
    )


def test_contact_page(agent, channel):
    contact = ContactFactory()
    ContactIdentityFactory(contact=contact)

    def make(n):
        for _ in range(n):
            conversation(channel, contact=contact, assignee=agent)

    assert_same_queries(
        client_for(agent),
        f"/inbox/contacts/{contact.pk}/",
        make,
        lambda r: len(r.context["contact"].visible_conversations),
    )


def test_lead_board(lead, channel):
    def make(n):
        for _ in range(n):
            conversation(channel)

    assert_same_queries(
        client_for(lead),
        "/inbox/board/",
        make,
        lambda r: len(r.context["board"][0]["queue"]),
    )


def test_product_page(agent, channel):
    def make(n):
        for _ in range(n):
            tag_it(conversation(channel, assignee=agent), "feature-request", "incident")

    assert_same_queries(
        client_for(agent),
        "/inbox/product/",
        make,
        lambda r: len(r.context["conversations"]),
        page=25,
    )


def test_settings_webhooks_page(admin_user):
    make = lambda n: [endpoint_for(admin_user) for _ in range(n)]  # noqa: E731
    assert_same_queries(
        client_for(admin_user),
        "/settings/webhooks/",
        make,
        lambda r: len(list(r.context["endpoints"])),
    )


def test_settings_webhook_deliveries_page(admin_user):
    endpoint = endpoint_for(admin_user)

    def make(n):
        for _ in range(n):
            delivery = WebhookDelivery.objects.create(
                event=EventFactory(), endpoint=endpoint, event_type="conversation.created",
                payload={},
            )  # fmt: skip
            WebhookAttempt.objects.create(delivery=delivery, at=timezone.now(), status_code=200)

    assert_same_queries(
        client_for(admin_user),
        f"/settings/webhooks/{endpoint.pk}/",
        make,
        lambda r: len(list(r.context["deliveries"])),
    )


def test_settings_tokens_page(agent):
    make = lambda n: [token_for(agent) for _ in range(n)]  # noqa: E731
    assert_same_queries(
        client_for(agent), "/settings/tokens/", make, lambda r: len(list(r.context["tokens"]))
    )
