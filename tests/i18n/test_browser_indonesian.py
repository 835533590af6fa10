"""The product in Bahasa Indonesia, end to end in Chromium (issue 23): an agent whose profile says
Indonesian sees the inbox and a conversation with no English left on them (the visible text is
scanned against every English msgid of the catalogue whose Indonesian differs), <html lang="id">;
a visitor whose browser speaks id-ID gets the chat widget in Indonesian."""

import gettext
import re
from pathlib import Path

import pytest

from inbox.models import Message
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.workspace.browser import login, shot, user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "locale" / "id" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sd]|\{\w*\}")
VISIBLE = """() => {
  const seen = [document.body.innerText];
  document.querySelectorAll("input, textarea").forEach((el) => {
    if (el.offsetParent !== null && el.placeholder) seen.push(el.placeholder);
  });
  return seen.join("\\n");
}"""


def english_patterns() -> list[tuple[str, re.Pattern]]:
    """Each English msgid whose Indonesian differs, as a pattern over one line of text: the
    words themselves, with any placeholder standing for some text."""
    patterns = {}
    for domain in ("django", "djangojs"):
        with (MESSAGES / f"{domain}.mo").open("rb") as mo:
            catalog = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
        for key, translated in catalog.items():
            msgid = key[0] if isinstance(key, tuple) else key
            if not msgid or msgid == translated or "<" in msgid:
                continue
            literal = PLACEHOLDER.split(msgid)
            if len(literal) == 1:
                # A lone word ("Send") must be the whole line; a phrase may sit inside one.
                body = re.escape(msgid)
                pattern = rf"(?m)^\s*{body}\s*$" if " " not in msgid.strip() else body
            elif sum(len(re.findall(r"[A-Za-z]{2,}", part)) for part in literal) >= 2:
                pattern = ".+?".join(re.escape(part) for part in literal)
            else:
                continue
            # Whole words only: "Per period" is not left in "Per periode".
            if msgid[:1].isalnum():
                pattern = rf"(?<!\w){pattern}" if not pattern.startswith("(?m)") else pattern
            if msgid[-1:].isalnum():
                pattern = rf"{pattern}(?!\w)"
            patterns[msgid] = re.compile(pattern)
    return sorted(patterns.items())


def english_left(text: str) -> list[str]:
    return [msgid for msgid, pattern in english_patterns() if pattern.search(text)]


def test_the_scan_finds_english_and_passes_indonesian():
    assert english_left("Kotak masuk\nSend\n3 min ago") == ["%(m)s min ago", "Send"]
    assert english_left("Kotak masuk\nKirim\n3 mnt lalu\nAda (otomatis)") == []
    assert english_left("Per periode") == [] and english_left("Per period") == ["Per period"]


def test_inbox_and_conversation_in_indonesian(chromium, server, support):
    agent = user(AgentFactory, "siti", teams=[support])
    agent.language = "id"
    agent.save(update_fields=["language"])
    channel = ChannelFactory(slug="mail", kind="email", default_team=support)
    conversation = ConversationFactory(
        channel=channel,
        team=support,
        assignee=agent,
        contact=ContactFactory(name="Budi Santoso"),
        subject="Pesanan 1042",
    )
    MessageFactory(conversation=conversation, text="Halo, pesanan saya belum sampai.")
    MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUT,
        kind=Message.Kind.NOTE,
        sender_user=agent,
        sender_contact=None,
        text="Cek ke gudang.",
    )
    context = chromium.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(5000)
    try:
        # The login page follows the browser (English); once signed in, the profile wins.
        login(page, server, "siti")
        assert page.evaluate("document.documentElement.lang") == "id"
        page.wait_for_selector("#rows tr.row")
        page.wait_for_selector("#sidebar:not([aria-busy])")
        inbox = page.evaluate(VISIBLE)
        assert "Kotak masuk" in inbox
        assert english_left(inbox) == []
        shot(page, "inbox-id")

        page.goto(f"{server}/inbox/conversations/{conversation.pk}/")
        page.wait_for_selector("#thread")
        assert page.evaluate("document.documentElement.lang") == "id"
        assert page.evaluate("typeof gettext") == "function"  # /jsi18n/ loaded first
        opened = page.evaluate(VISIBLE)
        assert "Catatan pribadi" in opened and "Selesaikan" in opened
        assert english_left(opened) == []
        # Numbers as Indonesian writes them: the reply box's counter groups with a dot.
        page.locator("textarea[data-draft]").first.fill("Halo Budi")
        page.wait_for_selector("[data-counter-for]:has-text('50.000')")
        shot(page, "conversation-id")
    finally:
        context.close()


def widget_english() -> list[str]:
    source = (ROOT / "static" / "chat" / "widget.js").read_text()
    english = source.split("en: {", 1)[1].split("id: {", 1)[0]
    indonesian = source.split("id: {", 1)[1].split("\n    }", 1)[0]
    words = dict(re.findall(r'(\w+): "([^"]+)"', english))
    theirs = dict(re.findall(r'(\w+): "([^"]+)"', indonesian))
    return [text.split("{")[0].strip() for key, text in words.items() if theirs[key] != text]


def test_the_chat_widget_speaks_the_visitors_indonesian(chromium, server, support):
    ChannelFactory(kind="chat", slug="chat", default_team=support)
    context = chromium.new_context(locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(5000)
    try:
        page.goto(f"{server}/demo/chat/")
        widget = page.locator("[data-switchboard-chat]")
        widget.get_by_role("button", name="Chat dengan kami").click()
        page.wait_for_function(
            "() => document.querySelector('[data-switchboard-chat]')"
            ".shadowRoot.querySelector('.status').textContent.length > 0"
        )
        text = widget.evaluate(
            """host => [...host.shadowRoot.querySelectorAll("button, .panel")]
                .map((el) => el.innerText)
                .concat([...host.shadowRoot.querySelectorAll("input, textarea")]
                    .map((el) => el.placeholder)).join("\\n")"""
        )
        assert widget.evaluate("host => host.lang") == "id"
        assert "Kirim" in text and "Tulis pesan…" in text
        assert "Kami sedang online" in text or "tidak ada yang online" in text
        left = [english for english in widget_english() if english and english in text]
        assert left == []
    finally:
        context.close()


def test_the_chat_widget_speaks_the_channels_language_to_a_browser_with_none_of_ours(
    chromium,
    server,
    support,
):
    ChannelFactory(kind="chat", slug="chat", default_team=support, config={"language": "id"})
    context = chromium.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(5000)
    try:
        page.goto(f"{server}/demo/chat/")
        widget = page.locator("[data-switchboard-chat]")
        page.wait_for_function(
            "() => document.querySelector('[data-switchboard-chat]')?.lang === 'id'"
        )
        widget.get_by_role("button", name="Chat dengan kami").click()
        assert widget.get_by_placeholder("Tulis pesan…").is_visible()
        assert widget.get_by_role("button", name="Kirim").is_visible()
    finally:
        context.close()
