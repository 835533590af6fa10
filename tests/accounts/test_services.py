"""API tokens: created with a key shown once, revoked one at a time or all at once."""

import datetime as dt
import logging

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import create_api_token, revoke_all_api_tokens, revoke_api_token
from tests.accounts.factories import AgentFactory, ApiTokenFactory

pytestmark = pytest.mark.django_db


def test_a_new_token_stores_only_a_hash_of_its_key(agent):
    token, key = create_api_token(user=agent, name="CRM sync", scopes=["read"])
    token.refresh_from_db()
    assert len(key) == 40 and key != token.key_hash
    assert token.key_hash == ApiToken.hash_key(key)
    assert token.prefix == key[:8]
    assert token.scopes == ["read"] and token.name == "CRM sync" and token.user == agent
    assert token.revoked_at is None and token.last_used_at is None


def test_a_token_gets_every_scope_unless_told_otherwise(agent):
    token, _ = create_api_token(user=agent, name="all")
    assert sorted(token.scopes) == ["admin", "read", "write"]


def test_an_empty_scope_list_is_kept_empty(agent):
    token, _ = create_api_token(user=agent, name="none", scopes=[])
    token.refresh_from_db()
    assert token.scopes == []


def test_every_token_gets_a_different_key(agent):
    keys = {create_api_token(user=agent, name=f"t{n}")[1] for n in range(5)}
    assert len(keys) == 5
    assert ApiToken.objects.filter(user=agent).count() == 5


def test_the_audit_log_names_the_token_but_never_its_key(agent, caplog):
    with caplog.at_level(logging.INFO, logger="switchboard.audit"):
        token, key = create_api_token(user=agent, name="bot", scopes=["read", "write"])
        revoke_api_token(token_id=token.pk, actor=agent)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"api token created: id={token.pk} user=alice prefix={key[:8]}" in logged
    assert f"api token revoked: id={token.pk}" in logged
    assert key not in logged


def test_revoking_marks_the_token_once(agent):
    token, _ = create_api_token(user=agent, name="old")
    first = revoke_api_token(token_id=token.pk, actor=agent).revoked_at
    assert first is not None
    again = revoke_api_token(token_id=token.pk, actor=agent)
    assert again.revoked_at == first  # idempotent: the first revocation's time stands
    token.refresh_from_db()
    assert token.revoked_at == first


def test_nobody_revokes_another_users_token(agent):
    token, _ = create_api_token(user=agent, name="mine")
    with pytest.raises(ApiToken.DoesNotExist):
        revoke_api_token(token_id=token.pk, actor=AgentFactory())
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_all_counts_live_tokens_and_spares_other_users(agent):
    earlier = timezone.now() - dt.timedelta(days=1)
    ApiTokenFactory.create_batch(2, user=agent)
    ApiTokenFactory(user=agent, revoked_at=earlier)
    someone_else = ApiTokenFactory()
    assert revoke_all_api_tokens(user=agent) == 2
    assert not ApiToken.objects.filter(user=agent, revoked_at__isnull=True).exists()
    assert ApiToken.objects.get(user=agent, revoked_at=earlier)  # the old revocation stands
    someone_else.refresh_from_db()
    assert someone_else.revoked_at is None
    assert revoke_all_api_tokens(user=agent) == 0
