"""In headless Chromium: the open conversation reads as in Chatwoot and Front.

The customer's messages sit on the left, the agents' on the right in another tint, a private note
is yellow, what the product sent by itself is small in the middle; delivery shows only for
outbound messages that have a state, and a failed one says why beside Retry. The composer is a
compact bar while idle (the thread keeps most of the pane), shows only the open tab's box, and
grows when focused or holding text. Browser, server and helpers are those of test_browser.py;
screenshots land in tests/artifacts/ (conversation-look-*.png)."""

import datetime as dt

import pytest
from django.utils import timezone

from inbox.models import Conversation, Message
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import (
    AttachmentFactory,
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
FAILURE = "550 5.1.1 <ann@example.com>: mailbox unavailable"
# Each message's place in the thread's box: its left and right edges and its middle, as shares
# of the width the bubbles have (0 = the thread's left edge, 1 = its right edge, inside the
# gutters where the avatars sit). Day separators between them are not messages.
PLACES = """() => {
  const thread = document.querySelector('#thread');
  const outer = thread.getBoundingClientRect();
  const style = getComputedStyle(thread);
  const box = { left: outer.left + parseFloat(style.paddingLeft),
                width: outer.width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) };
  return [...document.querySelectorAll('#thread > li.message')].map((li) => {
    const r = li.getBoundingClientRect();
    return {
      id: li.id, classes: li.className, text: li.innerText,
      left: (r.left - box.left) / box.width, right: (r.right - box.left) / box.width,
      middle: (r.left + r.width / 2 - box.left) / box.width,
      background: getComputedStyle(li).backgroundColor,
    };
  });
}"""
HEIGHTS = """() => {
  const h = (sel) => document.querySelector(sel).getBoundingClientRect().height;
  return { pane: h('#pane'), thread: h('#thread-wrap'), composer: h('.composer'),
           reply: h('#reply-text') };
}"""


def shot(page, name):
    browser.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(browser.ARTIFACTS / f"{name}.png"), caret="initial")


def a_busy_email_thread(support):
    """Ann's email thread: her messages, two agents' replies in their delivery states, an automatic
    acknowledgement, a private note, a PDF she sent, and a reply the mail server refused."""
    alice = browser.user(
        AgentFactory, "alice", first_name="Alice", last_name="Ames", teams=[support]
    )
    bob = AgentFactory(username="bob", first_name="Bob", last_name="Berg", teams=[support])
    channel = ChannelFactory(slug="mail", kind="email", name="Support mail", default_team=support)
    for i in range(4):
        other = ConversationFactory(channel=channel, team=support, subject=f"Question {i}")
        MessageFactory(conversation=other, text="Hello")
    conversation = ConversationFactory(
        channel=channel,
        team=support,
        subject="The March invoice shows the wrong total",
        contact=ContactFactory(name="Ann Lee", email="ann@example.com"),
    )
    start = timezone.now() - dt.timedelta(hours=30)
    at = iter(start + dt.timedelta(minutes=37 * i) for i in range(100))

    def inbound(text, **kw):
        return MessageFactory(conversation=conversation, text=text, created_at=next(at), **kw)

    def outbound(text, by=alice, status="delivered", **kw):
        return MessageFactory(
            conversation=conversation,
            direction=Message.Direction.OUT,
            sender_user=by,
            sender_contact=None,
            text=text,
            delivery_status=status,
            created_at=next(at),
            **kw,
        )

    inbound(
        "",
        html="<p>Hello,</p><p>the March invoice (<b>INV-2291</b>) shows 1,240.00 EUR but our "
        "contract says 980.00 EUR a month.</p><p>Could you check what happened?</p><p>Ann</p>",
    )
    inbound(
        "Sorry, one more thing: the invoice also went to our old address.\n\n"
        "On Sun, 6 Dec 2026, Ann Lee <ann@example.com> wrote:\n"
        "> Hello,\n> the March invoice (INV-2291) shows the wrong total.\n"
    )
    outbound(
        "Thanks for writing, we received your message and will answer within one working day.",
        by=None,
        status="sent",
    )
    outbound(
        "Hi Ann, thanks for flagging this. I can see the extra 260.00 EUR: it is the add-on "
        "seats from February. Let me check with billing whether they were meant to be charged.",
        status="read",
    )
    MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUT,
        kind=Message.Kind.NOTE,
        sender_user=alice,
        sender_contact=None,
        created_at=next(at),
        text="@bob the seats were cancelled on 2 Feb per the ticket history, can you credit "
        "them? Customer is on the annual plan.",
    )
    outbound("Credit for the seats is approved, I will issue it today.", by=bob, status="")
    pdf = inbound("Here is the invoice we received, for reference.")
    AttachmentFactory(
        message=pdf, name="INV-2291-march.pdf", content_type="application/pdf", size=48213
    )
    outbound("Thank you! A credit note for 260.00 EUR is on its way.", status="delivered")
    inbound("Got it, thanks. Will the April invoice be right?")
    outbound(
        "Yes: the seats are removed from your plan, so April will be 980.00 EUR. I am sending "
        "the credit note as a PDF now.",
        status="failed",
        delivery_error=FAILURE,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now())
    return conversation


