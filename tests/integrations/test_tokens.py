"""Personal API tokens: created and revoked through the API, limited by scope and by role, and
revoked when the user's credentials change."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import create_api_token
from tests.inbox.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def with_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_user_creates_a_token_sees_the_key_once_and_uses_it(client_for, agent):
    response = client_for(agent).post(
        "/api/v1/tokens/", {"name": "CRM sync", "scopes": ["read"]}, format="json"
    )
    assert response.status_code == 201
    created = response.json()
    assert created["scopes"] == ["read"] and created["prefix"] == created["key"][:8]
    listed = client_for(agent).get("/api/v1/tokens/").json()
    assert [t["name"] for t in listed] == ["CRM sync"] and "key" not in listed[0]
    assert ApiToken.objects.get().key_hash != created["key"]
    me = with_token(created["key"]).get("/api/v1/users/me/")
    assert me.status_code == 200 and me.json()["username"] == "alice"


def test_a_read_token_cannot_write(agent, team):
    conversation = ConversationFactory(team=team)
    _, key = create_api_token(user=agent, name="reader", scopes=["read"])
    client = with_token(key)
    assert client.get(f"/api/v1/conversations/{conversation.pk}/").status_code == 200
    response = client.patch(
        f"/api/v1/conversations/{conversation.pk}/", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 403 and "write scope" in response.json()["detail"]
    conversation.refresh_from_db()
    assert conversation.status == "open"


def test_a_write_token_can_triage(agent, team):
    conversation = ConversationFactory(team=team)
    _, key = create_api_token(user=agent, name="bot", scopes=["write"])
    response = with_token(key).patch(
        f"/api/v1/conversations/{conversation.pk}/", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.status == "resolved"


def test_admin_endpoints_need_the_admin_scope_and_the_admin_role(admin_user, agent):
    _, triage = create_api_token(user=admin_user, name="triage", scopes=["read", "write"])
    _, full = create_api_token(user=admin_user, name="ops", scopes=["admin"])
    _, agents = create_api_token(user=agent, name="mine", scopes=["read", "write", "admin"])
    assert with_token(triage).get("/api/v1/webhook-endpoints/").status_code == 403
    assert with_token(full).get("/api/v1/webhook-endpoints/").status_code == 200
    assert with_token(agents).get("/api/v1/webhook-endpoints/").status_code == 403


def test_a_revoked_token_stops_working(client_for, agent, viewer):
    token, key = create_api_token(user=agent, name="old")
    assert client_for(viewer).delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert with_token(key).get("/api/v1/users/me/").status_code == 200
    assert client_for(agent).delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    assert with_token(key).get("/api/v1/users/me/").status_code == 401
    [listed] = client_for(agent).get("/api/v1/tokens/").json()
    assert listed["revoked_at"] is not None


def test_changing_the_password_revokes_every_token(agent):
    _, key = create_api_token(user=agent, name="a")
    agent.set_password("a brand new passphrase")
    agent.save()
    assert with_token(key).get("/api/v1/users/me/").status_code == 401


def test_deactivating_the_user_revokes_every_token(agent):
    token, key = create_api_token(user=agent, name="a")
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert with_token(key).get("/api/v1/users/me/").status_code == 401


def test_saving_a_user_without_credential_changes_keeps_their_tokens(agent):
    token, _ = create_api_token(user=agent, name="a")
    agent.capacity = 3
    agent.save()
    token.refresh_from_db()
    assert token.revoked_at is None


def test_bad_token_input_gets_field_errors(client_for, agent):
    response = client_for(agent).post(
        "/api/v1/tokens/", {"name": "", "scopes": ["root"]}, format="json"
    )
    assert response.status_code == 400 and {"name", "scopes"} <= set(response.json())


def test_scopes_that_are_not_a_list_are_refused_not_a_token_without_scopes(client_for, agent):
    """The schema says an array; an object used to make a token that could do nothing."""
    response = client_for(agent).post(
        "/api/v1/tokens/", {"name": "odd", "scopes": {}}, format="json"
    )
    assert response.status_code == 400 and "scopes" in response.json()
    assert not ApiToken.objects.filter(name="odd").exists()
    form = client_for(agent).post("/api/v1/tokens/", {"name": "form", "scopes": ["read", "write"]})
    assert form.status_code == 201 and form.json()["scopes"] == ["read", "write"]


def test_creating_and_revoking_tokens_is_audited_without_the_key(client_for, agent, caplog):
    caplog.set_level("INFO", logger="switchboard.audit")
    created = client_for(agent).post("/api/v1/tokens/", {"name": "CRM"}, format="json").json()
    client_for(agent).delete(f"/api/v1/tokens/{created['id']}/")
    lines = [r.getMessage() for r in caplog.records if r.name == "switchboard.audit"]
    assert any(f"api token created: id={created['id']} user=alice" in line for line in lines)
    assert any(f"api token revoked: id={created['id']} user=alice" in line for line in lines)
    assert all(created["key"] not in line for line in lines)
