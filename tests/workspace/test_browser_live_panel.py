"""In headless Chromium: the open conversation stays live.

The agent's own triage change fetches its list row once, though both its answer and the live
feed name it. The browser, server and helpers are those of test_browser.py."""

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


def a_conversation(support, subject="Printer on fire", name="Ann Lee"):
    channel = ChannelFactory(slug="mail", kind="email", default_team=support)
    conversation = ConversationFactory(
        channel=channel, team=support, subject=subject, contact=ContactFactory(name=name)
    )
    MessageFactory(conversation=conversation, text=f"Hello, this is about: {subject}")
    return conversation


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
