"""In headless Chromium: the open conversation's side panel is compact, as Chatwoot's and Front's.
At 1440 x 900 severity, team, agent, the status row (Resolve, Snooze) and the tags are all in the
window without scrolling. With JavaScript a Severity choice applies at once (no button, no page
load), Snooze "in 1 hour" works from the row at the top, the sections fold and stay folded; a
colleague's change is said in the panel's polite live region; a control the agent is using gets a
note of the colleague's value with "Show". Without JavaScript the forms' own buttons still post.
The browser, server and helpers are those of test_browser.py; screenshots land in tests/artifacts/.
"""

import datetime as dt

import pytest
from django.utils import timezone

from inbox.models import Conversation
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, user = browser.login, browser.user

MARKER = "window.__samePanel"
# Fully inside the window, and not covered by anything (the element found at its middle is it).
IN_VIEW = """(el) => {
  const r = el.getBoundingClientRect();
  if (!r.width || r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 10));
  return !!hit && (el === hit || el.contains(hit));
}"""
NEWS = "() => document.querySelector('#panel-news').textContent"


def shot(page, name):
    """The window as the agent sees it (caret left alone: Playwright's inline style is refused)."""
    browser.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(browser.ARTIFACTS / f"{name}.png"), caret="initial")


def a_conversation(support, subject="Printer on fire"):
    channel = ChannelFactory(slug="mail", kind="email", default_team=support)
    contact = ContactFactory(name="Ann Lee", email="ann@example.com", phone="+15550100")
    conversation = ConversationFactory(
        channel=channel, team=support, subject=subject, contact=contact
    )
    MessageFactory(conversation=conversation, text=f"Hello, this is about: {subject}")
    older = ConversationFactory(channel=channel, team=support, subject="Toner", contact=contact)
    MessageFactory(conversation=older, text="Where is my toner?")
    return conversation


