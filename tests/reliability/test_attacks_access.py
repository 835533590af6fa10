"""Attacks on access (issue 11, "Attacks"): another team's data, fields that are not yours,
cross-site requests, guessed URLs and links, stale tokens, password guessing.

Runs on SQLite and on PostgreSQL + Redis (throttle counters in Redis there)."""

import re

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership, User
from accounts.services import create_api_token
from inbox.consumers import AgentFeedConsumer
from inbox.events import publish
from inbox.models import Activity, Conversation, Message
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory
from tests.inbox.factories import (
    AttachmentFactory,
    ChannelFactory,
    ConversationFactory,
    MessageFactory,
)

PASSWORD = "a-long-enough-password-1"


@pytest.fixture
def theirs(db):
    """Sales' conversation, with a message, an attachment and a contact of its own."""
    sales = TeamFactory(slug="sales")
    conversation = ConversationFactory(
        team=sales, channel=ChannelFactory(default_team=sales), subject="Secret deal"
    )
    message = MessageFactory(conversation=conversation, text="the secret price is 42")
    attachment = AttachmentFactory(message=message, name="price-list.pdf")
    return conversation, message, attachment


@pytest.fixture
def outsider(team):
    """An agent of support, who may not see sales' work."""
    user = AgentFactory(username="mallory", teams=[team])
    user.set_password(PASSWORD)
    user.save()
    return user


def api_as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def browser_as(user):
    client = Client()
    client.force_login(user)
    return client


def every_door(conversation, message, attachment):
    """(method, path, data) for every way to read or change a conversation and what hangs off it."""
    c = conversation.pk
    return [
        ("get", f"/api/v1/conversations/{c}/", None),
        ("patch", f"/api/v1/conversations/{c}/", {"status": "resolved"}),
        ("get", f"/api/v1/conversations/{c}/messages/", None),
        ("post", f"/api/v1/conversations/{c}/messages/", {"text": "hi", "kind": "note"}),
        ("post", f"/api/v1/conversations/{c}/tags/", {"tags": ["incident"]}),
        ("delete", f"/api/v1/conversations/{c}/tags/incident/", None),
        ("post", f"/api/v1/conversations/{c}/assign/", {"team": "support", "assignee": None}),
        ("get", f"/api/v1/conversations/{c}/activity/", None),
        ("get", f"/inbox/conversations/{c}/", None),
        ("get", f"/inbox/conversations/{c}/thread/", None),
        ("get", f"/inbox/rows/{c}/", None),
        ("post", f"/inbox/conversations/{c}/reply/", {"text": "hi"}),
        ("post", f"/inbox/conversations/{c}/note/", {"text": "hi"}),
        ("post", f"/inbox/conversations/{c}/status/", {"status": "resolved"}),
        ("post", f"/inbox/conversations/{c}/severity/", {"severity": "critical"}),
        ("get", f"/inbox/messages/{message.pk}/body/", None),
        ("get", f"/inbox/attachments/{attachment.pk}/download/", None),
        ("get", f"/inbox/contacts/{conversation.contact_id}/", None),
    ]


def call(client, method, path, data):
    if path.startswith("/api/"):
        return getattr(client, method)(path, data, format="json")
    return getattr(client, method)(path, data or {})


def assert_nothing_moved(conversation):
    fresh = Conversation.objects.get(pk=conversation.pk)
    assert (fresh.status, fresh.severity, fresh.team_id) == (
        conversation.status,
        conversation.severity,
        conversation.team_id,
    )
    assert Message.objects.filter(conversation=conversation).count() == 1
    assert not Activity.objects.filter(conversation=conversation).exists()


@pytest.mark.django_db
def test_another_teams_conversation_is_404_through_every_door(theirs, outsider):
    conversation, message, attachment = theirs
    api, browser = api_as(outsider), browser_as(outsider)
    for method, path, data in every_door(conversation, message, attachment):
        response = call(api if path.startswith("/api/") else browser, method, path, data)
        assert response.status_code == 404, (method, path, response.status_code)
        assert b"Secret deal" not in response.content and b"secret price" not in response.content
    assert_nothing_moved(conversation)


