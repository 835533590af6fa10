"""The chat widget in a real Chromium against the real ASGI server (uvicorn, Redis channel
layer, PostgreSQL): a visitor writes, an agent types and replies, the visitor sees it live."""

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from inbox.models import Message
from inbox.outbound.replies import send_reply
from inbox.services import add_note
from tests.inbox.factories import ChannelFactory
from tests.support.asgi import LiveASGIServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def in_thread(fn, *args, **kwargs):
    # Playwright's sync API keeps an event loop in this thread; the ORM runs beside it.
    def run():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture(autouse=True)
def _short_lived_connections(monkeypatch):
    # The server's threads close their connections after each request, so none outlive the test.
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)


def test_a_visitor_chats_with_an_agent_in_the_widget(team, agent):
    from playwright.sync_api import expect, sync_playwright

    in_thread(ChannelFactory, kind="chat", slug="chat", default_team=team)
    with LiveASGIServer() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        dialogs, sockets, sent = [], [], []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on(
            "websocket",
            lambda ws: (
                sockets.append(ws.url),
                ws.on("framesent", lambda frame: sent.append(frame)),
            ),
        )
        page.goto(f"{server.url}/demo/chat/")
        widget = page.locator("[data-switchboard-chat]")
        widget.get_by_role("button", name="Chat with us").click()
        expect(widget.get_by_role("status")).to_contain_text("We are online")
        widget.get_by_placeholder("Your name (optional)").fill("Ada")
        widget.get_by_role("button", name="Save").click()
        expect(widget.get_by_placeholder("Your name (optional)")).to_be_hidden()
        box = widget.get_by_label("Message")
        box.fill("<img src=x onerror=alert(1)> hello")
        box.press("Enter")
        expect(widget.locator("li.visitor")).to_have_text("<img src=x onerror=alert(1)> hello")
        # It went over the socket, whose URL carries no token (it is offered as a subprotocol).
        assert any('"type":"message"' in str(frame) for frame in sent)
        assert sockets and not any("token" in url for url in sockets)

        message = in_thread(lambda: Message.objects.select_related("conversation__contact").get())
        conversation = message.conversation
        assert conversation.contact.name == "Ada"
        in_thread(add_note, conversation_id=conversation.pk, actor=agent, text="internal note")
        in_thread(send_reply, conversation_id=conversation.pk, actor=agent, text="Hi Ada!")
        expect(widget.locator("li.agent .text")).to_have_text(["Hi Ada!"])

        page.reload()  # the conversation survives a page load
        widget.get_by_role("button", name="Chat with us").click()
        expect(widget.locator("li .text")).to_have_text(
            ["<img src=x onerror=alert(1)> hello", "Hi Ada!"]
        )
        browser.close()
    assert dialogs == []  # the visitor's markup was shown as text, never run


def test_without_websockets_the_widget_posts_and_polls(team, agent):
    from playwright.sync_api import expect, sync_playwright

    in_thread(ChannelFactory, kind="chat", slug="chat", default_team=team)
    with LiveASGIServer() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.add_init_script("delete window.WebSocket")  # a network that blocks websockets
        page.goto(f"{server.url}/demo/chat/")
        widget = page.locator("[data-switchboard-chat]")
        widget.get_by_role("button", name="Chat with us").click()
        box = widget.get_by_label("Message")
        box.fill("Polling works?")
        box.press("Enter")
        expect(widget.locator("li.visitor .text")).to_have_text(["Polling works?"])
        conversation_id = in_thread(lambda: Message.objects.get().conversation_id)
        in_thread(send_reply, conversation_id=conversation_id, actor=agent, text="It does.")
        expect(widget.locator("li.agent .text")).to_have_text(["It does."])
        browser.close()


def test_typing_shows_both_ways_and_the_widget_closes_and_links(team, agent):
    """The agent sees "Ada is typing…" while the visitor types; the visitor sees "Alice is
    typing…" while the agent types in the reply box; the widget closes with its close button and Escape;
    a web address an agent sends (the survey's link) is a link."""
    from playwright.sync_api import expect, sync_playwright

    in_thread(ChannelFactory, kind="chat", slug="chat", default_team=team)
    in_thread(lambda: type(agent).objects.filter(pk=agent.pk).update(first_name="Alice"))
    with LiveASGIServer() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        visitor = browser.new_context().new_page()
        visitor.goto(f"{server.url}/demo/chat/")
        widget = visitor.locator("[data-switchboard-chat]")
        widget.get_by_role("button", name="Chat with us").click()
        widget.get_by_placeholder("Your name (optional)").fill("Ada")
        widget.get_by_role("button", name="Save").click()
        box = widget.get_by_label("Message")
        box.fill("Hello?")
        box.press("Enter")
        expect(widget.locator("li.visitor .text")).to_have_text(["Hello?"])
        conversation_id = in_thread(lambda: Message.objects.get().conversation_id)

        desk = browser.new_context().new_page()
        desk.goto(f"{server.url}/login/?next=/inbox/conversations/{conversation_id}/")
        desk.get_by_label("Username").fill(agent.username)
        desk.get_by_label("Password").fill("demo")
        desk.get_by_role("button", name="Log in").click()
        desk.wait_for_selector("body[data-live=connected]")
        indicator = desk.locator("#customer-typing")
        expect(indicator).to_be_hidden()
        # The visitor's typing is signalled at most once per CHAT_TYPING_SECONDS: the signal of
        # "Hello?" may still hold the window, so type for longer than that.
        box.press_sequentially("are you there, anyone at all?", delay=150)
        expect(indicator).to_be_visible(timeout=10_000)
        expect(indicator).to_have_text("Ada is typing…")

        desk.get_by_label("Reply to Ada on").fill("")
        desk.get_by_label("Reply to Ada on").press_sequentially("Yes, one moment", delay=30)
        expect(widget.get_by_text("Alice is typing…")).to_be_visible(timeout=10_000)

        in_thread(
            send_reply,
            conversation_id=conversation_id,
            actor=agent,
            text="How did we do? https://example.com/survey/abc123/",
        )
        link = widget.locator("li.agent a")
        expect(link).to_have_attribute("href", "https://example.com/survey/abc123/")
        expect(link).to_have_attribute("rel", "noopener noreferrer")

        widget.get_by_role("button", name="Close chat").click()
        expect(widget.get_by_label("Message")).to_be_hidden()
        launcher = widget.get_by_role("button", name="Chat with us")
        expect(launcher).to_have_attribute("aria-expanded", "false")
        launcher.click()
        expect(widget.get_by_label("Message")).to_be_visible()
        widget.get_by_label("Message").press("Escape")
        expect(widget.get_by_label("Message")).to_be_hidden()
        browser.close()
