"""/api/v1/canned-responses/: personal ones for any agent, team ones for its leads, everyone's for
admins; variables checked by name; a preview; one not visible is a 404."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.canned import canned_responses_for
from inbox.models import CannedResponse, Event
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/canned-responses/"


def test_an_agent_writes_a_personal_one_only_they_see(client_for, agent, team):
    response = client_for(agent).post(
        URL,
        {"title": "Thanks", "shortcut": "/Thanks", "text": "Thanks {{contact.first_name}}!"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["scope"], body["owner"], body["shortcut"], body["can_edit"]) == (
        "personal",
        "alice",
        "thanks",
        True,
    )
    colleague = AgentFactory(username="bob", teams=[team])
    assert [c["title"] for c in client_for(agent).get(URL).json()] == ["Thanks"]
    assert client_for(colleague).get(URL).json() == []
    assert client_for(colleague).get(f"{URL}{body['id']}/").status_code == 404
    assert client_for(colleague).delete(f"{URL}{body['id']}/").status_code == 404
    assert Event.objects.filter(type="canned_response.saved").count() == 1


def test_the_composer_fills_variables_for_the_conversation(agent, team):
    CannedResponse.objects.create(
        title="Hi",
        shortcut="hi",
        owner=agent,
        text="Hi {{contact.first_name}} ({{ contact.email }}), {{agent.name}} of {{team.name}}.",
    )
    conversation = ConversationFactory(
        team=team, contact=ContactFactory(name="Dana Smith", email="dana@example.com")
    )
    [canned] = canned_responses_for(user=agent, conversation=conversation)
    assert canned["shortcut"] == "hi"
    assert canned["text"] == f"Hi Dana (dana@example.com), {agent.display_name} of Support."


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "", "text": "x"}, "title"),
        ({"title": "T", "text": ""}, "text"),
        ({"title": "T", "text": "Hi {{contact.nmae}}"}, "text"),
        ({"title": "T", "text": "x", "shortcut": "no spaces"}, "shortcut"),
        ({"title": "T", "text": "x", "scope": "galaxy"}, "scope"),
        ({"title": "T", "text": "x", "scope": "team"}, "team"),
        ({"title": "T", "text": "x", "scope": "team", "team": "nope"}, "team"),
    ],
)
def test_bad_input_is_refused_naming_the_field(client_for, admin_user, team, body, field):
    response = client_for(admin_user).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not CannedResponse.objects.exists()


def test_an_unknown_variable_is_named(client_for, agent):
    response = client_for(agent).post(URL, {"title": "T", "text": "Hi {{contact.nmae}}"})
    assert "{{contact.nmae}}" in response.json()["text"][0]


def test_a_taken_shortcut_is_refused_in_the_same_scope_only(client_for, agent, admin_user):
    client_for(agent).post(URL, {"title": "A", "text": "a", "shortcut": "hi"}, format="json")
    again = client_for(agent).post(URL, {"title": "B", "text": "b", "shortcut": "hi"})
    assert again.status_code == 400 and "shortcut" in again.json()
    shared = client_for(admin_user).post(
        URL, {"title": "B", "text": "b", "shortcut": "hi", "scope": "global"}, format="json"
    )
    assert shared.status_code == 201


@pytest.mark.parametrize("scope", ["team", "global"])
def test_an_agent_may_not_write_shared_ones(client_for, agent, scope):
    response = client_for(agent).post(
        URL, {"title": "T", "text": "x", "scope": scope, "team": "support"}, format="json"
    )
    assert response.status_code == 403
    assert not CannedResponse.objects.exists()


def test_a_lead_writes_for_their_team_and_an_admin_for_everyone(
    client_for, lead, admin_user, agent, other_team
):
    team_one = client_for(lead).post(
        URL, {"title": "Team", "text": "x", "scope": "team", "team": "support"}, format="json"
    )
    assert team_one.status_code == 201 and team_one.json()["team"] == "support"
    other = client_for(lead).post(
        URL, {"title": "Other", "text": "x", "scope": "team", "team": "sales"}, format="json"
    )
    assert other.status_code == 403
    everyone = client_for(admin_user).post(
        URL, {"title": "All", "text": "x", "scope": "global"}, format="json"
    )
    assert everyone.status_code == 201
    seen = {c["title"]: c["can_edit"] for c in client_for(agent).get(URL).json()}
    assert seen == {"All": False, "Team": False}  # the agent is in support, not a lead
    pk = everyone.json()["id"]
    assert client_for(agent).patch(f"{URL}{pk}/", {"title": "Mine"}).status_code == 403
    assert client_for(agent).delete(f"{URL}{pk}/").status_code == 403
    changed = client_for(admin_user).patch(f"{URL}{pk}/", {"text": "y"}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "All"
    assert client_for(admin_user).delete(f"{URL}{pk}/").status_code == 204
    assert not CannedResponse.objects.filter(pk=pk).exists()


def test_a_viewer_reads_but_writes_nothing(client_for, viewer):
    assert client_for(viewer).get(URL).status_code == 200
    assert client_for(viewer).post(URL, {"title": "T", "text": "x"}).status_code == 403


def test_the_preview_fills_sample_values(client_for, agent):
    response = client_for(agent).post(
        f"{URL}preview/", {"text": "Hi {{contact.name}}, {{agent.name}} here"}, format="json"
    )
    assert response.json() == {"text": f"Hi Dana Smith, {agent.display_name} here"}
    assert client_for(agent).post(f"{URL}preview/", {}, format="json").status_code == 400


def test_the_endpoints_are_in_the_openapi_schema(client_for, admin_user):
    paths = client_for(admin_user).get("/api/schema/?format=json").json()["paths"]
    for path in [URL, f"{URL}{{id}}/", f"{URL}preview/"]:
        assert f"/api/v1/{path.removeprefix('/api/v1/')}" in paths, path
    assert json.dumps(paths[URL]).count("CannedInput") >= 1


def test_the_list_costs_the_same_queries_for_3_or_30(
    client_for, lead, team, django_assert_max_num_queries
):
    api = client_for(lead)

    def make(n):
        for i in range(n):
            CannedResponse.objects.create(title=f"T{i}", text="x", team=team)
            CannedResponse.objects.create(title=f"M{i}", text="x", owner=lead)

    make(3)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(URL).json()) == 6
    make(27)
    with django_assert_max_num_queries(len(few.captured_queries)):
        listed = api.get(URL).json()
    assert len(listed) == 60 and all(c["can_edit"] for c in listed)
