"""In headless Chromium: triage on the conversation page happens in place. A marker set on
`window` survives changing the tag (typed by its name), the severity, the team and agent,
"Assign to me", and Resolve then Undo, so no page was loaded; each change shows in the side panel
and the header at once, and in the list row afterwards. The unread marker of a customer message
is there until the agent opens the conversation. The browser, server and helpers are those of
test_browser.py; screenshots land in tests/artifacts/."""

import pytest

from inbox.models import Conversation
from reports.models import SatisfactionSurvey
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, user = browser.login, browser.user


def shot(page, name):
    """As test_browser.shot, leaving the caret alone: Playwright hides it with an inline style,
    which this page's CSP refuses (and reports) while a text field is in the panel."""
    browser.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(browser.ARTIFACTS / f"{name}.png"), full_page=True, caret="initial")


MARKER = "window.__marker"


def test_triage_changes_show_in_place_without_a_page_load_and_undo_takes_back_a_resolve(
    page, server, support, chromium
):
    from tests.accounts.factories import TeamFactory

    sales = TeamFactory(slug="sales", name="Sales")
    user(AgentFactory, "alice", teams=[support])
    user(AgentFactory, "bob", teams=[support])
    user(AgentFactory, "sam", teams=[sales])
    ChannelFactory(
        slug="partner",
        kind="api",
        secret=browser.SECRET,
        default_team=support,
        config={"csat": {"enabled": True}},
    )
    for key, name, text in [("p1", "Ann", "Printer on fire"), ("p2", "Bea", "Invoice copy")]:
        event = {"id": key, "sender": {"id": key, "name": name}, "text": text, "thread": key}
        assert browser.post_to_partner(server, event).status_code == 202
    conversation = browser.wait_for(
        lambda: Conversation.objects.filter(contact__name="Ann").first()
    )
    assert browser.wait_for(lambda: Conversation.objects.count() == 2)

    login(page, server, "alice")
    conversations = page.get_by_role("region", name="Conversations")
    row = page.locator(f"#row-{conversation.pk}")
    assert row.locator("[data-unread]").count() == 1  # a customer message alice has not opened
    assert "Unread:" in row.inner_text()
    shot(page, "inbox-unread")

    # A second tab keeps the list open: its row follows the triage live, without a reload.
    lists = chromium.new_context(viewport={"width": 1366, "height": 800}).new_page()
    login(lists, server, "alice")
    lists.wait_for_selector("body[data-live=connected]")
    lists.evaluate(f"{MARKER} = 2")

    conversations.get_by_role("link", name="Printer on fire").click()
    page.wait_for_url(f"**/inbox/conversations/{conversation.pk}/")
    page.evaluate(f"{MARKER} = 1")
    meta = page.locator("#conv-meta")

    # Tag, typed by its name.
    page.get_by_role("combobox", name="Add tag").fill("Feature request")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector("#triage .tags .chip:has-text('Feature request')")
    page.wait_for_selector("#flash >> text=Tagged Feature request.")

    # Severity: picking it is enough. Only its own part of the panel is swapped: a reason being
    # typed for the assignment ("Add a reason") stays.
    page.get_by_text("Add a reason").click()
    page.get_by_label("Reason (optional)").fill("VIP customer")
    page.get_by_role("combobox", name="Severity").select_option("high")
    page.wait_for_selector("#conv-meta:has-text('severity high')")
    page.wait_for_selector("#activity-panel:has-text('set severity to high (was normal)')")
    assert page.get_by_label("Reason (optional)").input_value() == "VIP customer"

    # Team and agent: the Agent list holds the chosen team's members only. With a reason open,
    # the choices wait for its Assign button (without one, a choice applies at once).
    page.get_by_role("combobox", name="Team").select_option("sales")
    agent = page.get_by_role("combobox", name="Agent")
    offered = agent.evaluate("(s) => [...s.options].filter((o) => !o.hidden).map((o) => o.value)")
    assert offered == ["", "sam"]
    page.get_by_role("combobox", name="Team").select_option("support")
    agent.select_option("bob")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_selector("#conv-meta:has-text('assignee bob')")
    page.wait_for_selector("#activity-panel:has-text('VIP customer')")
    page.get_by_role("button", name="Assign to me").click()
    page.wait_for_selector("#conv-meta:has-text('assignee alice')")
    assert page.get_by_role("button", name="Assign to me").count() == 0

    # Resolve, then Undo within the window.
    # (Waits are CSS selectors: Playwright's polling role engine trips the page's CSP on inputs.)
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_selector("#undo-form button")
    undo = page.get_by_role("button", name="Undo")
    assert undo.count() == 1 and "Resolved" in meta.inner_text()
    shot(page, "triage-undo")
    undo.click()
    page.wait_for_selector("#resolve-form button")
    page.wait_for_selector("#conv-meta:has-text('Open')")
    assert page.get_by_role("button", name="Undo").count() == 0
    shot(page, "triage-in-place")

    listed = lists.locator(f"#row-{conversation.pk}")
    lists.wait_for_selector(f"#row-{conversation.pk}:has-text('Feature request'):has-text('alice')")
    assert "high" in listed.inner_text() and listed.locator("[data-unread]").count() == 0
    assert lists.evaluate(MARKER) == 2
    lists.context.close()

    # Resolved for good: the Undo leaves after its five seconds.
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_selector("#undo-form button")
    page.wait_for_selector("#undo-form", state="detached", timeout=7000)
    assert page.evaluate(MARKER) == 1  # the same document throughout: nothing reloaded

    conversation.refresh_from_db()
    assert (conversation.status, conversation.severity_name) == ("resolved", "high")
    assert conversation.assignee.username == "alice" and conversation.team == support
    assert list(conversation.tags.values_list("slug", flat=True)) == ["feature-request"]
    assert not SatisfactionSurvey.objects.exists()  # the survey's task runs later, not here

    # Back in the list (any status): the row shows the changes and is read now.
    page.goto(f"{server}/inbox/?status=any")
    row = page.locator(f"#row-{conversation.pk}")
    assert "Feature request" in row.inner_text() and "high" in row.inner_text()
    assert "alice" in row.inner_text()
    assert row.locator("[data-unread]").count() == 0
    other = Conversation.objects.exclude(pk=conversation.pk).get()
    assert page.locator(f"#row-{other.pk} [data-unread]").count() == 1
    shot(page, "inbox-after-triage")
    assert page.problems == [], page.problems