def open_conversation(page, server, conversation, width=1440, height=900):
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": width, "height": height})
    browser.login(page, server, "alice")
    page.get_by_role("region", name="Conversations").get_by_role(
        "link", name="The March invoice"
    ).click()
    page.wait_for_selector(f"#pane [data-open-conversation='{conversation.pk}']")
    page.wait_for_function(
        "() => { const w = document.querySelector('#thread-wrap');"
        " return w.scrollTop + w.clientHeight >= w.scrollHeight - 2; }"
    )


def test_the_idle_composer_leaves_the_thread_most_of_the_pane_and_grows_when_used(
    page, server, support
):
    conversation = a_busy_email_thread(support)
    open_conversation(page, server, conversation)
    reply = page.get_by_role("textbox", name="Reply")
    note = page.get_by_role("textbox", name="Private note")
    assert reply.is_visible() and not note.is_visible()  # only the open tab's box
    assert page.get_by_role("button", name="Send", exact=True).is_visible()
    assert page.get_by_role("button", name="Send and resolve").is_visible()
    attach = page.get_by_label("Attach files")
    assert attach.evaluate("(el) => el.type") == "file"  # a real file input, named
    assert page.get_by_text("Attach files").is_visible()
    assert not page.locator("#reply-text-count").is_visible()  # no count while idle
    assert not page.get_by_text("Ctrl+Enter sends").is_visible()

    shot(page, "conversation-look-1440")
    page.locator("#thread-wrap").evaluate("(w) => { w.scrollTop = 0; }")
    shot(page, "conversation-look-1440-top")
    page.locator("#thread-wrap").evaluate("(w) => { w.scrollTop = w.scrollHeight; }")
    idle = page.evaluate(HEIGHTS)
    assert idle["thread"] >= 0.6 * idle["pane"], idle
    assert idle["composer"] <= 170, idle
    assert page.evaluate(NO_SIDEWAYS)

    reply.click()
    page.wait_for_function("() => document.querySelector('#reply-text').offsetHeight > 80")
    focused = page.evaluate(HEIGHTS)
    assert focused["reply"] >= idle["reply"] + 30, (idle, focused)
    assert page.get_by_text("Ctrl+Enter sends").is_visible()
    reply.press_sequentially("Hi Ann, ")
    counter = page.locator("#reply-text-count")
    counter.wait_for()  # the count shows while typing
    assert "of 50,000 characters at most" in counter.inner_text()
    shot(page, "conversation-look-1440-composing")

    # Holding text, it stays open after focus leaves; emptied and left, it folds back.
    page.locator("#conv-title").click()
    assert page.evaluate(HEIGHTS)["reply"] >= idle["reply"] + 30
    reply.fill("")
    page.locator("#conv-title").click()
    page.wait_for_function(
        f"() => document.querySelector('#reply-text').offsetHeight <= {idle['reply'] + 1}"
    )

    # The tabs switch the box: the note's shows, the reply's goes.
    page.get_by_role("tab", name="Private note").click()
    assert note.is_visible() and not reply.is_visible()
    assert page.evaluate("document.activeElement.id") == "note-text"
    shot(page, "conversation-look-1440-note")
    page.get_by_role("tab", name="Reply").click()
    assert reply.is_visible() and not note.is_visible()
    assert page.problems == [], page.problems


