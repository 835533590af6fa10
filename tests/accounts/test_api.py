"""The reference lists integrations read: teams and active users with their teams."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_teams_are_listed_by_slug(client_for, agent):
    TeamFactory(slug="billing", name="Billing", description="Invoices and refunds")
    TeamFactory(slug="apac", name="Zeta APAC")
    response = client_for(agent).get("/api/v1/teams/")
    assert response.status_code == 200
    teams = response.json()
    assert [t["slug"] for t in teams] == ["apac", "billing", "support"]
    billing = teams[1]
    assert billing == {
        "id": billing["id"],
        "slug": "billing",
        "name": "Billing",
        "description": "Invoices and refunds",
        "survey_kind": "",  # the channel's choice
    }


def test_users_are_listed_with_their_teams_and_names(client_for, agent, team, other_team):
    LeadFactory(
        username="bea", first_name="Bea", last_name="Ortiz", teams=[other_team, team], capacity=3
    )
    response = client_for(agent).get("/api/v1/users/")
    assert response.status_code == 200
    users = {u["username"]: u for u in response.json()}
    bea = users["bea"]
    assert bea == {
        "id": bea["id"],
        "username": "bea",
        "name": "Bea Ortiz",
        "role": "lead",
        "availability": "online",
        "capacity": 3,
        "teams": ["sales", "support"],
    }
    assert users["alice"]["teams"] == ["support"]


def test_a_user_without_a_full_name_is_named_by_username(client_for, agent):
    UserFactory(username="zed", first_name="", last_name="")
    [zed] = [u for u in client_for(agent).get("/api/v1/users/").json() if u["username"] == "zed"]
    assert zed["name"] == "zed" and zed["teams"] == []


def test_deactivated_users_are_left_out_and_the_rest_sorted(client_for, agent):
    AgentFactory(username="carl")
    AgentFactory(username="bob", is_active=False)
    UserFactory(username="aaron", role=User.Role.VIEWER)
    usernames = [u["username"] for u in client_for(agent).get("/api/v1/users/").json()]
    assert usernames == ["aaron", "alice", "carl"]


@pytest.mark.parametrize("url", ["/api/v1/teams/", "/api/v1/users/"])
def test_the_lists_need_a_signed_in_user(api_client, url):
    assert api_client.get(url).status_code == 401


@pytest.mark.parametrize("url", ["/api/v1/teams/", "/api/v1/users/"])
def test_the_lists_are_not_replaced_or_deleted_whole(client_for, admin_user, url):
    # POST creates one (a team, an invitation: tests/accounts/test_people_api.py)
    assert client_for(admin_user).put(url, {}, format="json").status_code == 405
    assert client_for(admin_user).delete(url).status_code == 405


def test_the_user_list_costs_the_same_queries_for_more_users(
    client_for, agent, team, other_team, django_assert_max_num_queries
):
    client = client_for(agent)
    client.get("/api/v1/users/")  # warm caches that are not the list's business
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/users/")
    for n in range(8):
        AgentFactory(username=f"extra{n}", teams=[team, other_team])
    with django_assert_max_num_queries(len(few)):
        response = client.get("/api/v1/users/")
    assert len(response.json()) == 9
