"""In headless Chromium, two agents side by side: Alice mentions Bob in a private note and Bob's
open inbox shows the bell's count go up through the live feed, without a reload; Bob opens the
panel, follows the notification to the conversation, and it is read. The browser, server and
helpers are those of test_browser.py; screenshots land in tests/artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, shot, user = browser.login, browser.shot, browser.user


@pytest.fixture
def second_page(chromium):
    context = chromium.new_context(viewport={"width": 1366, "height": 800})
    other = context.new_page()
    other.set_default_timeout(5000)
    other.problems = []
    other.on("console", lambda m: other.problems.append(m.text) if m.type == "error" else None)
    other.on("pageerror", lambda e: other.problems.append(str(e)))
    yield other
    context.close()


def test_a_mention_reaches_the_other_agents_bell_live(page, second_page, server, support):
    user(AgentFactory, "alice", first_name="Alice", last_name="Ames", teams=[support])
    user(AgentFactory, "bob", teams=[support])
    conversation = ConversationFactory(
        team=support, channel=ChannelFactory(default_team=support), subject="Printer on fire"
    )

    bobs = second_page
    login(bobs, server, "bob")
    bobs.wait_for_selector("body[data-live=connected]")
    bobs.evaluate("window.__sameDocument = true")
    bell = bobs.get_by_role("button", name="Notifications")
    expect(bell).to_have_accessible_name("Notifications 0 unread")

    login(page, server, "alice", next_path=f"/inbox/conversations/{conversation.pk}/")
    page.get_by_role("tab", name="Private note").click()  # only the open tab's box shows
    page.get_by_label("Private note").fill("@bob can you take this one? The customer is waiting")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_selector("text=can you take this one?")

    expect(bell).to_have_accessible_name("Notifications 1 unread", timeout=3000)
    assert bobs.evaluate("window.__sameDocument") is True  # live, no reload
    shot(bobs, "notifications-bell")

    bell.click()
    expect(bell).to_have_attribute("aria-expanded", "true")
    panel = bobs.get_by_role("region", name="Notifications")
    link = panel.get_by_role("link", name=re.compile(r"Alice Ames · Mentioned you"))
    expect(link).to_contain_text(f"#{conversation.pk} Printer on fire")
    expect(panel).to_contain_text("can you take this one?")
    shot(bobs, "notifications-panel")
    bobs.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bell).to_be_focused()

    bell.click()
    link.click()
    bobs.wait_for_url(f"**/inbox/conversations/{conversation.pk}/")
    expect(bobs.get_by_role("button", name="Notifications")).to_have_accessible_name(
        "Notifications 0 unread"
    )

    # Two more while the panel is open: it refreshes itself; "Mark all read" clears the bell.
    bobs.evaluate("window.__sameDocument = true")
    bell.click()
    for text in ("@bob one more thing", "@bob and the refund"):
        page.get_by_label("Private note").fill(text)
        page.get_by_role("button", name="Add note").click()
        page.wait_for_selector(f"text={text[5:]}")
    expect(bell).to_have_accessible_name("Notifications 2 unread", timeout=3000)
    expect(panel.get_by_role("button", name=re.compile("^Mark read"))).to_have_count(2)
    panel.get_by_role("button", name="Mark all read").click()
    expect(bell).to_have_accessible_name("Notifications 0 unread")
    expect(panel.get_by_role("button", name=re.compile("^Mark read"))).to_have_count(0)
    expect(panel.get_by_role("link")).to_have_count(3)
    assert bobs.evaluate("window.__sameDocument") is True
    assert page.problems == [] and bobs.problems == []
