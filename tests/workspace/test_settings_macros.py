"""Settings > Macros (the builder) and running one from the triage panel under htmx: the same
routing.macros functions as /api/v1/macros/."""

import pytest
from django.test import Client

from inbox.models import Activity, Status
from routing.models import Macro
from tests.inbox.factories import ConversationFactory
from tests.tagging.factories import TagFactory

pytestmark = pytest.mark.django_db

PAGE = "/inbox/settings/macros/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_agent_builds_a_macro_row_by_row(agent, team):
    TagFactory(slug="billing", name="Billing")
    client = logged_in(agent)
    page = client.get(PAGE).content.decode()
    assert 'name="kind-0"' in page and 'name="kind-2"' not in page  # two blank rows
    more = client.post(PAGE, {"name": "Bill", "rows": "2", "kind-0": "add_tags", "more": "1"})
    assert 'name="kind-2"' in more.content.decode()  # one row kept, two blank, one more
    saved = client.post(
        PAGE,
        {
            "name": "Bill",
            "scope": "personal",
            "rows": "4",
            "kind-0": "add_tags",
            "value-0": "add_tags:billing",
            "kind-1": "set_severity",
            "value-1": "set_severity:high",
            "kind-2": "add_note",
            "note-2": "Billing team, please look.",
            "kind-3": "",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    macro = Macro.objects.get()
    assert macro.owner == agent and macro.actions == [
        {"kind": "add_tags", "value": ["billing"]},
        {"kind": "set_severity", "value": "high"},
        {"kind": "add_note", "value": "Billing team, please look."},
    ]
    edit = client.get(f"{PAGE}{macro.pk}/").content.decode()
    assert 'value="set_severity:high" selected' in edit


def test_a_row_without_its_value_is_named(agent):
    response = logged_in(agent).post(
        PAGE,
        {"name": "M", "rows": "2", "kind-0": "set_status", "value-0": "set_severity:high"},
    )
    assert response.status_code == 400
    assert "Row 1: pick a value for “Set status”." in response.content.decode()
    assert not Macro.objects.exists()


def test_run_macro_from_the_triage_panel_under_htmx(agent, team):
    conversation = ConversationFactory(team=team, assignee=agent)
    Macro.objects.create(
        name="Park it",
        owner=agent,
        actions=[
            {"kind": "set_status", "value": "pending"},
            {"kind": "add_note", "value": "Parked."},
        ],
    )
    client = logged_in(agent)
    page = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert 'id="macro-select"' in page and "Park it" in page
    macro = Macro.objects.get()
    response = client.post(
        f"/inbox/conversations/{conversation.pk}/macro/",
        {"macro": macro.pk},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="triage"' in body and "Macro “Park it” ran" in body
    conversation.refresh_from_db()
    assert conversation.status == Status.PENDING
    assert Activity.objects.filter(conversation=conversation, verb="macro").count() == 1
    assert "ran the macro “Park it”: Set status: Pending; Add a note: Parked" in body
