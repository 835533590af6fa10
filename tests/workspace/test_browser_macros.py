"""In headless Chromium: an agent builds a macro on Settings > Macros and runs it from the
conversation's triage panel (in place, no page load); a lead runs one on three conversations from
the list's bulk bar. The browser, server and helpers are those of test_browser.py."""

import pytest

from inbox.models import Activity, Conversation
from routing.models import Macro
from tests.accounts.factories import AgentFactory, LeadFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, user = browser.login, browser.user


def test_an_agent_builds_a_macro_and_runs_it_from_the_triage_panel(page, server, support):
    alice = user(AgentFactory, "alice", teams=[support])
    channel = ChannelFactory(slug="web", default_team=support)
    conversation = ConversationFactory(channel=channel, team=support, subject="Printer on fire")

    login(page, server, "alice", "/inbox/settings/macros/")
    page.get_by_label("Name").fill("Escalate incident")
    page.get_by_label("Step 1: what to do").select_option("add_tags")
    offered = page.get_by_label("Step 1: value").locator("optgroup:not([disabled])")
    assert offered.evaluate_all("gs => gs.map(g => g.dataset.kind)") == ["add_tags"]
    page.get_by_label("Step 1: value").select_option("add_tags:incident")
    page.get_by_label("Step 2: what to do").select_option("set_severity")
    page.get_by_label("Step 2: value").select_option("set_severity:critical")
    page.get_by_role("button", name="Add a row").click()
    page.get_by_label("Step 3: what to do").select_option("assign_agent")
    page.get_by_label("Step 3: value").select_option("assign_agent:me")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Macro saved.")
    assert Macro.objects.get().owner == alice

    page.goto(f"{server}/inbox/conversations/{conversation.pk}/")
    page.evaluate("window.__marker = 1")
    page.get_by_label("Run macro").select_option(label="Escalate incident")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_selector("#flash >> text=Macro “Escalate incident” ran")
    page.wait_for_selector("#triage .tags .chip:has-text('Incident')")
    assert page.evaluate("window.__marker") == 1  # no page load
    browser.shot(page, "macro-run")
    conversation.refresh_from_db()
    assert (conversation.severity_name, conversation.assignee) == ("critical", alice)
    assert Activity.objects.filter(conversation=conversation, verb="macro").count() == 1
    assert page.problems == []


def test_a_lead_runs_a_macro_on_three_conversations_from_the_bulk_bar(page, server, support):
    user(LeadFactory, "lead", teams=[support])
    channel = ChannelFactory(slug="web", default_team=support)
    three = [ConversationFactory(channel=channel, team=support) for _ in range(3)]
    Macro.objects.create(
        name="Close as handled",
        actions=[
            {"kind": "add_tags", "value": ["feature-request"]},
            {"kind": "set_status", "value": "resolved"},
        ],
    )
    login(page, server, "lead")
    for conversation in three:
        page.get_by_label(f"Select conversation {conversation.pk}").check()
    page.locator("#b-action").select_option("macro")
    page.locator("#b-macro").select_option(label="Close as handled")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_selector("text=3 of 3 conversations changed.")
    for conversation in Conversation.objects.filter(pk__in=[c.pk for c in three]):
        assert conversation.status == "resolved"
        assert Activity.objects.filter(conversation=conversation, verb="macro").count() == 1
    assert page.problems == []
