"""In headless Chromium: on a WhatsApp conversation whose 24-hour window is closed, the agent picks
a template in the composer, fills its parameters, sees the preview, sends it, and the thread shows
the rendered text. Meta is a local HTTP server; the browser and server are test_browser.py's."""

import pytest

from inbox.models import Message
from tests.accounts.factories import AgentFactory
from tests.inbox.outbound.test_whatsapp_templates import (  # noqa: F401
    channel,
    closed,
    graph_answers,
)
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, shot, user, wait_for = browser.login, browser.shot, browser.user, browser.wait_for


def test_an_agent_sends_a_template_when_the_window_is_closed(
    page,
    server,
    team,
    closed,  # noqa: F811
    http_server,
):
    user(AgentFactory, "alice", teams=[team])
    graph_answers(http_server)
    http_server.respond(200, {"messages": [{"id": "wamid.browser-1"}]})

    login(page, server, "alice", next_path=f"/inbox/conversations/{closed.pk}/")
    assert page.get_by_label("Reply to").is_disabled()
    page.get_by_label("Template", exact=True).select_option("order_update|en_US")
    assert page.get_by_label("Parameter {{1}}").count() == 1
    assert page.locator("fieldset[data-template='follow_up|en_US']").is_hidden()
    page.get_by_label("Parameter {{1}}").fill("Dana")
    page.get_by_label("Parameter {{2}}").fill("A-1042")
    preview = page.locator("#template-preview")
    assert preview.text_content() == (
        "Acme orders\n\nHello Dana, your order A-1042 has shipped.\n\nReply STOP to opt out"
    )
    shot(page, "whatsapp-template-composer")
    page.get_by_role("button", name="Send template").click()
    page.wait_for_selector("text=Template queued for sending.")
    thread = page.locator("#thread")
    assert "Hello Dana, your order A-1042 has shipped." in thread.text_content()
    assert "WhatsApp template order_update (en_US)" in thread.text_content()
    sent = wait_for(lambda: Message.objects.filter(external_id="wamid.browser-1").first())
    assert sent is not None and sent.delivery_status == "sent"
    assert page.problems == []