def check_sides(page):
    places = page.evaluate(PLACES)
    assert len(places) == 10
    inbound = [p for p in places if " in " in f" {p['classes']} "]
    system = [p for p in places if "system" in p["classes"]]
    notes = [p for p in places if "note" in p["classes"]]
    agents = [
        p for p in places if " out " in f" {p['classes']} " and p not in system and p not in notes
    ]
    assert len(inbound) == 4 and len(system) == 1 and len(notes) == 1 and len(agents) == 4
    for p in inbound:  # the customer's, on the left half
        assert p["left"] < 0.02 and p["middle"] < 0.5 and p["right"] < 0.95, p
    for p in agents + notes:  # the agents', on the right half
        assert p["right"] > 0.98 and p["middle"] > 0.5 and p["left"] > 0.05, p
    [auto] = system  # the automatic acknowledgement, in the middle
    assert abs(auto["middle"] - 0.5) < 0.02 and auto["right"] - auto["left"] < 0.85, auto
    # Three tints: the customer's, the agents', the note's.
    assert len({inbound[0]["background"], agents[0]["background"], notes[0]["background"]}) == 3
    return places


def test_messages_sit_on_their_sides_with_compact_meta_and_a_failure_says_why(
    page, server, support
):
    conversation = a_busy_email_thread(support)
    open_conversation(page, server, conversation)
    places = check_sides(page)
    texts = "\n".join(p["text"] for p in places)
    assert "not applicable" not in texts.lower()
    # Delivery shows on the agents' messages that have a state (at the bubble's foot), not on
    # notes or the customer's; the meta line says who and when.
    by_start = {p["text"].split("\n")[0]: p for p in places}
    assert any(line.startswith("Alice Ames · ") for line in by_start)
    assert any(line.startswith("Ann Lee") and line.count("·") == 1 for line in by_start)
    states = page.locator("#thread > li.out:not(.note):not(.system) .delivery-state")
    assert {"read", "delivered"} <= set(states.all_inner_texts())
    no_state = page.locator("#thread > li.message", has_text="Credit for the seats is approved")
    assert no_state.locator(".delivery-state").count() == 0  # Bob's, which has no state
    elsewhere = "#thread > li.in .delivery-state, #thread > li.note .delivery-state"
    assert page.locator(elsewhere).count() == 0
    note = page.locator("#thread > li.note")
    assert note.locator(".who").inner_text().startswith("Private note · Alice Ames")
    assert "delivered" not in note.inner_text()
    assert page.locator("#thread li.system .who").inner_text().startswith("Switchboard (automatic)")

    failed = page.locator("#thread > li.failed")
    assert failed.locator(".delivery-state").inner_text() == "failed"
    alert = failed.get_by_role("alert")
    assert FAILURE in alert.inner_text() and "Not delivered" in alert.inner_text()
    assert alert.get_by_role("button", name="Retry").is_visible()

    attachment = page.get_by_role("link", name="INV-2291-march.pdf")
    assert attachment.is_visible()
    assert "(47.1\u00a0KB)" in page.locator("#thread > li", has=attachment).inner_text()
    assert page.evaluate(NO_SIDEWAYS)

    # Retry still sends it again.
    alert.get_by_role("button", name="Retry").click()
    page.get_by_text("Sending again.").first.wait_for()
    retried = Message.objects.get(text__startswith="Yes: the seats")
    assert browser.wait_for(lambda: Message.objects.get(pk=retried.pk).delivery_status != "failed")
    assert page.problems == [], page.problems


@pytest.mark.parametrize(("width", "height", "name"), [(1024, 768, "1024"), (683, 450, "zoom-200")])
def test_the_look_holds_at_1024_and_at_200_percent_zoom(page, server, support, width, height, name):
    conversation = a_busy_email_thread(support)
    page.set_default_timeout(15000)
    page.set_viewport_size({"width": width, "height": height})
    browser.login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")
    page.wait_for_selector("#thread > li.failed")
    assert page.evaluate(NO_SIDEWAYS)
    check_sides(page)
    reply = page.get_by_role("textbox", name="Reply")
    reply.scroll_into_view_if_needed()
    assert reply.is_visible() and not page.get_by_role("textbox", name="Private note").is_visible()
    page.wait_for_timeout(300)
    shot(page, f"conversation-look-{name}")
    reply.click()
    assert page.evaluate(NO_SIDEWAYS)
    assert page.problems == [], page.problems
