"""Settings > Rules: the routing rule builder (preview before saving, field-named errors), the
classification rule builder, move up/down, enable/disable, delete; admins only. The same
routing.rule_settings and tagging.rule_settings functions as the API."""

import pytest
from django.test import Client

from inbox.models import CannedResponse
from routing.models import RoutingRule
from tagging.models import ClassificationRule
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.tagging.factories import TagFactory

pytestmark = pytest.mark.django_db

PAGE = "/inbox/settings/rules/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def billing(db):
    return TagFactory(slug="billing", name="Billing")


def draft(**extra) -> dict:
    return {
        "name": "Refunds",
        "keywords": "refund, money back",
        "channels": ["mail"],
        "add_tags": ["billing"],
        "assign_team": "support",
        "is_active": "1",
        **extra,
    }


def test_only_admins_see_the_rules_page(agent, lead, admin_user):
    assert logged_in(agent).get(PAGE).status_code == 403
    assert logged_in(lead).get(PAGE).status_code == 403
    page = logged_in(admin_user).get(PAGE)
    assert page.status_code == 200
    assert 'href="/inbox/settings/rules/" aria-current="page"' in page.content.decode()
    assert logged_in(agent).post(PAGE, draft()).status_code == 403


def test_an_admin_previews_then_saves_a_routing_rule(admin_user, team, billing):
    mail = ChannelFactory(slug="mail", name="Mail", default_team=team)
    hit = ConversationFactory(channel=mail, subject="Where is my refund")
    MessageFactory(conversation=hit, direction="in", text="hello")
    ConversationFactory(channel=mail, subject="Other things")
    canned = CannedResponse.objects.create(title="Refund policy", text="5 days")
    client = logged_in(admin_user)
    preview = client.post(PAGE, {**draft(send_canned=str(canned.pk)), "preview": "1"})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "would have matched 1" in body and "Where is my refund" in body
    assert "Other things" not in body
    assert not RoutingRule.objects.exists()
    saved = client.post(PAGE, draft(send_canned=str(canned.pk), hours="outside"))
    assert saved.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.conditions == {
        "channels": ["mail"],
        "keywords": ["refund", "money back"],
        "outside_business_hours": True,
    }
    assert rule.actions == {
        "add_tags": ["billing"],
        "assign_team": "support",
        "send_canned": canned.pk,
    }
    listed = client.get(PAGE).content.decode()
    assert "Assign to team: Support" in listed and "Send canned reply: Refund policy" in listed
    edit = client.get(f"{PAGE}{rule.pk}/").content.decode()
    assert 'value="refund, money back"' in edit


def test_errors_name_the_field(admin_user, team, billing):
    response = logged_in(admin_user).post(
        PAGE, {"name": "", "keywords": "", "sender_domains": "not a domain"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Name: A name of 1 to 120 characters." in body
    assert "Sender domain: Not a domain: not a domain." in body
    assert "Actions: Give it at least one action." in body
    assert not RoutingRule.objects.exists()


def test_move_enable_disable_and_delete(admin_user):
    first, second, third = (
        RoutingRule.objects.create(
            name=n, position=p, conditions={"keywords": [n]}, actions={"set_status": "pending"}
        )
        for n, p in (("a", 1), ("b", 1), ("c", 5))
    )
    client = logged_in(admin_user)
    assert client.post(f"{PAGE}routing/{third.pk}/change/", {"op": "up"}).status_code == 302
    names = list(RoutingRule.objects.order_by("position", "id").values_list("name", flat=True))
    assert names == ["a", "c", "b"]
    client.post(f"{PAGE}routing/{first.pk}/change/", {"op": "down"})
    names = list(RoutingRule.objects.order_by("position", "id").values_list("name", flat=True))
    assert names == ["c", "a", "b"]
    client.post(f"{PAGE}routing/{second.pk}/change/", {"op": "disable"})
    assert not RoutingRule.objects.get(pk=second.pk).is_active
    client.post(f"{PAGE}routing/{second.pk}/change/", {"op": "enable"})
    assert RoutingRule.objects.get(pk=second.pk).is_active
    client.post(f"{PAGE}routing/{second.pk}/change/", {"op": "delete"})
    assert not RoutingRule.objects.filter(pk=second.pk).exists()
    assert client.post(f"{PAGE}bogus/{first.pk}/change/", {"op": "up"}).status_code == 404


def test_an_admin_builds_a_classification_rule(admin_user, billing):
    client = logged_in(admin_user)
    assert client.get(f"{PAGE}classification/").status_code == 200
    bad = client.post(f"{PAGE}classification/", {"name": "Inv", "regex": "(", "tags": ["billing"]})
    assert bad.status_code == 400
    assert "Regular expression: Not a valid regular expression" in bad.content.decode()
    saved = client.post(
        f"{PAGE}classification/",
        {
            "name": "Invoices",
            "mode": "suggest",
            "keywords": "invoice, receipt",
            "channel_kinds": ["email"],
            "tags": ["billing"],
            "severity": "high",
            "is_active": "1",
        },
    )
    assert saved.status_code == 302
    rule = ClassificationRule.objects.get(name="Invoices")
    assert (rule.mode, rule.keywords, rule.channel_kinds, rule.severity) == (
        "suggest",
        ["invoice", "receipt"],
        ["email"],
        3,
    )
    assert [t.slug for t in rule.tags.all()] == ["billing"]
    client.post(f"{PAGE}classification/{rule.pk}/change/", {"op": "disable"})
    assert not ClassificationRule.objects.get(pk=rule.pk).is_active
    assert "Invoices" in client.get(f"{PAGE}classification/{rule.pk}/").content.decode()
