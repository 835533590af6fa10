"""In headless Chromium: the open conversation stays live and its composer stays at hand.

A colleague's triage change (severity, a tag) shows in the side panel of an agent who has the
conversation open, within a couple of seconds and without a page load; a part the agent is using
(the Add tag box focused, text typed in it) waits until they leave it and keeps what they typed.
The agent's own change fetches its list row once, though both its answer and the live feed name
it. With a long thread the composer is pinned at the foot of the pane and the thread opens at its
latest message, as in Front and Chatwoot. The browser, server and helpers are those of
test_browser.py; screenshots land in tests/artifacts/."""

import datetime as dt
import re

import pytest
from django.utils import timezone

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
login, user = browser.login, browser.user

MARKER = "window.__samePage"
NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
PAGE_STILL = (
    "window.scrollY === 0 && document.scrollingElement.scrollHeight <= window.innerHeight + 1"
)
# Fully inside the window, and not covered by anything (the element found at its middle is it).
IN_VIEW = """(el) => {
  const r = el.getBoundingClientRect();
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) return false;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 10));
  return !!hit && (el === hit || el.contains(hit));
}"""
# The last message's foot is inside the window and inside the thread's own box.
LAST_SHOWN = """() => {
  const last = document.querySelector('#thread > li:last-child');
  const box = document.querySelector('#thread-wrap').getBoundingClientRect();
  const r = last.getBoundingClientRect();
  return r.bottom <= Math.min(innerHeight, box.bottom) + 1 && r.bottom > box.top;
}"""


def shot(page, name):
    """The window as the agent sees it (the page itself does not scroll here)."""
    browser.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(browser.ARTIFACTS / f"{name}.png"), caret="initial")


def a_conversation(support, subject="Printer on fire", name="Ann Lee"):
    channel = ChannelFactory(slug="mail", kind="email", default_team=support)
    conversation = ConversationFactory(
        channel=channel, team=support, subject=subject, contact=ContactFactory(name=name)
    )
    MessageFactory(conversation=conversation, text=f"Hello, this is about: {subject}")
    return conversation


def a_long_thread(support, n=60):
    """A conversation of `n` messages, the customer's and an agent's in turn, an hour apart."""
    channel = ChannelFactory(slug="mail", kind="email", default_team=support)
    others = [
        ConversationFactory(
            channel=channel, team=support, subject=f"Question number {i} about the account"
        )
        for i in range(6)
    ]
    for other in others:
        MessageFactory(conversation=other, text="Hello")
    conversation = ConversationFactory(
        channel=channel,
        team=support,
        subject="The long one",
        contact=ContactFactory(name="Ann Lee"),
    )
    agent = AgentFactory(first_name="Carol", last_name="Cruz", teams=[support])
    start = timezone.now() - dt.timedelta(hours=n)
    for i in range(n):
        inbound = i % 2 == 0
        MessageFactory(
            conversation=conversation,
            direction=Message.Direction.IN if inbound else Message.Direction.OUT,
            sender_user=None if inbound else agent,
            text=f"Message {i + 1} of {n}: "
            + ("the printer still smokes." if inbound else "we are looking into it."),
            created_at=start + dt.timedelta(hours=i),
        )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
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


def test_a_long_thread_opens_at_its_latest_message_with_the_composer_pinned(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    conversation = a_long_thread(support, n=60)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1440, "height": 900})

    # Opened from the list, in the pane.
    login(page, server, "alice")
    page.evaluate(f"{MARKER} = true")
    page.get_by_role("region", name="Conversations").get_by_role(
        "link", name="The long one"
    ).click()
    page.wait_for_selector(f"#pane [data-open-conversation='{conversation.pk}']")
    reply = page.get_by_role("textbox", name="Reply")
    page.wait_for_function(LAST_SHOWN)
    assert reply.evaluate(IN_VIEW)
    assert page.evaluate(PAGE_STILL)
    assert page.locator("#thread > li:last-child").inner_text().count("Message 60 of 60") == 1
    assert page.evaluate(NO_SIDEWAYS)
    # The side panel is there beside it, from its top.
    assert page.get_by_role("combobox", name="Severity").evaluate(IN_VIEW)
    assert page.evaluate(MARKER) is True
    shot(page, "composer-pinned-1440")

    # Reading back up the thread moves the thread alone; the composer stays.
    page.locator("#thread-wrap").evaluate("(w) => { w.scrollTop = 0; }")
    assert page.locator("#thread > li:first-child").evaluate(IN_VIEW)
    assert reply.evaluate(IN_VIEW) and page.evaluate(PAGE_STILL)
    shot(page, "composer-pinned-1440-scrolled-up")

    # The private note tab is pinned as well.
    page.get_by_role("tab", name="Private note").click()
    assert page.get_by_role("textbox", name="Private note").evaluate(IN_VIEW)
    shot(page, "composer-pinned-1440-note")

    # The URL as a full page: the same.
    page.goto(f"{server}/inbox/conversations/{conversation.pk}/")
    page.wait_for_function(LAST_SHOWN)
    assert page.get_by_role("textbox", name="Reply").evaluate(IN_VIEW)
    assert page.evaluate(PAGE_STILL)

    # A reply sent in place lands at the foot of the thread, in view.
    page.get_by_role("textbox", name="Reply").fill("We replaced the fuser; it is safe now.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_selector("#thread > li:last-child:has-text('We replaced the fuser')")
    # The live feed may redraw the thread before the pane's answer lands: wait for the new pane.
    page.wait_for_selector("#reply-form:not([aria-busy])")
    page.wait_for_function(LAST_SHOWN)
    assert page.get_by_role("textbox", name="Reply").evaluate(IN_VIEW)
    assert page.problems == [], page.problems


@pytest.mark.parametrize(("width", "height", "name"), [(1024, 768, "1024"), (1180, 820, "1180")])
def test_below_1280_the_conversations_turn_pins_the_composer_too(
    page, server, support, width, height, name
):
    user(AgentFactory, "alice", teams=[support])
    conversation = a_long_thread(support, n=60)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": width, "height": height})
    login(page, server, "alice")
    listed = page.get_by_role("region", name="Conversations")
    listed.get_by_role("link", name="The long one").click()
    page.wait_for_selector(f"#pane [data-open-conversation='{conversation.pk}']")
    assert not listed.is_visible()  # the conversation's turn
    page.wait_for_function(LAST_SHOWN)
    assert page.get_by_role("textbox", name="Reply").evaluate(IN_VIEW)
    assert page.evaluate(PAGE_STILL) and page.evaluate(NO_SIDEWAYS)
    shot(page, f"composer-pinned-{name}")
    assert page.problems == [], page.problems


def test_at_200_percent_zoom_the_page_scrolls_as_a_whole_and_nothing_sideways(
    page, server, support
):
    user(AgentFactory, "alice", teams=[support])
    conversation = a_long_thread(support, n=60)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 683, "height": 450})  # 200% zoom of a 1366 x 900 window
    login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")
    assert page.evaluate(NO_SIDEWAYS)
    # Too short a window for a pinned composer: the page scrolls, and the composer is below.
    reply = page.get_by_role("textbox", name="Reply")
    reply.scroll_into_view_if_needed()
    assert reply.evaluate(IN_VIEW)
    assert page.evaluate(NO_SIDEWAYS)
    assert page.problems == [], page.problems
