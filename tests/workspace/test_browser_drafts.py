"""Nothing typed is lost, in headless Chromium against the real ASGI app (fixtures from
test_browser.py): a draft survives a deleted session cookie and the login that follows, the page
says when it is signed out, Back after sending offers nothing, over-long text is refused before
sending. Screenshots land in tests/artifacts/."""

import pytest

from inbox.models import Channel, Draft, Message
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.workspace.browser import PASSWORD, login, shot, user, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def real_problems(page) -> list[str]:
    # The 401 a save meets once signed out is expected: Chromium logs every failed fetch.
    return [p for p in page.problems if "401" not in p]


def draft_text(agent, conversation) -> str | None:
    draft = Draft.objects.filter(user=agent, conversation=conversation, kind="message").first()
    return draft.text if draft else None


def test_a_draft_survives_a_deleted_session_cookie_and_the_login_after_it(page, server, support):
    alice = user(AgentFactory, "alice", teams=[support])
    c = ConversationFactory(
        team=support, channel=ChannelFactory(default_team=support), subject="Refund"
    )
    path = f"/inbox/conversations/{c.pk}/"
    login(page, server, "alice", path)
    reply = page.get_by_role("textbox", name="Reply")
    reply.fill("Hello Ann, the refund")
    page.wait_for_selector("#reply-text-count:has-text('draft saved')")
    assert wait_for(lambda: draft_text(alice, c) == "Hello Ann, the refund")

    page.context.clear_cookies(name="sessionid")  # the session expired
    reply.press_sequentially(" left today.")
    banner = page.get_by_role("alert").filter(has_text="signed out")
    banner.wait_for()
    link = banner.get_by_role("link", name="Log in again")
    assert link.get_attribute("href") == f"/login/?next={path.replace('/', '%2F')}"
    shot(page, "draft-signed-out")
    assert draft_text(alice, c) == "Hello Ann, the refund"  # the server never got the rest

    page.reload()  # no session: the login page, with the way back
    page.wait_for_url(lambda url: "/login/?next=" in url)
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}{path}")
    reply = page.get_by_role("textbox", name="Reply")
    assert reply.input_value() == "Hello Ann, the refund left today."
    assert wait_for(lambda: draft_text(alice, c) == "Hello Ann, the refund left today.")
    shot(page, "draft-restored")

    page.get_by_role("button", name="Send").first.click()
    page.wait_for_selector("#flash:has-text('Reply queued')")
    assert page.get_by_role("textbox", name="Reply").input_value() == ""
    assert Message.objects.get(conversation=c, direction="out").text.endswith("left today.")
    assert draft_text(alice, c) is None
    page.go_back()
    page.wait_for_load_state()
    assert page.get_by_role("textbox", name="Reply").input_value() == ""
    page.reload()
    assert page.get_by_role("textbox", name="Reply").input_value() == ""
    assert real_problems(page) == []


def test_logging_out_in_another_tab_shows_the_signed_out_state(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    c = ConversationFactory(team=support, channel=ChannelFactory(default_team=support))
    path = f"/inbox/conversations/{c.pk}/"
    login(page, server, "alice", path)
    other = page.context.new_page()
    other.goto(f"{server}/inbox/")
    other.locator(".account-menu > summary").click()  # Log out is under the account's menu
    other.get_by_role("button", name="Log out").click()
    other.wait_for_url("**/login/")
    banner = page.get_by_role("alert").filter(has_text="signed out")
    banner.wait_for()
    assert "next=" in banner.get_by_role("link", name="Log in again").get_attribute("href")
    other.close()


def test_over_long_text_is_refused_before_sending_with_the_limit_shown(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    telegram = ChannelFactory(
        kind=Channel.Kind.TELEGRAM, default_team=support, config={"bot_token": "t"}
    )
    c = ConversationFactory(team=support, channel=telegram)
    login(page, server, "alice", f"/inbox/conversations/{c.pk}/")
    reply = page.get_by_role("textbox", name="Reply")
    reply.fill("z" * 4100)
    counter = page.locator("#reply-text-count")
    assert "the limit is 4,096" in counter.inner_text()
    assert "Shorten it by 4" in counter.inner_text()
    page.get_by_role("button", name="Send").first.click()
    page.wait_for_timeout(300)
    assert not Message.objects.filter(conversation=c, direction="out").exists()
    assert reply.input_value() == "z" * 4100  # nothing cut
    shot(page, "reply-too-long")


def test_the_login_lockout_is_a_page_in_words(page, server, settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "login_failures": "2/h"}
    page.goto(f"{server}/login/?next=/inbox/")
    for n in range(3):
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(f"wrong-{n}")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
    page.get_by_role("heading", name="Too many login attempts").wait_for()
    assert "Try again in" in page.get_by_role("alert").inner_text()
    page.get_by_role("link", name="Back to the login page").wait_for()
    shot(page, "login-lockout")
    cache.clear()
