"""Routing and classification rules settings (issue 23): /api/v1/routing-rules/ (list, create,
get, patch, delete, a draft's preview) and /api/v1/classification-rules/, through
routing.rule_settings and tagging.rule_settings; admins only, bad input named."""

import pytest

from inbox.models import CannedResponse
from routing.models import RoutingRule
from tagging.models import ClassificationRule
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.tagging.factories import TagFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/routing-rules/"
CLASSIFY = "/api/v1/classification-rules/"


@pytest.fixture
def billing(db):
    return TagFactory(slug="billing", name="Billing")


def refund_rule(**extra) -> dict:
    return {
        "name": "Refunds to support",
        "conditions": {"keywords": ["refund"], "channels": ["mail"]},
        "actions": {"assign_team": "support", "add_tags": ["billing"], "set_severity": "high"},
        **extra,
    }


@pytest.fixture
def mail(team):
    return ChannelFactory(slug="mail", kind="email", default_team=team)


def test_an_admin_creates_reads_changes_and_deletes_a_routing_rule(
    client_for, admin_user, team, billing, mail
):
    api = client_for(admin_user)
    first = api.post(URL, refund_rule(), format="json")
    assert first.status_code == 201, first.content
    second = api.post(URL, refund_rule(name="Second"), format="json").json()
    body = first.json()
    assert body["conditions"] == {"keywords": ["refund"], "channels": ["mail"]}
    assert body["position"] < second["position"]  # a new rule goes last
    assert [r["name"] for r in api.get(URL).json()] == ["Refunds to support", "Second"]
    assert api.get(f"{URL}{body['id']}/").json()["actions"]["assign_team"] == "support"
    changed = api.patch(f"{URL}{body['id']}/", {"is_active": False, "position": 999}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["is_active"], changed.json()["position"]) == (False, 999)
    assert changed.json()["conditions"] == body["conditions"]  # untouched fields are kept
    assert [r["name"] for r in api.get(URL).json()] == ["Second", "Refunds to support"]
    assert api.delete(f"{URL}{body['id']}/").status_code == 204
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["Second"]


def test_agents_and_leads_cannot_touch_routing_rules(client_for, agent, lead, billing, mail):
    rule = RoutingRule.objects.create(name="R", conditions={"keywords": ["x"]}, actions={})
    for person in (agent, lead):
        api = client_for(person)
        assert api.get(URL).status_code == 403
        assert api.post(URL, refund_rule(), format="json").status_code == 403
        assert api.get(f"{URL}{rule.pk}/").status_code == 403
        assert api.patch(f"{URL}{rule.pk}/", {"name": "n"}, format="json").status_code == 403
        assert api.delete(f"{URL}{rule.pk}/").status_code == 403
        assert api.post(f"{URL}preview/", refund_rule(), format="json").status_code == 403
    assert RoutingRule.objects.get().name == "R"


def test_an_unknown_rule_is_a_404(client_for, admin_user):
    assert client_for(admin_user).get(f"{URL}999/").status_code == 404
    assert client_for(admin_user).delete(f"{URL}999/").status_code == 404
    assert client_for(admin_user).get(f"{CLASSIFY}999/").status_code == 404


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            refund_rule(conditions={"tags_any": ["nope"]}),
            {"conditions": {"tags_any": ["Unknown tag: nope."]}},
        ),
        (
            refund_rule(actions={"assign_team": "ghosts"}),
            {"actions": {"assign_team": ["Unknown team: ghosts."]}},
        ),
        (
            refund_rule(conditions={}, actions={}),
            {
                "conditions": ["Give it at least one condition."],
                "actions": ["Give it at least one action."],
            },
        ),
        (refund_rule(name=""), {"name": ["A name of 1 to 120 characters."]}),
        (
            refund_rule(conditions={"sender_domains": ["not a domain"]}),
            {"conditions": {"sender_domains": ["Not a domain: not a domain."]}},
        ),
        (
            refund_rule(conditions={"severity_at_least": "huge"}),
            {"conditions": {"severity_at_least": ["Choose one of: low, normal, high, critical."]}},
        ),
        (
            refund_rule(actions={"send_canned": 12345}),
            {
                "actions": {
                    "send_canned": ["Pick a team or global canned response (not a personal one)."]
                }
            },
        ),
        (
            refund_rule(conditions={"colour": "red"}),
            {"conditions": ["Unknown condition: colour."]},
        ),
    ],
)
def test_bad_routing_rules_are_refused_naming_the_field(
    client_for, admin_user, team, billing, mail, body, errors
):
    response = client_for(admin_user).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert client_for(admin_user).post(f"{URL}preview/", body, format="json").status_code == 400
    assert not RoutingRule.objects.exists()


