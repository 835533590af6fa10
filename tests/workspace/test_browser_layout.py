"""In headless Chromium: the page's layout at the widths agents use. At 1280 x 800 with a
conversation open the triage (Severity to Resolve) is in view beside the thread without scrolling;
at 1024 px the top bar is one line and nothing scrolls sideways, also at 200% zoom, where the
details are a drawer behind a "Details" button (Escape closes it, the focus goes back). List rows:
a click at the centre of the subject's link lands on the link, a long tag name ends in an
ellipsis with the whole name in the tooltip, the SLA countdown says what is due. The browser,
server and helpers are those of test_browser.py; screenshots land in tests/artifacts/."""

import datetime as dt

import pytest
from django.utils import timezone

from tagging.models import ConversationTag, Tag
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
LONG_TAG = "User-generated content"


def a_busy_inbox(support, n=24):
    channel = ChannelFactory(slug="mail", kind="email", default_team=support)
    ugc, _ = Tag.objects.get_or_create(slug="ugc", defaults={"name": LONG_TAG, "is_default": True})
    incident = Tag.objects.get(slug="incident")
    now = timezone.now()
    made = []
    for i in range(n):
        conversation = ConversationFactory(
            channel=channel,
            team=support,
            subject=f"A rather long question number {i} about the invoice of last month",
            contact=ContactFactory(name=f"Customer {i:02d}"),
            first_response_due=now + dt.timedelta(hours=2, minutes=i),
        )
        MessageFactory(conversation=conversation, text=f"Hello, question {i}")
        made.append(conversation)
    # The newest (first in the list) carries the long tag; the next one two tags.
    ConversationTag.objects.create(conversation=made[-1], tag=ugc)
    ConversationTag.objects.create(conversation=made[-2], tag=ugc)
    ConversationTag.objects.create(conversation=made[-2], tag=incident)
    # A contact with other conversations: a longer details column.
    for extra in made[:2]:
        extra.contact = made[-1].contact
        extra.save(update_fields=["contact"])
    return made


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] >= 0
        and box["x"] + box["width"] <= size["width"]
    )


def test_at_1280_the_triage_is_in_view_beside_the_thread_without_scrolling(page, server, support):
    browser.user(AgentFactory, "alice", teams=[support])
    made = a_busy_inbox(support)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1280, "height": 800})
    browser.login(page, server, "alice")
    page.get_by_role("region", name="Conversations").locator(f"#row-{made[-1].pk} a").click()
    page.wait_for_selector(f"#pane [data-open-conversation='{made[-1].pk}']")
    pane = page.get_by_role("region", name="Conversation", exact=True)
    severity = pane.get_by_role("combobox", name="Severity")
    resolve = pane.get_by_role("button", name="Resolve", exact=True)
    assert severity.is_visible() and resolve.is_visible()
    browser.shot(page, "layout-1280")
    assert in_view(page, severity) and in_view(page, resolve), resolve.bounding_box()
    # Beside the thread, not under it: the details start level with the conversation's title.
    side = page.locator("#conv-side").bounding_box()
    title = page.locator("#conv-title").bounding_box()
    assert side["x"] > title["x"] + title["width"] - 1
    assert page.evaluate("scrollY") == 0 and page.evaluate(NO_SIDEWAYS)
    assert not page.get_by_role(
        "button", name="Details", exact=True
    ).is_visible()  # no drawer needed
    browser.shot(page, "layout-1280")

    page.set_viewport_size({"width": 1440, "height": 900})
    assert in_view(page, severity) and in_view(page, resolve)
    browser.shot(page, "layout-1440")
    assert page.problems == []


@pytest.mark.parametrize(
    ("width", "height", "name"),
    [(1024, 768, "1024"), (683, 450, "zoom-200")],  # 200% zoom of a 1366 x 900 window
)
def test_the_top_bar_is_one_line_and_nothing_scrolls_sideways(
    page, server, support, width, height, name
):
    browser.user(AgentFactory, "alice", teams=[support], first_name="Alice", last_name="Ames")
    made = a_busy_inbox(support, n=6)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": width, "height": height})
    browser.login(page, server, "alice")
    topbar = page.locator("header.topbar")
    assert topbar.bounding_box()["height"] < 60
    assert page.evaluate(NO_SIDEWAYS)
    assert page.get_by_role("searchbox", name="Search").is_visible()
    assert page.get_by_role("button", name="Notifications").is_visible()
    if name == "1024":
        browser.shot(page, "layout-1024")
    # The screens not in the bar, and the account, are one click away; Escape closes a menu.
    more = page.locator(".screens-more > summary")
    more.click()
    assert page.get_by_role("link", name="API tokens").is_visible()
    page.keyboard.press("Escape")
    assert not page.get_by_role("link", name="API tokens").is_visible()
    assert page.evaluate("document.activeElement.parentElement.matches('.screens-more')")
    page.locator(".account-menu > summary").click()
    assert page.get_by_role("button", name="Log out").is_visible()
    assert page.get_by_role("link", name="Alice Ames").is_visible()
    page.locator("#inbox-title").click()  # a click elsewhere
    assert not page.get_by_role("button", name="Log out").is_visible()

    page.get_by_role("region", name="Conversations").locator(f"#row-{made[-1].pk} a").click()
    page.wait_for_selector(f"#pane [data-open-conversation='{made[-1].pk}']")
    assert page.evaluate(NO_SIDEWAYS)
    assert topbar.bounding_box()["height"] < 60
    severity = page.get_by_role("combobox", name="Severity")
    details = page.get_by_role("button", name="Details", exact=True)
    if name == "1024":
        # Wide enough for both: the details stay beside the thread.
        assert severity.is_visible() and not details.is_visible()
        browser.shot(page, "layout-1024-conversation")
    else:
        # Too narrow: a drawer over the thread, opened by keyboard, shut by Escape.
        assert not severity.is_visible()
        details.focus()
        page.keyboard.press("Enter")
        assert severity.is_visible()
        assert details.get_attribute("aria-expanded") == "true"
        assert page.evaluate("document.activeElement.id") == "conv-side"
        assert page.evaluate(NO_SIDEWAYS)
        browser.shot(page, "layout-zoom-200-details")
        page.keyboard.press("Escape")
        assert not severity.is_visible()
        assert details.get_attribute("aria-expanded") == "false"
        assert page.evaluate("document.activeElement.hasAttribute('data-details-toggle')")
    assert page.problems == []