@pytest.mark.django_db
def test_another_teams_work_is_absent_from_lists_search_exports_and_bulk(theirs, outsider, team):
    conversation, _, _ = theirs
    mine = ConversationFactory(team=team, subject="Mine")
    api = api_as(outsider)
    listed = api.get("/api/v1/conversations/").json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]
    assert api.get("/api/v1/conversations/", {"q": "secret"}).json()["results"] == []
    export = api.get("/api/v1/conversations/export.csv")
    assert b"Secret deal" not in b"".join(export.streaming_content)
    assert (
        api.post(  # agents have no bulk actions at all
            "/api/v1/conversations/bulk/",
            {"ids": [conversation.pk], "action": "status", "status": "resolved"},
            format="json",
        ).status_code
        == 403
    )
    lead = api_as(LeadFactory(username="lead-of-support", teams=[team]))
    bulk = lead.post(
        "/api/v1/conversations/bulk/",
        {"ids": [conversation.pk, mine.pk], "action": "status", "status": "resolved"},
        format="json",
    )
    assert bulk.status_code == 200 and bulk.json()["not_found"] == [conversation.pk]
    assert_nothing_moved(conversation)
    alerts = api.get("/api/v1/sla-alerts/", {"conversation": conversation.pk})
    assert alerts.status_code == 200 and alerts.json() == []


@pytest.mark.django_db
def test_removal_from_a_team_takes_effect_on_the_next_request(outsider, team):
    conversation = ConversationFactory(team=team, subject="Ours until now")
    api = api_as(outsider)
    assert api.get(f"/api/v1/conversations/{conversation.pk}/").status_code == 200
    Membership.objects.filter(user=outsider, team=team).delete()
    assert api.get(f"/api/v1/conversations/{conversation.pk}/").status_code == 404
    assert browser_as(outsider).get(f"/inbox/conversations/{conversation.pk}/").status_code == 404
    assert api.get("/api/v1/conversations/").json()["results"] == []


@pytest.mark.django_db(transaction=True)
def test_an_open_websocket_stops_hearing_a_team_the_moment_the_agent_leaves_it(team):
    agent = AgentFactory(teams=[team])
    conversation = ConversationFactory(team=team, channel=ChannelFactory(default_team=team))
    theirs = ConversationFactory(team=TeamFactory(slug="sales"))

    def publish_committed(conv):
        from django.db import transaction

        with transaction.atomic():
            publish("conversation.updated", conversation=conv, data={})

    async def scenario():
        feed = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
        feed.scope["user"] = agent
        connected, _ = await feed.connect()
        await sync_to_async(publish_committed)(theirs)
        other_team = await feed.receive_nothing(timeout=0.3)
        await sync_to_async(publish_committed)(conversation)
        heard = await feed.receive_json_from(timeout=2)
        await sync_to_async(Membership.objects.filter(user=agent).delete)()
        await sync_to_async(publish_committed)(conversation)
        after = await feed.receive_nothing(timeout=0.3)
        await feed.disconnect()
        return connected, other_team, heard, after

    connected, other_team, heard, after = async_to_sync(scenario)()
    assert connected and other_team and after
    assert heard["event"]["conversation"] == conversation.pk


# --- fields that are not yours -------------------------------------------------------------------


@pytest.mark.django_db
def test_writing_fields_that_are_not_the_users_moves_nothing(agent, team, other_team):
    conversation = ConversationFactory(team=team)
    created = conversation.created_at
    api = api_as(agent)
    stranger = AgentFactory(username="stranger", teams=[other_team])
    response = api.patch(
        f"/api/v1/conversations/{conversation.pk}/",
        {
            "status": "pending",
            "created_at": "2001-01-01T00:00:00Z",
            "channel": "other",
            "team": other_team.slug,
            "assignee": stranger.username,
            "id": 999999,
            "contact": {"id": 1, "email": "x@evil.test"},
        },
        format="json",
    )
    assert response.status_code in (200, 400)
    fresh = Conversation.objects.get(pk=conversation.pk)
    assert fresh.created_at == created and fresh.channel_id == conversation.channel_id
    assert fresh.team_id == team.pk and fresh.assignee_id is None
    assert fresh.contact_id == conversation.contact_id
    assert not Conversation.objects.filter(pk=999999).exists()

    note = api.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {
            "text": "hello",
            "kind": "note",
            "direction": "in",
            "sender_user": stranger.pk,
            "sender": {"type": "contact", "username": "stranger"},
            "created_at": "2001-01-01T00:00:00Z",
            "channel": "other",
        },
        format="json",
    )
    assert note.status_code in (201, 200, 400)
    for message in Message.objects.filter(conversation=conversation):
        assert message.direction == "out" and message.sender_user_id == agent.pk
        assert message.created_at.year > 2001


@pytest.mark.django_db
def test_an_agent_cannot_make_themselves_admin_or_create_channels(agent):
    api = api_as(agent)
    for path, data in [
        ("/api/v1/channels/", {"kind": "api", "slug": "mine", "name": "Mine", "secret": "x"}),
        ("/api/v1/webhook-endpoints/", {"url": "https://example.com/", "events": []}),
    ]:
        assert api.post(path, data, format="json").status_code in (403, 405)
    api.patch(f"/api/v1/users/{agent.pk}/", {"role": "admin"}, format="json")
    agent.refresh_from_db()
    assert agent.role == "agent"