def test_a_triage_change_after_the_session_ended_leads_to_login_and_back(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    conversation = ConversationFactory(
        channel=ChannelFactory(default_team=support), team=support, subject="Late change"
    )
    path = f"/inbox/conversations/{conversation.pk}/"
    login(page, server, "alice", path)
    page.context.clear_cookies(name="sessionid")  # signed out elsewhere, or expired
    page.get_by_role("combobox", name="Severity").select_option("critical")
    page.wait_for_url(f"**/login/?next={path.replace('/', '%2F')}")
    assert page.locator("#triage").count() == 0  # the login page was not put in the panel
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(browser.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}{path}")
    conversation.refresh_from_db()
    assert conversation.severity_name == "normal"  # nothing was changed while signed out
    assert page.problems == [], page.problems


def test_a_refused_triage_change_is_said_in_words(page, server, support):
    user(AgentFactory, "alice", teams=[support])
    conversation = ConversationFactory(
        channel=ChannelFactory(default_team=support), team=support, subject="Refused change"
    )
    login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")
    page.context.clear_cookies(name="csrftoken")
    page.evaluate(
        "document.querySelectorAll('input[name=csrfmiddlewaretoken]').forEach((i) => i.value = 'x')"
    )
    page.get_by_role("combobox", name="Severity").select_option("critical")
    page.wait_for_selector(
        "#flash [role=alert]:has-text('Not saved: the server refused the change (403).')"
    )
    conversation.refresh_from_db()
    assert conversation.severity_name == "normal"
    assert [p for p in page.problems if "403" not in p] == []  # the console notes the 403 itself
