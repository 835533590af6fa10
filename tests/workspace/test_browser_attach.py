"""In headless Chromium: an agent attaches a file in the composer, sees it listed, sends it with
the reply, and the API channel's integration (a local server) gets a signed URL that serves the
same bytes without a session; a file the channel will not carry is refused in words beside the
composer. Browser, server and helpers are those of test_browser.py."""

import httpx
import pytest

from inbox.models import Attachment, Message
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, shot, user, wait_for = browser.login, browser.shot, browser.user, browser.wait_for

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b"%" * 3000


@pytest.fixture
def patient(page):
    # The module's first page compiles the templates: on a loaded machine, over 5 s.
    page.set_default_timeout(30000)
    return page


def conversation_on(kind, team, config, headers=None):
    channel = ChannelFactory(kind=kind, slug=f"attach-{kind}", default_team=team, config=config)
    conversation = ConversationFactory(channel=channel, team=team)
    MessageFactory(conversation=conversation, text="Send me the invoice", headers=headers or {})
    return conversation


def test_an_agent_sends_a_file_from_the_composer(patient, server, support, http_server, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.PUBLIC_BASE_URL = server
    page = patient
    user(AgentFactory, "alice", teams=[support])
    conversation = conversation_on("api", support, {"callback_url": f"{http_server.url}/cb"})
    login(page, server, "alice", next_path=f"/inbox/conversations/{conversation.pk}/")

    page.get_by_label("Attach files").set_input_files(
        [{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    listed = page.get_by_role("list", name="Files to send")
    assert listed.get_by_role("listitem").all_inner_texts() == ["invoice.pdf (3 KB)"]
    page.get_by_label("Reply to").fill("Your invoice is attached.")
    shot(page, "composer-attach")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_selector("text=Reply queued for sending.")

    assert wait_for(lambda: http_server.requests)
    [callback] = http_server.requests
    [file] = callback.json()["files"]
    assert file["name"] == "invoice.pdf"
    fetched = httpx.get(file["url"])  # no session, no token: the signature is the permission
    assert fetched.status_code == 200 and fetched.content == PDF
    reply = Message.objects.get(direction="out")
    assert (reply.text, reply.delivery_status) == ("Your invoice is attached.", "sent")
    assert [a.name for a in reply.attachments.all()] == ["invoice.pdf"]
    assert page.problems == []


def test_a_file_the_channel_refuses_is_explained_beside_the_composer(
    patient, server, support, http_server, settings
):
    settings.X_API_BASE_URL = http_server.url
    page = patient
    user(AgentFactory, "alice", teams=[support])
    conversation = conversation_on("x", support, {"access_token": "t"}, {"recipient": "42"})
    login(page, server, "alice", next_path=f"/inbox/conversations/{conversation.pk}/")
    assert "X takes files up to 5 MB" in page.locator("#reply-files-limits").inner_text()

    page.get_by_label("Attach files").set_input_files(
        [{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_label("Reply to").fill("Here it is")
    page.get_by_role("button", name="Send", exact=True).click()
    refusal = page.locator("#reply-files-refused")
    refusal.wait_for()
    assert "“invoice.pdf” is application/pdf; X only takes" in refusal.inner_text()
    assert page.get_by_label("Reply to").input_value() == "Here it is"  # kept as the draft
    shot(page, "composer-attach-refused")
    assert not http_server.requests
    assert not Message.objects.filter(direction="out").exists()
    assert not Attachment.objects.exists()
    assert page.problems == []
