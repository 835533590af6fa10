"""In headless Chromium: the thread reads in groups, as in Chatwoot and Front.

Each run of messages by one person within five minutes shows one avatar (the person's initials,
on the customer's side or the agents') and one meta line; a separator names each day in the
agent's time zone ("Yesterday", "Today"); a message that arrives live, or the agent's own reply,
joins the last group when it is within five minutes of it and starts a new one otherwise.
Browser, server and helpers are those of test_browser.py; screenshots land in tests/artifacts/
(thread-grouping-*.png)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F
from django.utils import timezone

from inbox.models import Conversation, Message
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, MessageFactory
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
# The thread as a list: each item a day separator or a message, with where its avatar sits.
THREAD = """() => [...document.querySelectorAll('#thread > li')].map((li) => {
  const r = li.getBoundingClientRect();
  const avatar = li.querySelector(':scope > .msg-avatar');
  const a = avatar && avatar.getBoundingClientRect();
  const who = li.querySelector(':scope > .who');
  return {
    id: li.id, day: li.classList.contains('day') ? li.innerText.trim() : null,
    classes: li.className, text: li.innerText,
    first: li.classList.contains('first'),
    // The meta line as seen: its author shown (not only to screen readers) and not faded out.
    meta: !!(who && who.querySelector('.author') && getComputedStyle(who).opacity === '1'),
    avatar: avatar && { text: avatar.innerText.trim(), hidden: avatar.getAttribute('aria-hidden'),
                        left: a.left, right: a.right, top: a.top, width: a.width,
                        background: getComputedStyle(avatar).backgroundColor },
    left: r.left, right: r.right, top: r.top,
  };
})"""


def shot(page, name):
    browser.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(browser.ARTIFACTS / f"{name}.png"), caret="initial")


def a_zone_at_midday() -> str:
    """A fixed-offset zone where it is about noon now: "yesterday" and "today" need no luck."""
    offset = 12 - timezone.now().astimezone(dt.UTC).hour
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def a_thread_over_two_days(support, http_server, server):
    """Maria wrote yesterday morning (two messages), Alice answered twice; today Alice left a
    private note, then Maria sent three messages within two minutes, the last a minute ago."""
    zone = ZoneInfo(a_zone_at_midday())
    alice = browser.user(
        AgentFactory,
        "alice",
        first_name="Alice",
        last_name="Ames",
        teams=[support],
        time_zone=str(zone.key),
    )
    ChannelFactory(
        slug="partner",
        kind="api",
        secret=browser.SECRET,
        default_team=support,
        config={"callback_url": f"{http_server.url}/replies"},
    )
    response = browser.post_to_partner(
        server,
        {
            "id": "evt-1",
            "sender": {"id": "u-1", "name": "Maria Gonzalez"},
            "text": "Hi, my order #4411 has not arrived.",
            "thread": "t-1",
        },
    )
    assert response.status_code == 202
    conversation = browser.wait_for(lambda: Conversation.objects.first())
    assert conversation
    now = timezone.now()
    local = now.astimezone(zone)
    yesterday = (local - dt.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    Message.objects.filter(conversation=conversation).update(created_at=yesterday)

    def customer(text, at):
        return MessageFactory(conversation=conversation, text=text, created_at=at)

    def agent(text, at, **kw):
        kw.setdefault("delivery_status", "delivered")
        return MessageFactory(
            conversation=conversation,
            direction=Message.Direction.OUT,
            sender_user=alice,
            sender_contact=None,
            text=text,
            created_at=at,
            **kw,
        )

    customer("It was due on Monday.", yesterday + dt.timedelta(minutes=2))
    agent(
        "Sorry to hear that, Maria. Let me look up the shipment.",
        yesterday + dt.timedelta(minutes=40),
        delivery_status="read",
    )
    agent(
        "The courier shows it at the Jakarta depot since Saturday; I have asked them why.",
        yesterday + dt.timedelta(minutes=41),
    )
    agent(
        "Courier says the parcel was damaged; we should send a replacement.",
        now - dt.timedelta(minutes=50),
        kind=Message.Kind.NOTE,
        delivery_status="",
    )
    customer("Any news about my order?", now - dt.timedelta(minutes=3))
    customer("I need it before Friday.", now - dt.timedelta(minutes=2))
    customer("It is a birthday present.", now - dt.timedelta(minutes=1))
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    return conversation


def groups(items):
    """The thread as [day label | (side, avatar initials, number of messages)]."""
    out = []
    for item in items:
        if item["day"] is not None:
            out.append(item["day"])
        elif item["first"]:
            side = "in" if " in " in f" {item['classes']} " else "out"
            out.append([side, item["avatar"] and item["avatar"]["text"], 1])
        else:
            out[-1][2] += 1
    return [tuple(g) if isinstance(g, list) else g for g in out]


def check_groups(page):
    items = page.evaluate(THREAD)
    messages = [i for i in items if i["day"] is None]
    for item in messages:
        # One meta line and one avatar per group: on its first message only.
        assert item["meta"] == item["first"], item
        assert bool(item["avatar"]) == item["first"], item
        if item["avatar"]:
            avatar = item["avatar"]
            assert avatar["hidden"] == "true"  # the name is in the meta line
            assert abs(avatar["top"] - item["top"]) < 2, item
            if " in " in f" {item['classes']} ":  # beside the bubble, on its side
                assert avatar["right"] <= item["left"] and avatar["width"] >= 24, item
            else:
                assert avatar["left"] >= item["right"] and avatar["width"] >= 24, item
    by_person = {}
    for item in messages:
        if item["avatar"]:
            by_person.setdefault(item["avatar"]["text"], set()).add(item["avatar"]["background"])
    assert all(len(tones) == 1 for tones in by_person.values()), by_person  # one colour each
    assert by_person["MG"] != by_person["AA"]
    # Following bubbles sit tighter than a new group does.
    gaps = page.evaluate(GAPS)
    tight = [g for g, first in gaps if not first]
    apart = [g for g, first in gaps if first]
    assert tight and max(tight) < 6 and min(apart) > 8, gaps
    return items


# Between two messages one after the other: the space, and whether the second opens a group.
GAPS = """() => [...document.querySelectorAll('#thread > li.message + li.message')].map((li) =>
  [li.getBoundingClientRect().top - li.previousElementSibling.getBoundingClientRect().bottom,
   li.classList.contains('first')])"""


def test_the_thread_groups_messages_with_avatars_and_names_the_days(
    page, server, support, http_server, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the integration's local stand-in
    conversation = a_thread_over_two_days(support, http_server, server)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1440, "height": 900})
    browser.login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")
    page.wait_for_selector("body[data-live=connected]")
    items = check_groups(page)
    assert groups(items) == [
        "Yesterday",
        ("in", "MG", 2),
        ("out", "AA", 2),
        "Today",
        ("out", "AA", 1),  # the private note: a group of its own
        ("in", "MG", 3),  # the burst
    ]
    first = next(i for i in items if i["first"] and "in" in i["classes"].split())
    assert first["text"].startswith("Maria Gonzalez · ")
    burst = [i for i in items if "birthday" in i["text"] or "Friday" in i["text"]]
    assert all(not i["first"] for i in burst)
    # The group's time is relative while recent; the moment itself is in the title.
    latest = page.locator("#thread > li.message.first.in").last.locator(".who time")
    assert latest.inner_text() in {"3 min ago", "4 min ago"}
    assert latest.get_attribute("title") and latest.get_attribute("datetime")
    yesterday = page.locator("#thread > li.message.first.in").first.locator(".who time")
    assert ":" in yesterday.inner_text() and "ago" not in yesterday.inner_text()
    # A following message keeps its time: in its title and on hover.
    follower = page.locator("#thread > li.message.cont", has_text="birthday")
    assert follower.locator(".who time").get_attribute("title")
    follower.hover()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#thread > li.cont')].some((li) =>"
        " li.matches(':hover') && getComputedStyle(li.querySelector('.who')).opacity === '1')"
    )
    page.wait_for_timeout(200)
    shot(page, "thread-grouping-1440-hover")
    # Delivery ticks stay on every agent message, the first of a group or not.
    assert page.locator("#thread > li.out.message:not(.note) .delivery-state").count() == 2
    assert page.locator("#thread > li.note .delivery-state").count() == 0
    assert page.get_by_role("heading", name="Yesterday").is_visible()  # days to jump between
    page.mouse.move(0, 0)
    page.wait_for_timeout(200)
    page.locator("#thread-wrap").evaluate("(w) => { w.scrollTop = 0; }")
    shot(page, "thread-grouping-1440-top")

    # Live: Maria writes again a minute after her last message: it joins her group.
    browser.post_to_partner(
        server,
        {"id": "evt-live-1", "sender": {"id": "u-1"}, "text": "Still waiting.", "thread": "t-1"},
    )
    page.wait_for_selector("#thread:has-text('Still waiting.')")
    items = check_groups(page)
    assert groups(items)[-1] == ("in", "MG", 4)

    # The agent's own reply, then a second within minutes: one new group on the agents' side.
    reply = page.get_by_role("textbox", name="Reply")
    reply.fill("A replacement goes out today by express.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_selector("#thread:has-text('by express')")
    reply = page.get_by_role("textbox", name="Reply")
    reply.fill("You will get the tracking number by email.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_selector("#thread:has-text('tracking number')")
    items = check_groups(page)
    assert groups(items)[-2:] == [("in", "MG", 4), ("out", "AA", 2)]
    assert page.evaluate(NO_SIDEWAYS)
    page.locator("#conv-title").click()  # the composer folds back
    page.locator("#thread-wrap").evaluate("(w) => { w.scrollTop = w.scrollHeight; }")
    page.wait_for_timeout(300)
    shot(page, "thread-grouping-1440")

    # Ten minutes on, Maria writes again: a new group, with her avatar and meta line again.
    recent = timezone.now() - dt.timedelta(minutes=8)
    Message.objects.filter(conversation=conversation, created_at__gte=recent).update(
        created_at=F("created_at") - dt.timedelta(minutes=10)
    )
    browser.post_to_partner(
        server,
        {"id": "evt-live-2", "sender": {"id": "u-1"}, "text": "Thank you!", "thread": "t-1"},
    )
    page.wait_for_selector("#thread:has-text('Thank you!')")
    items = check_groups(page)
    assert groups(items)[-1] == ("in", "MG", 1)
    assert groups(items).count("Today") == 1 and groups(items).count("Yesterday") == 1
    assert page.problems == [], page.problems


def test_the_groups_hold_at_1024(page, server, support, http_server):
    conversation = a_thread_over_two_days(support, http_server, server)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": 1024, "height": 768})
    browser.login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")
    page.wait_for_selector("#thread > li.day")
    check_groups(page)
    assert page.evaluate(NO_SIDEWAYS)
    page.wait_for_timeout(300)
    shot(page, "thread-grouping-1024")
    # Past the agent's midnight the page keeps the days' words right (static/js/times.js).
    later = page.evaluate(
        """() => { const t = window.switchboardTimes, day = 24 * 3600 * 1000;
          const today = [...document.querySelectorAll('#thread time[data-day]')].pop();
          const d = today.getAttribute('datetime');
          return [t.dayLabel(d, new Date()), t.dayLabel(d, new Date(Date.now() + day)),
                  t.dayLabel(d, new Date(Date.now() + 3 * day)), t.dayLabel('2020-03-02', new Date())]; }"""
    )
    today = dt.date.fromisoformat(
        page.locator("#thread time[data-day]").last.get_attribute("datetime")
    )
    words = f"{today:%a} {today.day} {today:%b}"
    if (today + dt.timedelta(days=3)).year != today.year:
        words += f" {today.year}"
    assert later == ["Today", "Yesterday", words, "Mon 2 Mar 2020"]
    assert page.problems == [], page.problems
