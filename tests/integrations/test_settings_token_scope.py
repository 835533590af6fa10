"""The settings endpoints of issue 23 are admin-scoped: an API token changes channels, teams,
people, memberships, business hours, SLA policies and rules only with the admin scope (the
user's role still decides), the way the single-item team and user endpoints always did. A token
with read and write does triage, not settings. Canned responses and macros stay personal tools:
any agent's write token writes their own. Every settings endpoint, with its methods, is in the
OpenAPI schema."""

import pytest

from accounts.services import create_api_token
from tests.accounts.factories import AgentFactory
from tests.integrations.test_tokens import with_token

pytestmark = pytest.mark.django_db

HOURS = {"name": "Office", "timezone": "Asia/Jakarta", "weekly": {"mon": [["09:00", "17:00"]]}}
WRITES = [
    ("/api/v1/teams/", {"name": "Billing"}),
    ("/api/v1/users/", {"email": "new@example.com"}),
    ("/api/v1/memberships/", {"team": "support", "user": "{bob}"}),
    ("/api/v1/business-hours/", {**HOURS, "teams": ["support"]}),
    (
        "/api/v1/sla-policies/",
        {
            "name": "P",
            "severity": "high",
            "first_response_minutes": 60,
            "next_response_minutes": 60,
            "resolution_minutes": 600,
        },
    ),
    ("/api/v1/channels/", {"kind": "chat", "slug": "chat", "name": "Chat"}),
    (
        "/api/v1/routing-rules/",
        {"name": "R", "conditions": {"keywords": ["x"]}, "actions": {"set_severity": "high"}},
    ),
    ("/api/v1/classification-rules/", {"name": "C", "keywords": ["x"], "severity": "high"}),
]


@pytest.fixture
def tokens(admin_user, team):
    _, triage = create_api_token(user=admin_user, name="triage", scopes=["read", "write"])
    _, full = create_api_token(user=admin_user, name="ops", scopes=["read", "write", "admin"])
    return with_token(triage), with_token(full)


@pytest.mark.parametrize("url, body", WRITES, ids=[url for url, _ in WRITES])
def test_a_settings_write_needs_the_admin_scope(tokens, url, body):
    triage, full = tokens
    bob = AgentFactory(username="bob")
    body = {k: bob.pk if v == "{bob}" else v for k, v in body.items()}
    refused = triage.post(url, body, format="json")
    assert refused.status_code == 403 and "admin scope" in refused.json()["detail"]
    made = full.post(url, body, format="json")
    assert made.status_code == 201, made.content


@pytest.mark.parametrize(
    "url", ["/api/v1/memberships/", "/api/v1/business-hours/", "/api/v1/sla-policies/"]
)
def test_reading_settings_needs_the_admin_scope_too(tokens, url):
    triage, full = tokens
    assert triage.get(url).status_code == 403
    assert full.get(url).status_code == 200


def test_teams_and_users_stay_reference_data_for_a_read_token(tokens):
    triage, _full = tokens
    assert triage.get("/api/v1/teams/").status_code == 200
    assert triage.get("/api/v1/users/").status_code == 200


def test_an_agents_write_token_keeps_their_own_canned_responses_and_macros(agent):
    _, key = create_api_token(user=agent, name="mine", scopes=["read", "write"])
    mine = with_token(key)
    canned = mine.post("/api/v1/canned-responses/", {"title": "Hi", "text": "Hi"}, format="json")
    assert canned.status_code == 201
    macro = {"name": "Park", "actions": [{"kind": "set_status", "value": "pending"}]}
    assert mine.post("/api/v1/macros/", macro, format="json").status_code == 201


def test_agents_may_not_read_memberships(client_for, agent, lead, team, other_team):
    """Admins, and leads for the teams they lead (docs/settings.md); an agent gets 403."""
    AgentFactory(username="sam", teams=[other_team])
    lead.memberships.create(team=other_team)  # a plain member of sales, lead of support
    assert client_for(agent).get("/api/v1/memberships/").status_code == 403
    seen = client_for(lead).get("/api/v1/memberships/").json()
    assert {row["team"] for row in seen} == {"support"}


SETTINGS_PATHS = {
    "/api/v1/channels/": {"get", "post"},
    "/api/v1/channels/{id}/": {"get", "patch"},
    "/api/v1/channels/{id}/rotate-secret/": {"post"},
    "/api/v1/channels/{id}/test/": {"post"},
    "/api/v1/channels/{id}/disable/": {"post"},
    "/api/v1/channels/{id}/enable/": {"post"},
    "/api/v1/channels/{id}/after-hours/": {"get", "put"},
    "/api/v1/teams/": {"get", "post"},
    "/api/v1/teams/{id}/": {"get", "patch"},
    "/api/v1/users/": {"get", "post"},
    "/api/v1/users/{id}/": {"get", "patch"},
    "/api/v1/memberships/": {"get", "post"},
    "/api/v1/memberships/{id}/": {"patch", "delete"},
    "/api/v1/business-hours/": {"get", "post"},
    "/api/v1/business-hours/{id}/": {"get", "patch", "delete"},
    "/api/v1/business-hours/{id}/public-holidays/": {"post"},
    "/api/v1/sla-policies/": {"get", "post"},
    "/api/v1/sla-policies/{id}/": {"get", "patch"},
    "/api/v1/sla-policies/{id}/preview/": {"get"},
    "/api/v1/sla-policies/preview/": {"post"},
    "/api/v1/routing-rules/": {"get", "post"},
    "/api/v1/routing-rules/{id}/": {"get", "patch", "delete"},
    "/api/v1/routing-rules/preview/": {"post"},
    "/api/v1/classification-rules/": {"get", "post"},
    "/api/v1/classification-rules/{id}/": {"get", "patch", "delete"},
    "/api/v1/canned-responses/": {"get", "post"},
    "/api/v1/canned-responses/{id}/": {"get", "patch", "delete"},
    "/api/v1/canned-responses/preview/": {"post"},
    "/api/v1/macros/": {"get", "post"},
    "/api/v1/macros/{id}/": {"get", "patch", "delete"},
    "/api/v1/macros/{macro_id}/run/": {"post"},
    "/api/v1/conversations/{id}/macros/{macro_id}/run/": {"post"},
}


def test_every_settings_endpoint_is_in_the_openapi_schema(client_for, admin_user):
    paths = client_for(admin_user).get("/api/schema/?format=json").json()["paths"]
    missing = {
        path: sorted(methods - set(paths.get(path, {})))
        for path, methods in SETTINGS_PATHS.items()
        if methods - set(paths.get(path, {}))
    }
    assert missing == {}
