"""Macros: /api/v1/macros/ (scoped like canned responses, bad actions named by index), a run on
one conversation (all or nothing, one "macro" audit step), a run on a selection from the list's
bulk bar (one step each, events emitted), a refused step reported in words."""

import pytest

from inbox.models import Activity, CannedResponse, Event, Message, Status
from routing.macros import MacroRefused, run_macro
from routing.models import Macro
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.tagging.factories import TagFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/macros/"


@pytest.fixture
def billing(db):
    return TagFactory(slug="billing", name="Billing")


def escalate(**extra) -> dict:
    return {
        "name": "Escalate billing",
        "actions": [
            {"kind": "add_tags", "value": ["billing"]},
            {"kind": "set_severity", "value": "high"},
            {"kind": "set_status", "value": "pending"},
            {"kind": "add_note", "value": "Escalated by macro."},
        ],
        **extra,
    }


def test_an_agent_writes_a_personal_macro_only_they_see(client_for, agent, team, billing):
    response = client_for(agent).post(URL, escalate(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["scope"], body["owner"], body["can_edit"]) == ("personal", "alice", True)
    assert [a["kind"] for a in body["actions"]][:2] == ["add_tags", "set_severity"]
    colleague = AgentFactory(username="bob", teams=[team])
    assert client_for(colleague).get(URL).json() == []
    assert client_for(colleague).get(f"{URL}{body['id']}/").status_code == 404
    renamed = client_for(agent).patch(f"{URL}{body['id']}/", {"name": "Bill"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Bill"
    assert renamed.json()["actions"] == escalate()["actions"]
    assert client_for(agent).delete(f"{URL}{body['id']}/").status_code == 204
    assert not Macro.objects.exists()
    assert Event.objects.filter(type="macro.saved").count() == 2


def test_only_admins_write_global_macros(client_for, agent, admin_user, viewer, billing):
    refused = client_for(agent).post(URL, escalate(scope="global"), format="json")
    assert refused.status_code == 403
    assert "admins" in refused.json()["detail"]
    assert client_for(viewer).post(URL, escalate(), format="json").status_code == 403
    made = client_for(admin_user).post(URL, escalate(scope="global"), format="json")
    assert made.status_code == 201 and made.json()["owner"] is None
    assert [m["name"] for m in client_for(agent).get(URL).json()] == ["Escalate billing"]
    assert client_for(agent).delete(f"{URL}{made.json()['id']}/").status_code == 403


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"name": "", "actions": [{"kind": "add_note", "value": "x"}]}, "name", "blank"),
        ({"name": "M", "actions": []}, "actions", "actions"),
        ({"name": "M", "actions": [{"kind": "explode", "value": 1}]}, "actions", "actions[0].kind"),
        (
            {
                "name": "M",
                "actions": [
                    {"kind": "add_note", "value": "x"},
                    {"kind": "set_severity", "value": "huge"},
                ],
            },
            "actions",
            "actions[1].value",
        ),
        (
            {"name": "M", "actions": [{"kind": "add_tags", "value": ["nope"]}]},
            "actions",
            "unknown tag nope",
        ),
        (
            {"name": "M", "actions": [{"kind": "set_status", "value": "blocked"}]},
            "actions",
            "actions[0].value",
        ),
        (
            {"name": "M", "scope": "team", "actions": [{"kind": "add_note", "value": "x"}]},
            "team",
            "team",
        ),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(client_for, admin_user, body, field, words):
    response = client_for(admin_user).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    problems = response.json()[field]
    assert any(words in p for p in problems), problems
    assert not Macro.objects.exists()


def test_a_run_is_one_audit_step_and_goes_through_the_services(
    client_for, agent, team, billing, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(team=team, assignee=agent)
    macro = client_for(agent).post(URL, escalate(), format="json").json()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(agent).post(
            f"/api/v1/conversations/{conversation.pk}/macros/{macro['id']}/run/"
        )
    assert response.status_code == 200, response.content
    conversation.refresh_from_db()
    assert conversation.status == Status.PENDING
    assert conversation.severity_name == "high"
    assert list(conversation.tags.values_list("slug", flat=True)) == ["billing"]
    assert Message.objects.filter(conversation=conversation, kind="note").count() == 1
    [step] = Activity.objects.filter(conversation=conversation, verb="macro")
    assert step.to_value["macro"] == "Escalate billing"
    assert [c["kind"] for c in step.to_value["changes"]] == [
        "add_tags",
        "set_severity",
        "set_status",
        "add_note",
    ]
    reasons = set(
        Activity.objects.filter(conversation=conversation)
        .exclude(verb="macro")
        .values_list("reason", flat=True)
    )
    assert reasons == {"macro: Escalate billing"}
    types = list(
        Event.objects.filter(conversation_id=conversation.pk).values_list("type", flat=True)
    )
    for expected in ("conversation.tagged", "conversation.updated", "message.created", "macro.ran"):
        assert expected in types


def test_a_refused_step_is_reported_in_words_and_nothing_stays(client_for, agent, team, billing):
    from tests.accounts.factories import TeamFactory

    outsider = AgentFactory(username="bob", teams=[TeamFactory(slug="sales")])
    conversation = ConversationFactory(team=team)
    macro = Macro.objects.create(
        name="Give to Bob",
        owner=agent,
        actions=[
            {"kind": "add_tags", "value": ["billing"]},
            {"kind": "assign_agent", "value": outsider.username},
        ],
    )
    response = client_for(agent).post(
        f"/api/v1/conversations/{conversation.pk}/macros/{macro.pk}/run/"
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "stopped at step 2" in detail and "bob is not a member of support" in detail
    assert "Nothing was changed" in detail
    assert not conversation.tags.exists()
    assert not Activity.objects.filter(conversation=conversation).exists()
    with pytest.raises(MacroRefused, match="step 2"):
        run_macro(macro=macro, conversation_id=conversation.pk, actor=agent)


def test_a_canned_reply_step_is_filled_in_and_queued(agent, team):
    canned = CannedResponse.objects.create(title="Hi", text="Hello {{contact.first_name}}.")
    conversation = ConversationFactory(team=team, contact__name="Dana Smith")
    macro = Macro.objects.create(
        name="Greet", actions=[{"kind": "send_canned", "value": canned.pk}]
    )
    run_macro(macro=macro, conversation_id=conversation.pk, actor=agent)
    reply = Message.objects.get(conversation=conversation, direction="out", kind="message")
    assert (reply.text, reply.sender_user, reply.delivery_status) == (
        "Hello Dana.",
        agent,
        "queued",
    )


def test_a_macro_from_the_bulk_bar_changes_three_conversations(
    client, lead, team, billing, django_capture_on_commit_callbacks, published
):
    channel = ChannelFactory(slug="mail", default_team=team)
    three = [ConversationFactory(channel=channel, team=team) for _ in range(3)]
    macro = Macro.objects.create(
        name="Triage",
        actions=[
            {"kind": "add_tags", "value": ["billing"]},
            {"kind": "set_severity", "value": "critical"},
            {"kind": "assign_agent", "value": "me"},
        ],
    )
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/inbox/bulk/",
            {"ids": [c.pk for c in three], "action": "macro", "macro": macro.pk},
        )
    assert response.status_code == 302
    for conversation in three:
        conversation.refresh_from_db()
        assert (conversation.severity_name, conversation.assignee) == ("critical", lead)
        assert Activity.objects.filter(conversation=conversation, verb="macro").count() == 1
    fanned = [(e.type, e.conversation_id) for e in published]
    for conversation in three:
        for kind in ("conversation.tagged", "conversation.assigned", "macro.ran"):
            assert (kind, conversation.pk) in fanned
    page = client.get("/inbox/")
    assert "3 of 3 conversations changed" in page.content.decode()


def test_the_bulk_api_reports_refusals_per_conversation(client_for, lead, team, other_team):
    mine = ConversationFactory(team=team)
    macro = Macro.objects.create(
        name="Close", actions=[{"kind": "set_status", "value": "resolved"}]
    )
    response = client_for(lead).post(
        f"{URL}{macro.pk}/run/", {"ids": [mine.pk, 999999]}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"done": [mine.pk], "refused": {}, "not_found": [999999]}
    bad = client_for(lead).post(f"{URL}{macro.pk}/run/", {"ids": "all"}, format="json")
    assert bad.status_code == 400 and "ids" in bad.json()
