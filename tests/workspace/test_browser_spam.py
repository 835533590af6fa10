"""In headless Chromium: an agent marks a conversation as spam from its page, finds it in the Spam
view and marks it not spam; a lead blocks its contact from the contact page. The browser, server
and helpers are those of test_browser.py; screenshots land in tests/artifacts/."""

import pytest

from tests.accounts.factories import AgentFactory, LeadFactory
from tests.workspace import browser
from tests.workspace.test_search_and_contacts import conversation_with

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, shot, user = browser.login, browser.shot, browser.user


def test_an_agent_marks_spam_and_not_spam_and_a_lead_blocks_the_contact(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    user(LeadFactory, "lead", teams=[support])
    pills = conversation_with(support, texts=[("in", "Cheap pills, best price")])
    conversation_with(support, texts=[("in", "My parcel never arrived")])

    login(page, server, "alice")
    listed = page.get_by_role("region", name="Conversations")
    listed.get_by_role("link", name="Cheap pills, best price").click()
    page.wait_for_url(f"**/inbox/conversations/{pills.pk}/")
    page.locator("#more-menu > summary").click()  # the status row's "More actions" menu
    page.get_by_role("button", name="Mark as spam").click()  # in place, through htmx
    page.wait_for_selector("text=Marked as spam")
    page.goto(f"{server}/inbox/")
    assert listed.get_by_role("link", name="Cheap pills, best price").count() == 0
    assert listed.get_by_role("link", name="My parcel never arrived").count() == 1
    page.get_by_role("navigation", name="Views").get_by_role("link", name="Spam").click()
    page.wait_for_url("**/inbox/?status=spam")
    assert listed.get_by_role("link", name="Cheap pills, best price").count() == 1
    shot(page, "spam-view")
    listed.get_by_role("link", name="Cheap pills, best price").click()
    page.get_by_role("button", name="Not spam").click()
    page.wait_for_selector("text=Marked not spam")
    assert page.problems == []

    page.context.clear_cookies()
    login(page, server, "lead", next_path=f"/inbox/contacts/{pills.contact_id}/")
    page.get_by_role("button", name="Block", exact=True).click()
    page.wait_for_load_state()
    assert "Blocked since" in page.content()
    assert page.get_by_role("button", name="Unblock").count() == 1
    shot(page, "contact-blocked")
    assert page.problems == []
