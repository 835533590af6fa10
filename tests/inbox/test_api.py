import base64
import datetime as dt
import itertools
import json

import pytest
from django.utils import timezone

from accounts.services import create_api_token
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.tagging.factories import ConversationTagFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/conversations/"


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def world(team, other_team):
    """One conversation per team, one with no team, and one of the other team assigned to alice."""
    own = ConversationFactory(team=team, channel=ChannelFactory(default_team=team))
    foreign = ConversationFactory(team=other_team, channel=ChannelFactory(default_team=other_team))
    unrouted = ConversationFactory(team=None)
    alice = AgentFactory(username="alice", teams=[team])
    handed = ConversationFactory(team=other_team, assignee=alice, channel=foreign.channel)
    return {"own": own, "foreign": foreign, "unrouted": unrouted, "handed": handed, "alice": alice}


# role -> which of the world's conversations it may read
MATRIX = {
    "agent": {"own", "handed"},
    "lead": {"own", "unrouted"},
    "viewer": {"own", "foreign", "unrouted", "handed"},
    "admin": {"own", "foreign", "unrouted", "handed"},
}


def user_for(role, world, team, lead, viewer, admin_user):
    return {"agent": world["alice"], "lead": lead, "viewer": viewer, "admin": admin_user}[role]


@pytest.mark.parametrize(
    ("role", "which"), list(itertools.product(MATRIX, ["own", "foreign", "unrouted", "handed"]))
)
def test_role_matrix_for_detail_messages_and_list(
    role, which, world, team, lead, viewer, admin_user, client_for
):
    client = client_for(user_for(role, world, team, lead, viewer, admin_user))
    conversation = world[which]
    MessageFactory(conversation=conversation)
    allowed = which in MATRIX[role]

    detail = client.get(f"{LIST}{conversation.pk}/")
    thread = client.get(f"{LIST}{conversation.pk}/messages/")
    listed = conversation.pk in ids(client.get(LIST))

    assert detail.status_code == (200 if allowed else 404)
    assert thread.status_code == (200 if allowed else 404)
    assert listed is allowed
    if not allowed:
        assert detail.json() == {"detail": "No such conversation."}


