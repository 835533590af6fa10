"""In headless Chromium: an agent finds a customer by name and by email from the one search box
(`/` focuses it) and opens the contact's page. The browser, server and helpers are those of
test_browser.py; a screenshot of the results and of the contact page lands in tests/artifacts/."""

import pytest

from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, ContactFactory, ContactIdentityFactory
from tests.workspace import browser
from tests.workspace.test_search_and_contacts import conversation_with

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, shot, user = browser.login, browser.shot, browser.user


def test_an_agent_finds_a_contact_by_name_and_by_email_and_opens_their_page(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    ChannelFactory(slug="mail", kind="email", default_team=support)
    eve = ContactFactory(name="Eve Adams", email="eve.adams@example.com", phone="+15550101")
    ContactIdentityFactory(contact=eve, kind="email", external_id="eve.adams@example.com")
    ContactIdentityFactory(contact=eve, kind="telegram", external_id="eve_tg", verified=False)
    steve = ContactFactory(name="Steve Never", email="steve@example.com", phone="")
    conversation_with(
        support,
        contact=eve,
        texts=[("in", "My parcel never arrived\nOrder 7731"), ("out", "Checking with the courier")],
    )
    conversation_with(support, contact=eve, subject="Invoice for March", kind="email")
    conversation_with(support, contact=steve, texts=[("in", "Please ask Eve to call me")])

    login(page, server, "alice")
    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Search")
    assert page.evaluate("document.activeElement.id") == "search-q"
    box.fill("Eve")
    box.press("Enter")
    page.wait_for_url("**/inbox/?q=Eve")
    contacts = page.get_by_role("region", name="Contacts")
    assert contacts.get_by_role("link").all_inner_texts() == ["Eve Adams"]  # not Steve Never
    conversations = page.get_by_role("region", name="Conversations")
    # Steve's conversation names Eve in a message; Eve's own say "never" but not "Eve".
    assert conversations.get_by_role("link", name="Please ask Eve to call me").count() == 1
    assert conversations.get_by_role("link", name="My parcel never arrived").count() == 0
    shot(page, "search-contacts")

    box.fill("eve.adams@example.com")
    box.press("Enter")
    page.wait_for_url("**/inbox/?q=eve.adams*")
    contacts.get_by_role("link", name="Eve Adams").click()
    page.wait_for_url(f"**/inbox/contacts/{eve.pk}/?q=*")
    assert page.get_by_role("heading", level=1).inner_text() == "Eve Adams"
    identities = page.get_by_role("region", name="Identities")
    assert "eve_tg" in identities.inner_text()
    listed = page.get_by_role("region", name="Conversations on every channel")
    assert listed.get_by_role("link", name="My parcel never arrived").count() == 1
    assert listed.get_by_role("link", name="Invoice for March").count() == 1
    assert "Checking with the courier" not in listed.inner_text()
    shot(page, "contact-page")
    assert page.problems == []
