"""In headless Chromium: the open conversation stays live.

A colleague's triage change (severity, a tag) shows in the side panel of an agent who has the
conversation open, within a couple of seconds and without a page load; a part the agent is using
(the Add tag box focused, text typed in it) waits until they leave it and keeps what they typed.
The agent's own change fetches its list row once, though both its answer and the live feed name
it. The browser, server and helpers are those of test_browser.py."""

import re

import pytest

from tests.accounts.factories import AgentFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.workspace import test_browser as browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# The fixtures of test_browser.py, shared by name.
chromium, server, page, support = browser.chromium, browser.server, browser.page, browser.support
login, user = browser.login, browser.user

MARKER = "window.__samePage"


def a_conversation(support, subject="Printer on fire", name="Ann Lee"):
    channel = ChannelFactory(slug="mail", kind="email", default_team=support)
    conversation = ConversationFactory(
        channel=channel, team=support, subject=subject, contact=ContactFactory(name=name)
    )
    MessageFactory(conversation=conversation, text=f"Hello, this is about: {subject}")
    return conversation


def test_a_colleagues_triage_change_shows_in_the_open_side_panel_without_a_page_load(
    page, chromium, server, support
):
    user(AgentFactory, "alice", teams=[support])
    user(AgentFactory, "bob", teams=[support])
    conversation = a_conversation(support)
    path = f"/inbox/conversations/{conversation.pk}/"
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, server, "alice", path)
    page.wait_for_selector("body[data-live=connected]")
    page.evaluate(f"{MARKER} = true")
    severity = page.get_by_role("combobox", name="Severity")
    tags = page.locator("#tags-panel")
    assert severity.input_value() == "normal"

    bobs = chromium.new_context(viewport={"width": 1440, "height": 900}).new_page()
    bobs.set_default_timeout(15000)
    login(bobs, server, "bob", path)
    bobs.get_by_role("combobox", name="Severity").select_option("high")
    bobs.wait_for_selector("#conv-meta:has-text('severity high')")
    bobs.get_by_role("combobox", name="Add tag").fill("Feature request")
    bobs.get_by_role("button", name="Add", exact=True).click()
    bobs.wait_for_selector("#tags-panel .chip:has-text('Feature request')")

    # Alice sees both in her panel (and the header line) within a couple of seconds.
    page.wait_for_selector("#tags-panel .chip:has-text('Feature request')", timeout=3000)
    page.wait_for_function(
        "() => document.querySelector('#severity-select').value === 'high'", timeout=3000
    )
    page.wait_for_selector("#conv-meta:has-text('severity high')", timeout=3000)
    page.wait_for_selector("#activity-panel:has-text('bob')", timeout=3000)
    assert page.evaluate(MARKER) is True  # no page was loaded

    # Alice is typing a tag when Bob adds another: her box keeps its focus and text, and the
    # panel follows once she leaves it.
    tag_box = page.get_by_role("combobox", name="Add tag")
    tag_box.click()
    tag_box.press_sequentially("Inci")
    bobs.get_by_role("combobox", name="Add tag").fill("Incident")
    bobs.get_by_role("button", name="Add", exact=True).click()
    bobs.wait_for_selector("#tags-panel .chip:has-text('Incident')")
    page.wait_for_timeout(1500)  # the feed has had its time
    assert tags.locator(".chip:has-text('Incident')").count() == 0  # not under her fingers
    assert page.evaluate("document.activeElement.id") == "tag-input"
    assert tag_box.input_value() == "Inci"
    page.locator("#conv-title").click()  # she leaves the box
    page.wait_for_selector("#tags-panel .chip:has-text('Incident')", timeout=3000)
    assert page.get_by_role("combobox", name="Add tag").input_value() == "Inci"
    assert page.evaluate(MARKER) is True
    # The redrawn forms still post in place.
    page.get_by_role("combobox", name="Severity").select_option("critical")
    page.wait_for_selector("#conv-meta:has-text('severity critical')")
    assert page.evaluate(MARKER) is True
    bobs.wait_for_function(
        "() => document.querySelector('#severity-select').value === 'critical'", timeout=3000
    )
    bobs.context.close()
    assert page.problems == [], page.problems


def test_the_agents_own_triage_change_fetches_its_list_row_once(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    conversation = a_conversation(support)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")
    page.wait_for_selector("body[data-live=connected]")
    row_url = re.compile(rf"/inbox/rows/{conversation.pk}/")
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if row_url.search(r.url) else None)

    def heard_through() -> int:
        return int(page.evaluate("sessionStorage.getItem('switchboard.lastEventId') || '0'"))

    page.get_by_role("combobox", name="Severity").select_option("high")
    page.wait_for_selector(f"#row-{conversation.pk}:has-text('high')")
    # Both the answer's HX-Trigger and the feed's event have arrived by now.
    newest = browser.wait_for(lambda: max_event_id(conversation))
    assert browser.wait_for(lambda: heard_through() >= newest)
    page.wait_for_timeout(500)  # room for a second fetch, if one were coming
    assert len(fetched) == 1, fetched

    page.get_by_role("combobox", name="Add tag").fill("Feature request")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector(f"#row-{conversation.pk}:has-text('Feature request')")
    before = newest
    assert browser.wait_for(lambda: max_event_id(conversation) > before)
    newest = max_event_id(conversation)
    assert browser.wait_for(lambda: heard_through() >= newest)
    page.wait_for_timeout(500)
    assert len(fetched) == 2, fetched
    assert page.problems == [], page.problems


def max_event_id(conversation) -> int:
    from inbox.models import Event

    return (
        Event.objects.filter(conversation_id=conversation.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )
