"""In headless Chromium: the three panes. From 1280 px the views, the list and the open
conversation sit side by side; opening a conversation from the list swaps the right pane without
a page load and pushes its URL, Back and Forward put the pane of that URL back, and the URL loads
the same three panes as a full page. Below 1280 px the list and the conversation take turns; at
1024 px and at 200% zoom nothing scrolls sideways. The browser, server and helpers are those of
test_browser.py; screenshots land in tests/artifacts/."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
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

User = get_user_model()
MARKER = "window.__samePage"
MOMENT = dt.datetime(2026, 12, 7, 13, 1, tzinfo=dt.UTC)
NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
SUBJECTS = [
    "Printer on fire",
    "Invoice copy for March",
    "Cannot log in since the update",
    "Refund for a double charge",
    "Where is my parcel?",
]


def some_conversations(support, n=24):
    channel = ChannelFactory(slug="mail", kind="email", default_team=support)
    made = []
    for i in range(n):
        subject = SUBJECTS[i] if i < len(SUBJECTS) else f"Question number {i} about the account"
        conversation = ConversationFactory(
            channel=channel,
            team=support,
            subject=subject,
            contact=ContactFactory(name=f"Customer {i:02d}"),
        )
        MessageFactory(conversation=conversation, text=f"Hello, this is about: {subject}")
        made.append(conversation)
    return made


def the_pane(page):
    return page.get_by_role("region", name="Conversation", exact=True)


def pane_title(page) -> str:
    return the_pane(page).locator("#conv-title").inner_text()


def test_opening_from_the_list_swaps_the_pane_pushes_the_url_and_back_restores(
    page, server, support
):
    browser.user(AgentFactory, "alice", teams=[support])
    some_conversations(support)
    page.set_default_timeout(15000)  # two cores shared with other work: slow first requests
    page.set_viewport_size({"width": 1440, "height": 900})
    browser.login(page, server, "alice")
    page.evaluate(f"{MARKER} = true")
    listed = page.get_by_role("region", name="Conversations")
    assert page.get_by_role("navigation", name="Views").is_visible()
    assert listed.is_visible()
    assert the_pane(page).is_visible()  # the empty pane
    # Compact rows: about twenty in a 900 px high window.
    visible_rows = page.evaluate(
        "[...document.querySelectorAll('#rows tr.row')]"
        ".filter(r => r.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert visible_rows >= 18, visible_rows
    browser.shot(page, "panes-inbox")

    first = Conversation.objects.get(subject="Printer on fire")
    second = Conversation.objects.get(subject="Invoice copy for March")
    listed.get_by_role("link", name="Printer on fire").click()
    page.wait_for_url(f"{server}/inbox/conversations/{first.pk}/")
    page.wait_for_selector(f"#pane [data-open-conversation='{first.pk}']")
    assert pane_title(page) == "Printer on fire"
    assert page.title().startswith("Printer on fire")
    assert page.locator(f"#row-{first.pk}.open").count() == 1
    listed.get_by_role("link", name="Invoice copy for March").click()
    page.wait_for_url(f"{server}/inbox/conversations/{second.pk}/")
    page.wait_for_selector(f"#pane [data-open-conversation='{second.pk}']")
    assert page.get_by_role("combobox", name="Severity").is_visible()  # triage beside it
    browser.shot(page, "panes-conversation")

    page.go_back()
    page.wait_for_url(f"{server}/inbox/conversations/{first.pk}/")
    page.wait_for_selector(f"#pane [data-open-conversation='{first.pk}']")
    page.go_back()
    page.wait_for_url(f"{server}/inbox/")
    page.wait_for_selector("#pane .pane-empty")
    page.go_forward()
    page.wait_for_selector(f"#pane [data-open-conversation='{first.pk}']")
    assert page.evaluate(MARKER) is True  # not one full page load in all of that

    # The URL alone gives the same three panes, as a full page.
    page.goto(f"{server}/inbox/conversations/{second.pk}/")
    assert page.evaluate(f"typeof {MARKER}") == "undefined"
    assert pane_title(page) == "Invoice copy for March"
    assert listed.get_by_role("link", name="Printer on fire").is_visible()
    assert page.locator(f"#row-{second.pk}.open").count() == 1
    assert page.problems == []


@pytest.mark.parametrize(
    ("width", "height", "name"),
    [(1024, 768, "1024"), (683, 450, "zoom-200")],  # 200% zoom of a 1366 x 900 window
)
def test_below_1280_list_and_conversation_take_turns_without_sideways_scroll(
    page, server, support, width, height, name
):
    browser.user(AgentFactory, "alice", teams=[support])
    some_conversations(support, n=6)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": width, "height": height})
    browser.login(page, server, "alice")
    listed = page.get_by_role("region", name="Conversations")
    assert listed.is_visible()
    assert not the_pane(page).is_visible()
    assert page.evaluate(NO_SIDEWAYS)
    browser.shot(page, f"panes-list-{name}")

    page.evaluate(f"{MARKER} = true")
    listed.get_by_role("link", name="Printer on fire").click()
    page.wait_for_selector("#pane [data-open-conversation]")
    assert the_pane(page).is_visible()
    assert not listed.is_visible()  # the conversation's turn
    assert page.evaluate(NO_SIDEWAYS)
    browser.shot(page, f"panes-conversation-{name}")

    page.get_by_role("link", name="Inbox", exact=False).filter(has_text="←").click()
    page.wait_for_url(f"{server}/inbox/")
    assert listed.is_visible()
    page.go_back()
    page.wait_for_selector("#pane [data-open-conversation]")
    assert not listed.is_visible()
    assert page.evaluate(MARKER) is True
    assert page.problems == []


def test_e_resolves_and_opens_the_next_conversation_with_an_undo(page, server, support):
    browser.user(AgentFactory, "alice", teams=[support])
    some_conversations(support, n=3)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1440, "height": 900})
    browser.login(page, server, "alice")
    page.evaluate(f"{MARKER} = true")
    hrefs = page.eval_on_selector_all("#rows tr.row", "rs => rs.map(r => r.dataset.href)")
    assert len(hrefs) == 3
    opened, following = hrefs[1], hrefs[2]
    page.get_by_role("region", name="Conversations").locator(f"a[href='{opened}']").click()
    page.wait_for_url(f"{server}{opened}")
    page.locator("#conv-title").click()  # the page, not a field, has the keys

    page.keyboard.press("e")
    page.wait_for_url(f"{server}{following}")
    page.wait_for_selector(f"#pane [data-open-conversation='{following.split('/')[-2]}']")
    resolved = Conversation.objects.get(pk=int(opened.split("/")[-2]))
    assert resolved.status == "resolved"
    undo = page.get_by_role("button", name="Undo")
    assert undo.is_visible()
    browser.shot(page, "panes-resolve-next")
    undo.click()
    page.wait_for_selector("#toasts >> text=Reopened")
    assert browser.wait_for(
        lambda: Conversation.objects.get(pk=resolved.pk).status == "open", timeout=5
    )
    # The last of the list: e resolves it and opens the one before (live again since the undo).
    page.wait_for_selector(f"#row-{resolved.pk}:not(.stale)")
    page.locator("#conv-title").click()
    page.keyboard.press("e")
    page.wait_for_url(f"{server}{opened}")
    assert browser.wait_for(
        lambda: Conversation.objects.get(pk=int(following.split("/")[-2])).status == "resolved"
    )
    assert page.evaluate(MARKER) is True
    assert page.problems == []


ROW_TOP = "(id) => document.getElementById(id).getBoundingClientRect().top"


def test_a_new_row_while_scrolled_down_shows_a_pill_and_moves_nothing(page, server, support):
    browser.user(AgentFactory, "alice", teams=[support])
    ChannelFactory(slug="partner", kind="api", secret=browser.SECRET, default_team=support)
    made = some_conversations(support, n=40)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1440, "height": 900})
    browser.login(page, server, "alice")
    page.wait_for_selector("body[data-live=connected]")
    page.evaluate(f"{MARKER} = true")
    page.locator("section.list").evaluate("el => { el.scrollTop = 600; }")
    reading = f"row-{made[-20].pk}"  # a row in view after that scroll
    top_before = page.evaluate(ROW_TOP, reading)

    response = browser.post_to_partner(
        server, {"id": "evt-pill-1", "sender": {"id": "u-1", "name": "Hooli"}, "text": "Urgent"}
    )
    assert response.status_code == 202
    pill = page.get_by_role("button", name="1 new")
    pill.wait_for()
    assert page.locator("#rows tr.row").first.inner_text().startswith("API")  # arrived on top
    assert abs(page.evaluate(ROW_TOP, reading) - top_before) < 1  # what was read stays put
    browser.shot(page, "panes-new-pill")

    pill.click()
    assert page.locator("section.list").evaluate("el => el.scrollTop") == 0
    assert page.locator("#rows tr.row").first.is_visible()
    assert "Hooli" in page.locator("#rows tr.row").first.inner_text()
    assert not pill.is_visible()
    # At the top, a new row just slides in: no pill.
    browser.post_to_partner(
        server, {"id": "evt-pill-2", "sender": {"id": "u-2", "name": "Pied Piper"}, "text": "Hi"}
    )
    page.wait_for_selector("#rows tr.row:has-text('Pied Piper')")
    assert page.locator(".new-pill:visible").count() == 0
    assert page.evaluate(MARKER) is True
    assert page.problems == []


def test_times_in_the_agents_zone_taken_from_the_browser_once_and_kept_live(
    chromium, server, support
):
    browser.user(AgentFactory, "alice", teams=[support])
    channel = ChannelFactory(slug="mail", kind="email", default_team=support)
    now = timezone.now()
    conversation = ConversationFactory(
        channel=channel,
        team=support,
        subject="Late parcel",
        last_message_at=now - dt.timedelta(minutes=3, seconds=30),
    )
    MessageFactory(conversation=conversation, text="Where is it?", created_at=MOMENT)
    context = chromium.new_context(
        viewport={"width": 1440, "height": 900}, timezone_id="Asia/Jakarta"
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.clock.install()
    browser.login(page, server, "alice")
    row = page.locator(f"#row-{conversation.pk}")
    assert row.locator("time[data-relative]").inner_text() == "3 min ago"
    # Sent once by the browser, and stored.
    assert browser.wait_for(lambda: User.objects.get(username="alice").time_zone == "Asia/Jakarta")
    page.clock.run_for(2 * 60 * 1000)  # two minutes later, without a reload
    assert row.locator("time[data-relative]").inner_text() == "5 min ago"

    row.get_by_role("link", name="Late parcel").click()
    # The thread's meta line says how long ago; the moment itself, in the zone, is its title.
    page.wait_for_selector("#thread .who time[data-relative]")
    moment = page.locator("#thread .who time[data-relative]")
    page.wait_for_function(
        "() => document.querySelector('#thread .who time').title === 'Mon 7 Dec, 20:01'"
    )  # UTC+7
    assert moment.inner_text() == "20:01" or moment.inner_text().endswith(("ago", "just now"))
    page.locator(".account-menu > summary").click()  # the name is under the account's menu
    page.get_by_role("link", name="Alice").click()
    page.wait_for_url(f"{server}/inbox/profile/")
    assert page.get_by_label("Time zone").input_value() == "Asia/Jakarta"
    browser.shot(page, "profile-time-zone")
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Times are now shown in America/New_York.")
    page.goto(f"{server}/inbox/conversations/{conversation.pk}/")
    assert moment.get_attribute("title") == "Mon 7 Dec, 08:01"  # UTC-5
    assert User.objects.get(username="alice").time_zone == "America/New_York"
    assert page.problems == []
    context.close()
