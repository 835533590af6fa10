"""Settings pages end to end in headless Chromium against the real ASGI app (fixtures from
test_browser.py): an admin sets up a Telegram channel against a local stand-in for the Bot API,
then a message to the webhook URL the page showed arrives in the inbox; an agent writes a
personal canned response and inserts it by typing /shortcut in a reply. Screenshots land in
tests/artifacts/."""

import time

import httpx
import pytest

from inbox.models import CannedResponse, Channel, Message
from tests.accounts.factories import AdminFactory, AgentFactory
from tests.inbox.factories import ChannelFactory, ContactFactory, ConversationFactory
from tests.workspace.browser import login, shot, user, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UPDATE = {
    "update_id": 9001,
    "message": {
        "message_id": 77,
        "from": {"id": 4242, "is_bot": False, "first_name": "Budi", "language_code": "id"},
        "chat": {"id": 4242, "type": "private", "first_name": "Budi"},
        "date": int(time.time()),
        "text": "Halo, paket saya belum sampai",
    },
}


def test_an_admin_sets_up_telegram_and_a_message_to_its_webhook_arrives(
    page,
    server,
    support,
    http_server,
    settings,
):
    settings.TELEGRAM_API_BASE_URL = http_server.url  # the local Bot API stand-in
    settings.PUBLIC_BASE_URL = server
    user(AdminFactory, "admin")
    httpx.get(f"{server}/login/", timeout=60)  # the server's first answer is slow on a busy box
    login(page, server, "admin", "/inbox/settings/channels/")
    page.get_by_role("link", name="Telegram").click()
    page.get_by_role("textbox", name="Name", exact=True).fill("Support bot")
    page.get_by_label("Slug (part of the webhook URL)").fill("support-bot")
    page.get_by_label("Team that gets its conversations").select_option(label="Support")
    page.get_by_label("Bot token (from @BotFather)").fill("123456:ABC-def")
    shot(page, "settings-channel-add-telegram")
    page.get_by_role("button", name="Add channel").click()
    page.wait_for_selector("text=Channel Support bot added.")

    channel = Channel.objects.get(slug="support-bot")
    secret = page.get_by_label("Webhook secret token").input_value()
    assert secret == channel.secret and len(secret) >= 43  # generated, shown once
    webhook_url = page.get_by_role("textbox", name="Webhook URL").input_value()
    assert webhook_url == f"{server}/webhooks/telegram/support-bot/"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page.locator("button[data-copy='webhook-url']").click()
    page.wait_for_selector("[data-copied='webhook-url']:not([hidden])")
    assert page.evaluate("navigator.clipboard.readText()") == webhook_url
    shot(page, "settings-channel-created")

    http_server.respond(200, {"ok": True, "result": {"id": 123456, "username": "acme_bot"}})
    http_server.respond(200, {"ok": True, "result": True, "description": "Webhook was set"})
    page.get_by_role("button", name="Test the connection").click()
    page.wait_for_selector("li.ok:has-text('setWebhook')")
    assert page.locator(".checks").inner_text().count("passed") == 2
    get_me, set_webhook = http_server.requests
    assert get_me.path == "/bot123456:ABC-def/getMe"
    assert set_webhook.json() == {"url": webhook_url, "secret_token": secret}
    assert not page.get_by_label("Webhook secret token").count()  # shown once, gone now
    shot(page, "settings-channel-tested")

    # Telegram now posts updates to that URL with that secret token.
    response = httpx.post(
        webhook_url, json=UPDATE, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )
    assert response.status_code == 200, response.text
    assert wait_for(lambda: Message.objects.filter(channel=channel).exists(), timeout=8)
    page.goto(f"{server}/inbox/")
    row = page.locator("#rows tr", has_text="Budi")
    row.wait_for()
    assert "Support bot" in row.inner_text() and "Halo, paket saya belum sampai" in row.inner_text()
    shot(page, "settings-telegram-message-in-inbox")
    assert page.problems == []


def test_an_agent_writes_a_personal_canned_response_and_inserts_it_with_a_slash(
    page,
    server,
    support,
):
    alice = user(AgentFactory, "alice", teams=[support], first_name="Alice")
    conversation = ConversationFactory(
        team=support,
        channel=ChannelFactory(default_team=support),
        subject="Late parcel",
        contact=ContactFactory(name="Dana Smith"),
    )
    httpx.get(f"{server}/login/", timeout=60)  # the server's first answer is slow on a busy box
    login(page, server, "alice", "/inbox/settings/canned/")
    page.get_by_label("Title").fill("Thanks")
    page.get_by_label("Shortcut (typed after /)").fill("thanks")
    page.get_by_label("Text").fill("Thanks {{contact.first_name}}, {{agent.first_name}} here.")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector(".preview-text:has-text('Thanks Dana, Alice here.')")
    shot(page, "settings-canned-preview")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Canned response saved.")
    canned = CannedResponse.objects.get(owner=alice)
    assert canned.shortcut == "thanks" and canned.team is None

    page.goto(f"{server}/inbox/conversations/{conversation.pk}/")
    reply = page.get_by_role("textbox", name="Reply to")
    reply.click()
    reply.press_sequentially("Hello! /tha")
    option = page.get_by_role("option", name="/thanks · Thanks")
    option.wait_for()
    shot(page, "composer-canned-slash")
    page.keyboard.press("Enter")
    assert reply.input_value() == "Hello! Thanks Dana, Alice here."
    assert page.locator("#canned-list").is_hidden()
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_selector("text=Reply queued for sending.")
    sent = Message.objects.get(conversation=conversation, direction="out", kind="message")
    assert sent.text == "Hello! Thanks Dana, Alice here."
    assert page.problems == []
