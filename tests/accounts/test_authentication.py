"""`Authorization: Token KEY` on a real API request: who gets in, and with what scope."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.services import create_api_token, revoke_api_token

pytestmark = pytest.mark.django_db


def with_header(value):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=value)
    return client


def with_token(key):
    return with_header(f"Token {key}")


def test_a_valid_key_reads_as_its_user(agent):
    _, key = create_api_token(user=agent, name="reader", scopes=["read"])
    response = with_token(key).get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


@pytest.mark.parametrize(
    "header",
    [
        "Token not-a-key-we-issued",
        "Token ",  # no key
        "Token two words",
    ],
)
def test_a_bad_key_is_refused_with_401(agent, header):
    create_api_token(user=agent, name="real")
    response = with_header(header).get("/api/v1/teams/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_without_credentials_the_api_asks_for_a_token(db):
    response = APIClient().get("/api/v1/teams/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_stored_hash_does_not_work_as_a_key(agent):
    token, key = create_api_token(user=agent, name="real")
    assert with_token(token.key_hash).get("/api/v1/teams/").status_code == 401
    assert with_token(key).get("/api/v1/teams/").status_code == 200


def test_a_revoked_key_is_refused(agent):
    token, key = create_api_token(user=agent, name="old")
    revoke_api_token(token_id=token.pk, actor=agent)
    response = with_token(key).get("/api/v1/teams/")
    assert response.status_code == 401
    assert "Invalid or revoked token" in response.json()["detail"]


def test_a_deactivated_users_live_key_is_refused(agent):
    token, key = create_api_token(user=agent, name="left the company")
    # A bulk update skips the pre_save that revokes tokens on deactivation (integrations): the
    # token stays live, and authentication itself must still turn the user away.
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert with_token(key).get("/api/v1/teams/").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_read_token_cannot_write_and_a_write_token_can(agent):
    _, reader = create_api_token(user=agent, name="reader", scopes=["read"])
    _, writer = create_api_token(user=agent, name="writer", scopes=["read", "write"])
    refused = with_token(reader).post("/api/v1/tokens/", {"name": "more"}, format="json")
    assert refused.status_code == 403
    assert "write scope" in refused.json()["detail"]
    assert not ApiToken.objects.filter(name="more").exists()
    allowed = with_token(writer).post("/api/v1/tokens/", {"name": "more"}, format="json")
    assert allowed.status_code == 201
    assert ApiToken.objects.filter(name="more", user=agent).exists()


def test_a_write_only_token_cannot_read(agent):
    _, key = create_api_token(user=agent, name="writer", scopes=["write"])
    response = with_token(key).get("/api/v1/teams/")
    assert response.status_code == 403
    assert "read scope" in response.json()["detail"]


def test_last_used_is_touched_at_most_once_a_minute(agent):
    token, key = create_api_token(user=agent, name="busy")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert with_token(key).get("/api/v1/teams/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        with_token(key).get("/api/v1/teams/")
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        with_token(key).get("/api/v1/teams/")
    token.refresh_from_db()
    assert token.last_used_at == start + dt.timedelta(seconds=61)