def test_at_1440_the_panel_fits_and_severity_and_snooze_apply_at_once(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    user(AgentFactory, "bob", teams=[support])
    conversation = a_conversation(support)
    conversation.tags.add(*browser.Tag.objects.all())
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")
    page.wait_for_selector("body[data-live=connected]")
    page.evaluate(f"{MARKER} = true")

    severity = page.get_by_role("combobox", name="Severity")
    controls = {
        "severity": severity,
        "team": page.get_by_role("combobox", name="Team"),
        "agent": page.get_by_role("combobox", name="Agent"),
        "resolve": page.get_by_role("button", name="Resolve", exact=True),
        "pending": page.get_by_role("button", name="Pending", exact=True),
        "snooze": page.locator("#snooze-menu > summary"),
        "tag box": page.get_by_role("combobox", name="Add tag"),
        "a tag": page.locator("#tags-panel .chip", has_text="Incident"),
        "assign to me": page.get_by_role("button", name="Assign to me"),
    }
    for name, control in controls.items():
        assert control.evaluate(IN_VIEW), name
    # The status row is the panel's first line, above the contact.
    top = page.locator("#status-panel").bounding_box()["y"]
    assert top < page.locator("#contact-panel").bounding_box()["y"]
    # The forms' own buttons are for pages without JavaScript; the reason is a disclosure.
    assert not page.get_by_role("button", name="Set severity").is_visible()
    assert not page.get_by_role("button", name="Assign", exact=True).is_visible()
    assert not page.locator("#assign-reason").is_visible()
    assert page.locator("#assign-reason-box > summary").inner_text() == "Add a reason"
    shot(page, "panel-compact-1440")

    # Severity: picking it is all; no page is loaded.
    severity.select_option("high")
    page.wait_for_selector("#conv-meta:has-text('severity high')")
    assert browser.wait_for(
        lambda: Conversation.objects.get(pk=conversation.pk).severity_name == "high"
    )
    assert page.evaluate(MARKER) is True

    # Snooze "in 1 hour" from the row at the top.
    page.locator("#snooze-menu > summary").click()
    one_hour = page.get_by_role("button", name="in 1 hour")
    assert one_hour.evaluate(IN_VIEW)
    shot(page, "panel-compact-1440-snooze")
    one_hour.click()
    page.wait_for_selector("#status-panel .status-note:has-text('Snoozed until')")
    conversation.refresh_from_db()
    assert conversation.status == "snoozed"
    expected = timezone.now() + dt.timedelta(hours=1)
    assert abs((conversation.snoozed_until - expected).total_seconds()) < 60
    assert page.evaluate(MARKER) is True

    # The sections fold, and stay folded on the next conversation page.
    page.get_by_role("button", name="Contact", exact=True).click()
    assert not page.locator("#contact-body").is_visible()
    page.reload()
    toggle = page.get_by_role("button", name="Contact", exact=True)
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.locator("#contact-body").is_visible()
    toggle.click()
    assert page.locator("#contact-body").is_visible()
    # A shortcut reaches into a folded section, or the closed Snooze menu, and opens it.
    page.get_by_role("button", name="Triage", exact=True).click()
    assert not severity.is_visible()
    page.locator("#conv-title").click()
    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.id") == "severity-select"
    assert severity.evaluate(IN_VIEW)
    page.locator("#conv-title").click()
    page.keyboard.press("z")
    assert page.evaluate("document.activeElement.textContent") == "in 1 hour"
    page.keyboard.press("Escape")
    assert page.locator("#snooze-menu").get_attribute("open") is None

    # At 1280 the panel may sit elsewhere (the layout's business); its look is kept for review.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#triage").scroll_into_view_if_needed()
    shot(page, "panel-compact-1280")
    assert page.problems == [], page.problems


def test_a_colleagues_change_is_announced_and_a_control_in_use_gets_a_note(
    page, server, support, chromium
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
    news = page.locator("#panel-news")
    assert news.get_attribute("aria-live") == "polite"

    bobs = chromium.new_context(viewport={"width": 1440, "height": 900}).new_page()
    bobs.set_default_timeout(15000)
    login(bobs, server, "bob", path)
    bobs.wait_for_selector("body[data-live=connected]")

    # Bob sets the severity and hands the conversation to Alice: she hears both.
    bobs.get_by_role("combobox", name="Severity").select_option("high")
    page.wait_for_function(f"() => ({NEWS})().includes('Bob set severity to high.')")
    assert page.get_by_role("combobox", name="Severity").input_value() == "high"
    bobs.get_by_role("combobox", name="Agent").select_option("alice")
    page.wait_for_function(f"() => ({NEWS})().includes('Bob assigned this to you.')")
    bobs.get_by_role("combobox", name="Add tag").fill("Incident")
    bobs.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_function(f"() => ({NEWS})().includes('Bob added the tag Incident.')")
    page.wait_for_selector("#tags-panel .chip:has-text('Incident')")

    # Alice picks a severity with the keyboard and has not sent it when Bob sets another: her
    # choice stays, a note beside it says Bob's, and "Show" takes his instead.
    severity = page.get_by_role("combobox", name="Severity")
    severity.focus()
    page.keyboard.press("ArrowDown")  # high -> critical, not sent yet
    assert severity.input_value() == "critical"
    page.wait_for_timeout(300)
    assert Conversation.objects.get(pk=conversation.pk).severity_name == "high"
    bobs.get_by_role("combobox", name="Severity").select_option("low")
    hint = page.locator("#severity-form [data-stale-hint]")
    hint.wait_for()
    assert hint.inner_text().startswith("Changed by a colleague: low")
    assert hint.evaluate(IN_VIEW)
    # Said a moment after the note is drawn (the region is emptied first, so it is said again).
    page.wait_for_function(f"() => ({NEWS})().includes('Bob set severity to low.')")
    assert severity.input_value() == "critical"  # hers, still
    shot(page, "panel-compact-stale-hint")
    hint.get_by_role("button", name="Show").click()
    page.wait_for_function("() => document.querySelector('#severity-select').value === 'low'")
    assert page.locator("[data-stale-hint]").count() == 0
    page.wait_for_timeout(300)
    assert Conversation.objects.get(pk=conversation.pk).severity_name == "low"  # nothing sent

    # A keyboard choice goes out when she presses Enter.
    page.get_by_role("combobox", name="Severity").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#conv-meta:has-text('severity normal')")
    assert page.evaluate(MARKER) is True
    bobs.context.close()
    assert page.problems == [], page.problems


def test_without_javascript_the_forms_buttons_still_post(chromium, server, support):
    user(AgentFactory, "alice", teams=[support])
    user(AgentFactory, "bob", teams=[support])
    conversation = a_conversation(support)
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    path = f"/inbox/conversations/{conversation.pk}/"
    login(page, server, "alice", path)

    page.get_by_role("combobox", name="Severity").select_option("critical")
    page.get_by_role("button", name="Set severity").click()
    page.wait_for_selector("#conv-meta:has-text('severity critical')")
    page.locator("#assign-reason-box > summary").click()
    page.get_by_label("Reason (optional)").fill("Knows printers")
    page.get_by_role("combobox", name="Agent").select_option("bob")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_selector("#conv-meta:has-text('assignee bob')")
    page.wait_for_selector("#activity-panel:has-text('Knows printers')")
    page.locator("#snooze-menu > summary").click()
    page.get_by_role("button", name="in 1 hour").click()
    page.wait_for_selector("#status-panel .status-note:has-text('Snoozed until')")
    conversation.refresh_from_db()
    assert (conversation.severity_name, conversation.assignee.username) == ("critical", "bob")
    assert conversation.status == "snoozed"
    context.close()
    browser.wait_until_idle()