def test_a_routing_rule_can_send_a_shared_canned_reply_not_a_personal_one(
    client_for, admin_user, agent, billing, mail
):
    shared = CannedResponse.objects.create(title="Thanks", text="Thanks {{contact.name}}")
    personal = CannedResponse.objects.create(title="Mine", text="x", owner=agent)
    api = client_for(admin_user)
    made = api.post(URL, refund_rule(actions={"send_canned": shared.pk}), format="json")
    assert made.status_code == 201 and made.json()["actions"] == {"send_canned": shared.pk}
    refused = api.post(URL, refund_rule(actions={"send_canned": personal.pk}), format="json")
    assert refused.status_code == 400 and "send_canned" in refused.json()["actions"]


def test_the_draft_preview_lists_the_recent_conversations_it_would_match(
    client_for, admin_user, team, billing, mail
):
    hit = ConversationFactory(channel=mail, subject="Refund please")
    MessageFactory(conversation=hit, direction="in", text="I want my money back")
    by_text = ConversationFactory(channel=mail, subject="Hello")
    MessageFactory(conversation=by_text, direction="in", text="Where is my refund?")
    other_channel = ConversationFactory(subject="Refund", channel=ChannelFactory(slug="web"))
    miss = ConversationFactory(channel=mail, subject="Other")
    response = client_for(admin_user).post(f"{URL}preview/", refund_rule(), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["would_match"]) == {hit.pk, by_text.pk}
    assert other_channel.pk not in body["would_match"] and miss.pk not in body["would_match"]
    assert body["examined"] == 4
    assert {c["subject"] for c in body["conversations"]} == {"Refund please", "Hello"}
    assert not RoutingRule.objects.exists()  # nothing saved


def test_an_admin_manages_classification_rules(client_for, admin_user, billing):
    api = client_for(admin_user)
    before = ClassificationRule.objects.count()
    made = api.post(
        CLASSIFY,
        {
            "name": "Invoices",
            "keywords": ["invoice", "receipt"],
            "regex": r"INV-\d+",
            "sender_domains": ["@Acme.example"],
            "channel_kinds": ["email"],
            "tags": ["billing"],
            "severity": "high",
            "mode": "suggest",
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["tags"], body["severity"], body["sender_domains"]) == (
        ["billing"],
        "high",
        ["acme.example"],
    )
    assert api.get(CLASSIFY).json()[-1]["name"] == "Invoices"
    assert len(api.get(CLASSIFY).json()) == before + 1
    changed = api.patch(
        f"{CLASSIFY}{body['id']}/", {"severity": None, "is_active": False}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["severity"], changed.json()["tags"]) == (None, ["billing"])
    assert api.delete(f"{CLASSIFY}{body['id']}/").status_code == 204
    assert ClassificationRule.objects.count() == before


def test_agents_cannot_touch_classification_rules(client_for, agent, billing):
    rule = ClassificationRule.objects.create(name="C", keywords=["x"])
    api = client_for(agent)
    assert api.get(CLASSIFY).status_code == 403
    assert api.post(CLASSIFY, {"name": "n"}, format="json").status_code == 403
    assert api.patch(f"{CLASSIFY}{rule.pk}/", {"name": "n"}, format="json").status_code == 403
    assert api.delete(f"{CLASSIFY}{rule.pk}/").status_code == 403


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"regex": "(unclosed"}, "regex", "Not a valid regular expression"),
        ({"tags": ["nope"]}, "tags", "Unknown tag: nope."),
        ({"keywords": [], "tags": ["billing"]}, "keywords", "Give it at least one condition."),
        ({"tags": []}, "tags", "Give it tags to add or a severity to set."),
        ({"channel_kinds": ["pigeon"]}, "channel_kinds", "Unknown channel kind: pigeon."),
        ({"mode": "shout"}, "mode", "Choose one of: apply, suggest."),
        ({"severity": "huge"}, "severity", "Choose one of"),
    ],
)
def test_bad_classification_rules_are_refused_naming_the_field(
    client_for, admin_user, billing, body, field, words
):
    full = {"name": "R", "keywords": ["invoice"], "tags": ["billing"], **body}
    response = client_for(admin_user).post(CLASSIFY, full, format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field])


def test_the_new_endpoints_are_in_the_schema(client_for, admin_user):
    schema = client_for(admin_user).get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/routing-rules/",
        "/api/v1/routing-rules/{id}/",
        "/api/v1/routing-rules/preview/",
        "/api/v1/classification-rules/",
        "/api/v1/classification-rules/{id}/",
    ):
        assert path in schema["paths"], path
