"""In headless Chromium: an admin builds a routing rule on Settings > Rules (a keyword condition;
assign to a team and add a tag), previews it against recent conversations, saves it, and a
matching message arriving through the signed API webhook is routed to that team with that tag.
The browser, server and helpers are those of test_browser.py."""

import pytest

from inbox.models import Conversation
from routing.models import RoutingRule
from tagging.models import Tag
from tests.accounts.factories import AdminFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory
from tests.workspace import browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
login, user = browser.login, browser.user


def test_an_admin_builds_previews_and_saves_a_rule_that_routes_a_webhook_message(
    page, server, support
):
    user(AdminFactory, "admin")
    sales = TeamFactory(slug="billing-team", name="Billing desk")
    Tag.objects.get_or_create(slug="billing", defaults={"name": "Billing"})
    channel = ChannelFactory(
        slug="partner", kind="api", secret=browser.SECRET, default_team=support
    )
    earlier = ConversationFactory(channel=channel, team=support, subject="Invoice 42 is wrong")
    ConversationFactory(channel=channel, team=support, subject="Password reset")

    login(page, server, "admin", "/inbox/settings/rules/")
    page.get_by_label("Name").fill("Invoices to the billing desk")
    page.get_by_label("Mentions any of these keywords").fill("invoice, receipt")
    page.get_by_role("group", name="Add tags").get_by_label("Billing").check()
    page.get_by_label("Assign to team").select_option("billing-team")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#rule-preview")
    preview.wait_for()
    assert "would have matched 1" in preview.inner_text()
    assert f"#{earlier.pk} Invoice 42 is wrong" in preview.inner_text()
    assert "Password reset" not in preview.inner_text()
    assert not RoutingRule.objects.exists()  # a preview saves nothing
    browser.shot(page, "settings-rules-preview")

    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Routing rule “Invoices to the billing desk” saved.")
    rule = RoutingRule.objects.get()
    assert (rule.conditions, rule.actions) == (
        {"keywords": ["invoice", "receipt"]},
        {"add_tags": ["billing"], "assign_team": "billing-team"},
    )
    page.wait_for_selector("table.rules td:has-text('Assign to team: Billing desk')")
    browser.shot(page, "settings-rules")

    response = browser.post_to_partner(
        server,
        {
            "id": "evt-rule-1",
            "sender": {"id": "u-9", "name": "Initech Accounts"},
            "text": "Our last invoice charged us twice.",
            "thread": "t-rule",
        },
    )
    assert response.status_code == 202

    def routed():
        found = Conversation.objects.filter(contact__name="Initech Accounts").first()
        return found if found is not None and found.team_id == sales.pk else None

    conversation = browser.wait_for(routed, timeout=8)
    assert conversation is not None, "the message was not routed to the billing desk"
    assert [t.slug for t in conversation.tags.all()] == ["billing"]
    assert page.problems == []
