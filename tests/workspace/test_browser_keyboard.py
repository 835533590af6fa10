"""In headless Chromium: the inbox by keyboard. j / j / k move a visible selection through the
list, Enter opens the selected conversation, j there opens the next one of the list, r puts the
caret in "Reply", and ? opens the "Keyboard shortcuts" dialog listing them all; typing a letter in
a field types it and triggers nothing. The browser, server and helpers are those of
test_browser.py; screenshots land in tests/artifacts/."""

import pytest

from inbox.models import Conversation
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def selected(page) -> str | None:
    return page.evaluate(
        "(() => { const r = document.querySelector('#rows tr.row.selected');"
        " return r && r.getAttribute('data-href'); })()"
    )


def focused_outline(page) -> str:
    return page.evaluate("getComputedStyle(document.activeElement).outlineStyle")


def test_j_k_enter_r_and_question_mark_drive_the_inbox(page, server, support):
    browser.user(AgentFactory, "alice", teams=[support])
    ChannelFactory(
        slug="partner",
        kind="api",
        secret=browser.SECRET,
        default_team=support,
        config={"callback_url": "http://127.0.0.1:9/replies"},  # replies allowed; none is sent
    )
    for key, name, text in [
        ("p1", "Ann", "Printer"),
        ("p2", "Bea", "Invoice"),
        ("p3", "Cy", "Fax"),
    ]:
        event = {"id": key, "sender": {"id": key, "name": name}, "text": text, "thread": key}
        assert browser.post_to_partner(server, event).status_code == 202
    assert browser.wait_for(lambda: Conversation.objects.count() == 3)

    browser.login(page, server, "alice")
    hrefs = page.eval_on_selector_all("#rows tr.row", "rs => rs.map(r => r.dataset.href)")
    assert len(hrefs) == 3
    page.locator("body").click(position={"x": 5, "y": 5})  # the page, not a field, has focus

    page.keyboard.press("j")
    assert selected(page) == hrefs[0]
    page.keyboard.press("j")
    assert selected(page) == hrefs[1]
    page.keyboard.press("k")
    assert selected(page) == hrefs[0]
    # The selection is where the focus is, and the focus is drawn.
    assert page.evaluate("document.activeElement.closest('tr.row').dataset.href") == hrefs[0]
    assert focused_outline(page) == "solid"
    browser.shot(page, "keyboard-list")

    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}{hrefs[0]}")
    # From an open conversation, j opens the next conversation of the list it came from.
    page.keyboard.press("j")
    page.wait_for_url(f"{server}{hrefs[1]}")
    page.keyboard.press("k")
    page.wait_for_url(f"{server}{hrefs[0]}")

    page.keyboard.press("r")
    reply = page.get_by_role("textbox", name="Reply")
    assert reply.evaluate("el => el === document.activeElement")
    page.keyboard.type("jk? typed, not shortcuts")
    assert reply.input_value() == "jk? typed, not shortcuts"
    assert page.url == f"{server}{hrefs[0]}"
    assert not page.get_by_role("dialog", name="Keyboard shortcuts").is_visible()

    page.locator("#conv-title").click()  # leave the field
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    assert dialog.is_visible()
    listed = dialog.inner_text()
    for key in ["j / k", "Enter", "r", "n", "t", "a", "i", "s", "z", "e", "/", "?"]:
        assert f"\n{key}" in f"\n{listed}", key
    browser.shot(page, "keyboard-shortcuts")
    assert page.problems == []
