"""In headless Chromium: the composer is one box with Reply and Private note tabs, only the open
tab's box showing; r and n open their tab; Ctrl+Enter sends what is typed; "Send and resolve"
sends and resolves in one step; the email subject and cc fold under one line. Browser, server
and helpers of test_browser.py."""

import pytest
from playwright.sync_api import expect

from inbox.models import Conversation, Message
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_composer_tabs_keys_and_send_and_resolve(page, server, support):
    browser.user(AgentFactory, "alice", teams=[support])
    channel = ChannelFactory(slug="mail", kind="email", default_team=support, address="s@x.test")
    conversation = ConversationFactory(
        channel=channel,
        team=support,
        subject="Broken invoice",
        contact=ContactFactory(name="Dana", email="dana@example.com"),
    )
    MessageFactory(conversation=conversation, text="My invoice total is wrong.")
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1440, "height": 900})
    browser.login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")

    reply = page.get_by_role("textbox", name="Reply to Dana")
    note = page.get_by_role("textbox", name="Private note")
    note_tab = page.get_by_role("tab", name="Private note")
    assert reply.is_visible() and note_tab.get_attribute("aria-selected") == "false"
    assert page.locator("#note-form.inactive").count() == 1
    assert not note.is_visible()  # only the open tab's box shows
    assert not page.get_by_label("Cc (optional").is_visible()  # folded under its summary line
    note_tab.click()
    assert note.is_visible() and note_tab.get_attribute("aria-selected") == "true"
    assert page.locator("#reply-form.inactive").count() == 1 and not reply.is_visible()
    assert not page.get_by_role("button", name="Send and resolve").is_visible()
    assert page.evaluate("document.activeElement.id") == "note-text"
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("r")  # the r shortcut opens the Reply tab and focuses its box
    assert page.evaluate("document.activeElement.id") == "reply-text"
    assert page.get_by_role("tab", name="Reply").get_attribute("aria-selected") == "true"
    assert not note.is_visible()
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("n")  # and n the Private note tab
    assert page.evaluate("document.activeElement.id") == "note-text"
    assert note_tab.get_attribute("aria-selected") == "true" and not reply.is_visible()
    page.get_by_role("tab", name="Reply").click()
    browser.shot(page, "composer-reply")

    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    reply.fill("We fixed the total, a new invoice is attached.")
    reply.press("Control+Enter")
    page.get_by_text("We fixed the total, a new invoice is attached.").first.wait_for()
    assert Message.objects.filter(
        conversation=conversation, direction="out", text__startswith="We fixed the total"
    ).exists()
    assert Conversation.objects.get(pk=conversation.pk).status == "open"

    page.get_by_role("textbox", name="Reply to Dana").fill("Anything else? Closing this now.")
    page.get_by_role("button", name="Send and resolve").click()
    page.get_by_text("Anything else? Closing this now.").first.wait_for()
    browser.wait_for(lambda: Conversation.objects.get(pk=conversation.pk).status == "resolved")
    # Sent in place: the thread and the panel changed, the page (and the list) did not reload.
    assert page.evaluate("window.__sameDocument") is True
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    assert page.problems == []


def test_a_failed_reply_shows_its_reason_and_retry_sends_it(
    page, server, support, http_server, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the integration's local stand-in
    browser.user(AgentFactory, "alice", teams=[support])
    channel = ChannelFactory(
        slug="partner-app",
        kind="api",
        default_team=support,
        config={"callback_url": f"{http_server.url}/replies"},
    )
    conversation = ConversationFactory(
        channel=channel, team=support, subject="Refund", contact=ContactFactory(name="Rudi")
    )
    MessageFactory(conversation=conversation, text="Where is my refund?")
    http_server.respond(422, b'{"error": "recipient unknown"}')  # the first attempt is refused
    page.set_default_timeout(15000)
    browser.login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")
    page.get_by_role("textbox", name="Reply to Rudi").fill("Your refund left today.")
    page.get_by_role("button", name="Send", exact=True).click()
    alert = page.locator(".delivery-failed")
    alert.wait_for()
    assert "callback answered 422" in alert.inner_text()
    assert "recipient unknown" in alert.inner_text()
    browser.shot(page, "reply-failed")

    page.get_by_role("button", name="Retry").click()  # the integration answers 200 now
    page.get_by_text("Sending again.").first.wait_for()
    browser.wait_for(
        lambda: (
            Message.objects.get(conversation=conversation, direction="out").delivery_status
            == "sent"
        )
    )
    assert [r.json()["text"] for r in http_server.requests] == ["Your refund left today."] * 2