# --- cross-site requests -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cross_site_post_without_a_csrf_token_is_403(agent, team):
    conversation = ConversationFactory(team=team)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent)
    for path, data in [
        (f"/inbox/conversations/{conversation.pk}/status/", {"status": "resolved"}),
        (f"/inbox/conversations/{conversation.pk}/note/", {"text": "forged"}),
        ("/api/v1/conversations/bulk/", {"ids": [conversation.pk], "action": "status"}),
        ("/settings/tokens/", {"name": "stolen"}),
        ("/logout/", {}),
    ]:
        response = browser.post(path, data, HTTP_ORIGIN="https://evil.example")
        assert response.status_code == 403, path
    assert Conversation.objects.get(pk=conversation.pk).status == conversation.status
    assert not Message.objects.exists() and not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_foreign_origin_gets_no_cors_grant(agent):
    browser = browser_as(agent)
    for method in ("get", "options"):
        response = getattr(browser, method)(
            "/api/v1/conversations/", HTTP_ORIGIN="https://evil.example"
        )
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
def test_state_changing_routes_refuse_get(agent, team):
    conversation = ConversationFactory(team=team)
    browser = browser_as(agent)
    for path in [
        f"/inbox/conversations/{conversation.pk}/status/?status=resolved",
        f"/inbox/conversations/{conversation.pk}/reply/?text=hi",
        f"/inbox/conversations/{conversation.pk}/tags/?tags=incident",
        "/inbox/bulk/?action=status&status=resolved",
        "/settings/tokens/1/revoke/",
        f"/inbox/contacts/{conversation.contact_id}/merge/",
    ]:
        assert browser.get(path).status_code == 405, path
    assert Conversation.objects.get(pk=conversation.pk).status == conversation.status


# --- guessed URLs, stale links and tokens, guessing passwords ------------------------------------


@pytest.mark.django_db
def test_guessed_attachment_urls_are_404(theirs, outsider):
    _, _, attachment = theirs
    browser = browser_as(outsider)
    for pk in (attachment.pk, attachment.pk + 1, 10**12, "../../etc/passwd"):
        assert browser.get(f"/inbox/attachments/{pk}/download/").status_code == 404
    anonymous = Client().get(f"/inbox/attachments/{attachment.pk}/download/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


@pytest.mark.django_db
def test_a_reset_link_works_once_and_never_again(outsider, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = Client()
    assert client.post("/password-reset/", {"email": outsider.email}).status_code == 302
    [sent] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/\S+/)", sent.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another-long-password-2", "new_password2": "another-long-password-2"},
    )
    assert done.status_code == 302
    reused = Client().get(link, follow=True)
    assert reused.status_code == 410 and b"invalid or was already used" in reused.content


@pytest.mark.django_db
def test_a_forged_or_expired_reset_link_is_410(outsider, settings):
    uid = urlsafe_base64_encode(force_bytes(outsider.pk))
    forged = Client().get(f"/password-reset/{uid}/abc-123/", follow=True)
    assert forged.status_code == 410
    token = default_token_generator.make_token(outsider)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every token is already expired
    expired = Client().get(f"/password-reset/{uid}/{token}/", follow=True)
    assert expired.status_code == 410


@pytest.mark.django_db
def test_api_tokens_stop_working_when_the_password_changes_and_are_stored_hashed(outsider):
    token, key = create_api_token(user=outsider, name="script")
    assert re.fullmatch(r"[0-9a-f]{32,}", key)  # hex from secrets: 4 bits a character, >= 128
    stored = [str(v) for v in ApiToken.objects.filter(pk=token.pk).values_list()[0]]
    assert key not in stored and any(len(v) >= 64 for v in stored)  # only its hash is kept
    other_key = create_api_token(user=outsider, name="again")[1]
    assert other_key != key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/conversations/").status_code == 200
    outsider.set_password("a-new-password-3")
    outsider.save()
    assert client.get("/api/v1/conversations/").status_code == 401


@pytest.mark.django_db
def test_guessing_passwords_locks_the_account_from_every_address_with_retry_after(
    outsider, settings
):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "login_failures": "5/h"}
    from django.core.cache import cache

    cache.clear()
    client = Client()
    for attempt in range(5):
        response = client.post("/login/", {"username": "mallory", "password": f"guess-{attempt}"})
        assert response.status_code == 200  # the form again, with an error
    refused = client.post("/login/", {"username": "mallory", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "_auth_user_id" not in client.session  # even the right password waits
    elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    other = elsewhere.post("/login/", {"username": "mallory", "password": PASSWORD})
    assert other.status_code == 429  # a guesser moving to another address gains nothing
    assert "_auth_user_id" not in elsewhere.session
    assert User.objects.get(pk=outsider.pk).is_active
    cache.clear()  # the lockout lives in the cache, which outlives this test's transaction
