"""Files both ways in the chat widget, in a real Chromium against the real ASGI server (uvicorn,
Redis channel layer, PostgreSQL): the visitor attaches a picture that the agent's thread lists
(the stored bytes are the picture's), and a file the agent sends shows in the widget as a link
whose bytes are the agent's file, a picture as a preview."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inbox.attachments import opened
from inbox.models import Attachment, Message
from inbox.outbound.files import Outgoing
from inbox.outbound.replies import send_reply
from tests.inbox.chat.test_widget_browser import (  # noqa: F401 (the fixture is autouse)
    ARGS,
    CHROMIUM,
    _short_lived_connections,
    in_thread,
)
from tests.inbox.factories import ChannelFactory
from tests.inbox.outbound.senders.test_files import PDF, png
from tests.support.asgi import LiveASGIServer

EXE = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 200
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.browser]


def stored_bytes(message_id: int) -> tuple[str, bytes]:
    attachment = Attachment.objects.get(message_id=message_id)
    with opened(attachment) as handle:
        return attachment.name, handle.read()


def test_files_go_both_ways_in_the_widget(team, agent, settings):
    from playwright.sync_api import expect, sync_playwright

    in_thread(ChannelFactory, kind="chat", slug="chat", default_team=team)
    picture = png(48, 32)
    with LiveASGIServer() as server, sync_playwright() as pw:
        settings.PUBLIC_BASE_URL = server.url  # the signed links point at this server
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        visitor = browser.new_context().new_page()
        visitor.goto(f"{server.url}/demo/chat/")
        widget = visitor.locator("[data-switchboard-chat]")
        widget.get_by_role("button", name="Chat with us").click()
        widget.get_by_placeholder("Your name (optional)").fill("Ada")
        widget.get_by_role("button", name="Save").click()
        expect(widget.get_by_placeholder("Your name (optional)")).to_be_hidden()

        # A program dressed as a picture is refused, in words, and nothing is stored.
        with visitor.expect_file_chooser() as chooser:
            widget.get_by_role("button", name="Attach a file").click()
        chooser.value.set_files({"name": "cat.png", "mimeType": "image/png", "buffer": EXE})
        expect(widget.get_by_role("alert")).to_contain_text("“cat.png” cannot be sent here")
        assert in_thread(Message.objects.count) == 0

        with visitor.expect_file_chooser() as chooser:
            widget.get_by_role("button", name="Attach a file").click()
        chooser.value.set_files(
            {"name": "screenshot.png", "mimeType": "image/png", "buffer": picture}
        )
        expect(widget.get_by_role("alert")).to_be_hidden()
        preview = widget.locator("li.visitor img.preview")
        expect(preview).to_have_attribute("alt", "screenshot.png")
        visitor.wait_for_function(
            "() => document.querySelector('[data-switchboard-chat]').shadowRoot"
            ".querySelector('li.visitor img.preview').naturalWidth === 48"
        )
        message = in_thread(lambda: Message.objects.get(direction="in"))
        assert message.text == ""
        assert in_thread(stored_bytes, message.pk) == ("screenshot.png", picture)

        # The agent's thread lists it like any attachment, and its download is the picture.
        desk = browser.new_context().new_page()
        desk.goto(f"{server.url}/login/?next=/inbox/conversations/{message.conversation_id}/")
        desk.get_by_label("Username").fill(agent.username)
        desk.get_by_label("Password").fill("demo")
        desk.get_by_role("button", name="Log in").click()
        listed = desk.locator("ul.attachments a", has_text="screenshot.png")
        expect(listed).to_be_visible()
        with desk.expect_download() as download:
            listed.click()
        assert Path(download.value.path()).read_bytes() == picture

        # The agent sends a PDF; the widget shows it as a download link with the same bytes.
        in_thread(
            send_reply,
            conversation_id=message.conversation_id,
            actor=agent,
            text="Here is your invoice",
            files=[
                Outgoing("invoice.pdf", "application/pdf", len(PDF), SimpleUploadedFile("i", PDF))
            ],
        )
        link = widget.locator("li.agent a", has_text="invoice.pdf")
        expect(link).to_be_visible()
        expect(widget.locator("li.agent .text")).to_have_text(["Here is your invoice"])
        href = link.get_attribute("href")
        assert href and href.startswith(f"{server.url}/files/")
        fetched = visitor.request.get(href)
        assert fetched.status == 200 and fetched.body() == PDF

        visitor.reload()  # the snapshot carries the files too
        widget.get_by_role("button", name="Chat with us").click()
        expect(widget.locator("li.agent a", has_text="invoice.pdf")).to_be_visible()
        expect(widget.locator("li.visitor img.preview")).to_have_attribute("alt", "screenshot.png")
        ARTIFACTS.mkdir(exist_ok=True)
        visitor.screenshot(path=str(ARTIFACTS / "chat-widget-files.png"))
        browser.close()
