"""End to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright) against the
real ASGI app (HTTP and websockets) served by uvicorn on 127.0.0.1, port 0, in a thread.
Screenshots of the main screens land in tests/artifacts/ on every run."""

import pytest
from rest_framework.test import APIClient

from inbox.models import CannedResponse, Conversation, Message
from inbox.sanitize import sanitize_html
from tagging.models import Tag
from tests.accounts.factories import AgentFactory, LeadFactory, ViewerFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.workspace.browser import SECRET, login, post_to_partner, shot, user, wait_for

HOSTILE_NAME = '<img src=x onerror="alert(1)">Mallory<script>alert(2)</script>'
HOSTILE_MAIL = (
    '<p>Hello</p><script>alert("mail")</script><img src=x onerror="alert(3)">'
    '<a href="javascript:alert(4)">click</a><iframe src="javascript:alert(5)"></iframe>'
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_webhook_message_appears_in_the_open_inbox_without_reload(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    ChannelFactory(slug="partner", kind="api", secret=SECRET, default_team=support)
    login(page, server, "alice")
    page.wait_for_selector("body[data-live=connected]")
    page.evaluate("window.__sameDocument = true")

    response = post_to_partner(
        server,
        {
            "id": "evt-live-1",
            "sender": {"id": "u-1", "name": "Globex Ops"},
            "text": "Our dashboard is down",
            "thread": "t-1",
        },
    )
    assert response.status_code == 202
    page.wait_for_selector("#rows tr:has-text('Globex Ops')", timeout=2000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    shot(page, "inbox")

    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url("**/inbox/conversations/*/")
    page.wait_for_selector("#thread:has-text('Our dashboard is down')")
    page.evaluate("window.__sameDocument = true")
    post_to_partner(
        server,
        {"id": "evt-live-2", "sender": {"id": "u-1"}, "text": "Still down!", "thread": "t-1"},
    )
    page.wait_for_selector("#thread:has-text('Still down!')", timeout=2000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.problems == []


SIDEBAR_GEOMETRY = """() => [...document.querySelectorAll("#sidebar a, #sidebar .count, .list")]
  .map((e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })"""


def test_sidebar_counts_arrive_after_the_page_in_place_and_follow_the_feed(
    page, chromium, server, support
):
    user(AgentFactory, "alice", teams=[support])
    user(AgentFactory, "bob", teams=[support])
    ChannelFactory(slug="partner", kind="api", secret=SECRET, default_team=support)
    # The page as it is before its counts arrive: without script, the placeholders stay.
    still = chromium.new_context(java_script_enabled=False, viewport={"width": 1366, "height": 800})
    before = still.new_page()
    login(before, server, "alice")
    assert before.locator("#sidebar .count.pending").count() > 0
    placeholders = before.evaluate(SIDEBAR_GEOMETRY)
    still.close()

    login(page, server, "alice")
    page.wait_for_selector("#sidebar:not([aria-busy]) .count:not(.pending)")
    page.wait_for_selector("body[data-live=connected]")

    def count(view):
        return page.locator("#sidebar a", has_text=view).locator(".count").inner_text()

    assert (count("Unassigned"), count("Mine")) == ("0", "0")
    assert page.evaluate(SIDEBAR_GEOMETRY) == placeholders  # the counts moved nothing

    response = post_to_partner(
        server, {"id": "evt-count-1", "sender": {"id": "u-9", "name": "Initech"}, "text": "Help"}
    )
    assert response.status_code == 202
    assert wait_for(lambda: count("Unassigned") == "1", timeout=8)

    conversation = Conversation.objects.get(contact__name="Initech")
    bobs = chromium.new_context().new_page()  # a colleague hands it to alice
    login(bobs, server, "bob", f"/inbox/conversations/{conversation.pk}/")
    bobs.locator("#assign-agent").select_option("alice")  # applies at once
    bobs.wait_for_selector("text=Assigned to Support / alice.")
    bobs.context.close()
    assert wait_for(lambda: (count("Unassigned"), count("Mine")) == ("0", "1"), timeout=8)
    assert page.problems == []


def test_triage_and_reply_in_the_ui_show_through_the_api_and_go_out(
    page, server, support, http_server, chromium, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the integration's local stand-in
    alice = user(AgentFactory, "alice", teams=[support])
    user(AgentFactory, "bob", teams=[support])
    channel = ChannelFactory(
        slug="partner",
        kind="api",
        secret=SECRET,
        default_team=support,
        config={"callback_url": f"{http_server.url}/replies"},
    )
    conversation = ConversationFactory(
        channel=channel, team=support, subject="Cannot export", contact=ContactFactory(name="Dana")
    )
    MessageFactory(conversation=conversation, text="The export button does nothing")
    CannedResponse.objects.create(title="Greeting", text="Hello {{contact.name}}, ")
    login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")

    page.get_by_label("Add tag").fill("incident")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector(".tags .chip:has-text('Incident')")
    page.get_by_role("combobox", name="Severity", exact=True).select_option("high")  # applies
    page.wait_for_selector("text=Severity set to high.")
    page.locator("#assign-agent").select_option("bob")
    page.wait_for_selector("text=Assigned to Support / bob.")
    bobs = chromium.new_context().new_page()  # Bob opens the same conversation: collision
    login(bobs, server, "bob", f"/inbox/conversations/{conversation.pk}/")
    page.wait_for_selector("#presence >> text=bob is viewing")
    bobs.wait_for_selector("#presence >> text=alice is viewing")
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-text"
    page.get_by_label("Canned response").select_option(label="Greeting")
    assert page.evaluate("document.activeElement.id") == "reply-text"  # back to typing
    page.keyboard.type("We are looking into it.")
    bobs.wait_for_selector("#presence >> text=alice is replying")
    bobs.context.close()
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_selector("text=Reply queued for sending.")
    shot(page, "conversation")

    api = APIClient()
    api.force_authenticate(alice)
    data = api.get(f"/api/v1/conversations/{conversation.pk}/").json()
    assert data["severity"] == "high"
    assert data["tags"] == ["incident"]
    assert data["assignee"] == "bob" and data["team"] == "support"
    stored = Message.objects.get(conversation=conversation, direction="out", kind="message")
    assert stored.text == "Hello Dana, We are looking into it."
    sent = wait_for(lambda: [r for r in http_server.requests if r.path == "/replies"])
    assert sent and sent[0].json()["text"] == "Hello Dana, We are looking into it."
    assert page.problems == []


def test_a_lead_bulk_reassigns_overnight_conversations(page, server, support):
    user(LeadFactory, "lead", teams=[support], availability="offline")
    AgentFactory(username="bob", teams=[support], availability="online")
    channel = ChannelFactory(slug="web", default_team=support)
    night = [
        ConversationFactory(channel=channel, team=support, arrived_outside_hours=True)
        for _ in range(3)
    ]
    login(page, server, "lead", "/inbox/board/")
    shot(page, "lead-board")
    page.get_by_label("To agent").select_option("bob")
    page.get_by_label("Reason").fill("morning hand-out")
    page.get_by_role("button", name="Reassign selected").click()
    page.wait_for_selector("text=3 of 3 conversations changed.")
    assert set(
        Conversation.objects.filter(assignee__username="bob").values_list("pk", flat=True)
    ) == {c.pk for c in night}
    assert page.problems == []


def test_a_viewer_sees_no_write_controls_and_a_forced_write_is_refused(page, server, support):
    user(ViewerFactory, "pat")
    tag = Tag.objects.get(slug="feature-request")
    conversation = ConversationFactory(
        channel=ChannelFactory(slug="web", default_team=support), team=support
    )
    conversation.tags.add(tag)
    login(page, server, "pat", "/inbox/product/")
    page.wait_for_selector("svg[role=img]")
    shot(page, "product")
    page.goto(f"{server}/inbox/conversations/{conversation.pk}/")
    for control in ("#reply-form", "#note-form", "#tag-form", "#assign-form", "#resolve-form"):
        assert page.locator(control).count() == 0, control
    token = page.evaluate(
        "document.querySelector('form[action=\"/logout/\"] input[name=csrfmiddlewaretoken]').value"
    )
    forced = page.request.post(
        f"{server}/inbox/conversations/{conversation.pk}/reply/",
        form={"text": "sneaky", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{server}/inbox/"},
    )
    assert forced.status == 403
    assert not Message.objects.filter(text="sneaky").exists()
    assert page.problems == []


def test_hostile_mail_and_contact_name_run_no_script(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    conversation = ConversationFactory(
        channel=ChannelFactory(slug="mail", default_team=support),
        team=support,
        contact=ContactFactory(name=HOSTILE_NAME),
        subject=HOSTILE_NAME,
    )
    MessageFactory(conversation=conversation, text="Hello", html=sanitize_html(HOSTILE_MAIL))
    login(page, server, "alice")
    page.wait_for_selector(f"#row-{conversation.pk}")
    page.goto(f"{server}/inbox/conversations/{conversation.pk}/")
    page.wait_for_selector("iframe.mail")
    page.get_by_role("button", name="Show remote images").click()
    page.wait_for_timeout(300)
    assert "Mallory" in page.locator("h1").inner_text()
    assert "<script>" in page.locator("h1").inner_text()  # shown as text, not run
    # The frame's own policy blocks what the sanitizer let through (a relative <img src=x>):
    # the browser reports those blocks; nothing may run, open a dialog or throw.
    ran = [p for p in page.problems if "Content Security Policy" not in p]
    assert ran == []