def test_list_rows_take_a_click_on_the_link_and_label_their_tags_and_sla(page, server, support):
    browser.user(AgentFactory, "alice", teams=[support])
    made = a_busy_inbox(support)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1280, "height": 800})
    browser.login(page, server, "alice")
    listed = page.get_by_role("region", name="Conversations")
    row = listed.locator(f"#row-{made[-1].pk}")

    # The link is clipped to its own cell: nothing lies over its centre. (Playwright refuses the
    # click, and times out, when another element would receive it.)
    link = row.get_by_role("link")
    cell = row.locator("td.subject").bounding_box()
    box = link.bounding_box()
    assert box["x"] + box["width"] <= cell["x"] + cell["width"] + 0.5
    link.click(timeout=3000)
    page.wait_for_selector(f"#pane [data-open-conversation='{made[-1].pk}']")

    # The long tag: an ellipsis where it is cut, its whole name in the cell's tooltip.
    tags = row.locator("td.tags-cell")
    chip = tags.locator(".chip", has_text=LONG_TAG)
    assert chip.is_visible()
    cut = chip.evaluate("el => el.scrollWidth > el.clientWidth")
    assert not cut or chip.evaluate("el => getComputedStyle(el).textOverflow") == "ellipsis"
    assert tags.get_attribute("title") == LONG_TAG
    # Two tags: the first and "+1" (the other's name is in the tooltip, and in the cell for
    # assistive tools).
    both = listed.locator(f"#row-{made[-2].pk} td.tags-cell")
    assert both.locator(".chip.more").inner_text() == "+1"
    shown = both.locator(".chip").evaluate_all(
        "cs => cs.filter(c => c.getBoundingClientRect().width > 2).map(c => c.textContent)"
    )
    assert len(shown) == 2 and shown[1] == "+1", shown
    assert LONG_TAG in both.get_attribute("title") and "Incident" in both.get_attribute("title")
    assert LONG_TAG in both.text_content() and "Incident" in both.text_content()

    # The SLA countdown has a clock and says what it counts down to.
    sla = row.locator("td.sla-cell")
    assert sla.locator("svg.icon").count() == 1
    assert "due" in sla.locator(".sla-due").get_attribute("title")
    cell = row.get_by_role("cell", name="First response due")
    assert cell.count() == 1
    assert "First response due: 2 h" in cell.text_content()

    # About twenty rows in a 900 px high window.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("link", name="Inbox", exact=True).first.click()
    page.wait_for_selector("#pane .pane-empty")
    visible = page.evaluate(
        "[...document.querySelectorAll('#rows tr.row')]"
        ".filter(r => r.getBoundingClientRect().bottom <= innerHeight).length"
    )
    assert visible >= 18, visible
    assert page.problems == []


def test_view_names_stay_on_one_line_with_the_whole_name_in_the_tooltip(page, server, support):
    browser.user(AgentFactory, "alice", teams=[support])
    a_busy_inbox(support, n=3)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1280, "height": 800})
    browser.login(page, server, "alice")
    views = page.get_by_role("navigation", name="Views")
    page.wait_for_selector("#sidebar:not([aria-busy])")
    link = views.get_by_role("link", name=LONG_TAG)
    assert link.get_attribute("title") == LONG_TAG
    heights = views.locator("li a").evaluate_all(
        "links => links.map(a => a.getBoundingClientRect().height)"
    )
    assert max(heights) < 30, heights  # one line each
    counts = views.locator(".count").evaluate_all(
        "cs => cs.map(c => Math.round(c.getBoundingClientRect().right))"
    )
    assert len(set(counts)) == 1, counts  # right-aligned in one column
    assert page.problems == []