@pytest.mark.parametrize(
    "path",
    [
        LIST,
        f"{LIST}1/",
        f"{LIST}1/messages/",
        "/api/v1/tags/",
        "/api/v1/teams/",
        "/api/v1/channels/",
        "/api/v1/users/",
    ],
)
def test_unauthenticated_requests_are_refused_with_json(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_token_authentication_and_revocation(api_client, world):
    token, key = create_api_token(user=world["alice"], name="ci")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert ids(api_client.get(LIST)) == {world["own"].pk, world["handed"].pk}
    token.revoked_at = timezone.now()
    token.save()
    assert api_client.get(LIST).status_code == 401


def test_a_wrong_token_is_refused(api_client, world):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.get(LIST)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked token."


def test_session_authentication_works_for_the_browser(client, world):
    client.force_login(world["alice"])
    assert client.get(LIST).status_code == 200


def test_detail_shape(client_for, lead, team):
    tag = TagFactory(slug="feature-request")
    conversation = ConversationFactory(team=team, severity=3, subject="Dark mode", assignee=lead)
    ConversationTagFactory(conversation=conversation, tag=tag)
    body = client_for(lead).get(f"{LIST}{conversation.pk}/").json()
    assert body["status"] == "open"
    assert body["severity"] == "high"
    assert body["tags"] == ["feature-request"]
    assert body["team"] == "support"
    assert body["assignee"] == "lead"
    assert body["channel"] == conversation.channel.slug
    assert body["contact"] == {
        "id": conversation.contact.pk,
        "name": conversation.contact.name,
        "email": conversation.contact.email,
        "phone": "",
    }
    for key in ("subject", "created_at", "first_response_due", "resolution_due", "sla_breached"):
        assert key in body


def test_messages_are_oldest_first_with_sender_shapes(client_for, lead, team):
    conversation = ConversationFactory(team=team)
    now = timezone.now()
    newer = MessageFactory(conversation=conversation, created_at=now, text="second")
    older = MessageFactory(
        conversation=conversation, created_at=now - dt.timedelta(minutes=5), text="first"
    )
    reply = MessageFactory(
        conversation=conversation,
        created_at=now + dt.timedelta(minutes=1),
        direction="out",
        sender_contact=None,
        sender_user=lead,
        external_id=None,
        text="third",
    )
    rows = client_for(lead).get(f"{LIST}{conversation.pk}/messages/").json()
    assert [r["id"] for r in rows] == [older.pk, newer.pk, reply.pk]
    assert rows[0]["sender"] == {
        "type": "contact",
        "name": conversation.contact.name,
        "email": conversation.contact.email,
    }
    assert rows[2]["sender"] == {"type": "agent", "name": lead.display_name, "username": "lead"}
    assert rows[2]["direction"] == "out"


def test_the_list_costs_the_same_queries_for_5_and_50(
    client_for, lead, team, django_assert_max_num_queries
):
    client = client_for(lead)
    tags = [TagFactory(slug=f"t{i}") for i in range(3)]

    def make(n):
        for _ in range(n):
            conversation = ConversationFactory(team=team, assignee=AgentFactory(teams=[team]))
            for tag in tags:
                ConversationTagFactory(conversation=conversation, tag=tag)

    make(5)
    with django_assert_max_num_queries(2) as small:
        assert len(client.get(f"{LIST}?page_size=50").json()["results"]) == 5
    make(45)
    with django_assert_max_num_queries(2) as large:
        assert len(client.get(f"{LIST}?page_size=50").json()["results"]) == 50
    assert len(small.captured_queries) == len(large.captured_queries)


def test_reference_lists(client_for, viewer, team):
    client = client_for(viewer)
    ChannelFactory(slug="email", default_team=team, secret="s3cret")
    LeadFactory(username="lee", teams=[team])
    assert {t["slug"] for t in client.get("/api/v1/tags/").json()} >= {
        "feature-request",
        "incident",
    }
    assert [t["slug"] for t in client.get("/api/v1/teams/").json()] == ["support"]
    channels = client.get("/api/v1/channels/").json()
    assert channels[0]["slug"] == "email" and channels[0]["team"] == "support"
    assert "secret" not in channels[0]
    users = {u["username"]: u for u in client.get("/api/v1/users/").json()}
    assert users["lee"]["teams"] == ["support"] and users["lee"]["role"] == "lead"
    assert "password" not in users["lee"]


def test_paging_walks_every_conversation_once(client_for, admin_user, team):
    base = timezone.now()
    made = {
        ConversationFactory(team=team, last_message_at=base - dt.timedelta(minutes=i % 4)).pk
        for i in range(23)
    }
    client = client_for(admin_user)
    for ordering in [
        "-last_message_at",
        "created_at",
        "-created_at",
        "first_response_due",
        "severity",
    ]:
        seen, url = [], f"{LIST}?page_size=5&ordering={ordering}"
        while url:
            body = client.get(url).json()
            seen += [r["id"] for r in body["results"]]
            url = body["next"]
        assert sorted(seen) == sorted(made), ordering
        assert len(seen) == len(set(seen)), ordering


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=closed", "status"),
        ("severity=urgent", "severity"),
        ("channel=nope", "channel"),
        ("team=nope", "team"),
        ("tag=nope", "tag"),
        ("tag_any=nope", "tag_any"),
        ("assignee=nobody", "assignee"),
        ("unassigned=maybe", "unassigned"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2026-13-01", "created_before"),
        ("ordering=id", "ordering"),
        ("page_size=1000", "page_size"),
        ("cursor=!!!", "cursor"),
    ],
)
def test_invalid_filters_are_a_400_naming_the_field(client_for, admin_user, query, field):
    response = client_for(admin_user).get(f"{LIST}?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_filters_combine(client_for, admin_user, team, other_team):
    feature, incident = TagFactory(slug="feature-request"), TagFactory(slug="incident")
    chat = ChannelFactory(slug="chat", kind="chat", default_team=team)
    bob = AgentFactory(username="bob", teams=[team])
    old = timezone.now() - dt.timedelta(days=10)
    a = ConversationFactory(team=team, channel=chat, severity=3, assignee=bob)
    b = ConversationFactory(team=team, channel=chat, severity=3, created_at=old)
    c = ConversationFactory(team=other_team, status="resolved", sla_breached=True)
    ConversationTagFactory(conversation=a, tag=feature)
    ConversationTagFactory(conversation=a, tag=incident)
    ConversationTagFactory(conversation=b, tag=feature)
    ConversationTagFactory(conversation=c, tag=incident)
    client = client_for(admin_user)

    def query(q):
        return ids(client.get(f"{LIST}?{q}"))

    assert query("tag=feature-request") == {a.pk, b.pk}
    assert query("tag=feature-request&tag=incident") == {a.pk}
    assert query("tag_any=feature-request&tag_any=incident") == {a.pk, b.pk, c.pk}
    assert query("channel=chat&severity=high") == {a.pk, b.pk}
    assert query("channel=chat&severity=high&unassigned=true") == {b.pk}
    assert query("assignee=bob") == {a.pk}
    assert query("team=sales") == {c.pk}
    assert query("status=resolved&sla_breached=true") == {c.pk}
    assert query("status=open&status=resolved&team=support") == {a.pk, b.pk}
    assert query(f"created_before={(old + dt.timedelta(days=1)).date().isoformat()}") == {b.pk}
    assert query(
        "created_after=" + (old + dt.timedelta(days=1)).isoformat().replace("+", "%2B")
    ) == {a.pk, c.pk}


def test_sla_at_risk_lists_open_conversations_due_within_the_hour(client_for, admin_user, team):
    now = timezone.now()
    first_soon = ConversationFactory(team=team, first_response_due=now + dt.timedelta(minutes=20))
    next_soon = ConversationFactory(team=team, next_response_due=now + dt.timedelta(minutes=50))
    ConversationFactory(team=team, first_response_due=now + dt.timedelta(hours=3))  # not yet
    ConversationFactory(team=team, first_response_due=now - dt.timedelta(minutes=5))  # late
    ConversationFactory(
        team=team, first_response_due=now + dt.timedelta(minutes=5), sla_breached=True
    )
    ConversationFactory(
        team=team, status="resolved", next_response_due=now + dt.timedelta(minutes=5)
    )
    client = client_for(admin_user)
    assert ids(client.get(f"{LIST}?sla_at_risk=true")) == {first_soon.pk, next_soon.pk}
    assert first_soon.pk not in ids(client.get(f"{LIST}?sla_at_risk=false"))
    bad = client.get(f"{LIST}?sla_at_risk=soonish")
    assert bad.status_code == 400 and "sla_at_risk" in bad.json()


def test_assignee_me(client_for, team):
    me = AgentFactory(username="me-agent", teams=[team])
    mine = ConversationFactory(team=team, assignee=me)
    ConversationFactory(team=team)
    assert ids(client_for(me).get(f"{LIST}?assignee=me")) == {mine.pk}


def test_full_text_search_over_subject_and_messages(client_for, admin_user, team):
    by_subject = ConversationFactory(team=team, subject="Invoice missing")
    by_body = ConversationFactory(team=team, subject="Hello")
    ConversationFactory(team=team, subject="Unrelated")
    from inbox import search

    search.index_text(conversation_id=by_subject.pk, text="", subject="Invoice missing")
    MessageFactory(conversation=by_body, text="where is my invoice for October?")
    search.index_text(conversation_id=by_body.pk, text="where is my invoice for October?")
    assert ids(client_for(admin_user).get(f"{LIST}?q=invoice")) == {by_subject.pk, by_body.pk}


def test_teams_filter_is_scoped_for_agents(client_for, team):
    sales = TeamFactory(slug="sales")
    agent = AgentFactory(teams=[team])
    ConversationFactory(team=sales)
    assert ids(client_for(agent).get(f"{LIST}?team=sales")) == set()


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
