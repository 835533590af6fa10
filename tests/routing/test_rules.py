"""Classification (tags, severity) and routing rules on arrival, through receive_message."""

import datetime as dt

import pytest
from django.utils import timezone

from inbox.intake.receive import receive_message
from inbox.models import Severity
from inbox.normalized import NormalizedMessage, SenderRef
from routing.models import BusinessHours, RoutingRule, TeamPolicy
from routing.rules import dry_run_rule
from tagging.models import ClassificationRule, TagSuggestion
from tests.accounts.factories import TeamFactory
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def arrive(channel, text, *, subject="", sender="ann@example.com", at=None, n=[0]):  # noqa: B006
    n[0] += 1
    return receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind=channel.kind,
            external_id=f"m{n[0]}",
            thread_key=None,
            sender=SenderRef(kind="email", id=sender, email=sender, verified=True),
            text=text,
            html=None,
            attachments=(),
            sent_at=at or timezone.now(),
            subject=subject,
        ),
    ).conversation


@pytest.mark.parametrize(
    ("subject", "text", "tags", "severity"),
    [
        ("Pricing for 50 seats", "Could you send a quote?", {"sales-lead"}, "normal"),
        (
            "Idea",
            "It would be great to export reports to PDF. Please add it!",
            {"feature-request"},
            "normal",
        ),
        (
            "Login down",
            "The login page is down for our whole team, nobody can sign in.",
            {"incident"},
            "high",
        ),
        (
            "Upload",
            "I get an error and the app crashes when I upload.",
            {"technical-issue"},
            "normal",
        ),
        ("Look!", "I posted a photo of your product on my feed and tagged you", {"ugc"}, "normal"),
        ("Hello", "Just saying thanks for the help yesterday.", set(), "normal"),
    ],
)
def test_default_classification_rules(subject, text, tags, severity):
    conversation = arrive(ChannelFactory(), text, subject=subject)
    assert {t.slug for t in conversation.tags.all()} == tags
    conversation.refresh_from_db()
    assert Severity(conversation.severity).label == severity


def test_keywords_match_whole_words_only():
    conversation = arrive(
        ChannelFactory(), "The error-free run was a surprise: everything fine, no terror."
    )
    assert "technical-issue" in {t.slug for t in conversation.tags.all()}  # "error" as a word
    other = arrive(ChannelFactory(), "Terrorists of the keyboard, unite")
    assert not other.tags.exists()


def test_suggest_mode_proposes_without_applying():
    rule = ClassificationRule.objects.create(
        name="Billing", mode="suggest", keywords=["invoice"], position=1
    )
    from tagging.models import Tag

    billing = Tag.objects.create(slug="billing", name="Billing")
    rule.tags.set([billing])
    conversation = arrive(ChannelFactory(), "Where is my invoice?")
    assert not conversation.tags.filter(slug="billing").exists()
    assert TagSuggestion.objects.filter(conversation=conversation, tag=billing).exists()


def test_sender_domain_and_regex_conditions():
    from tagging.models import Tag

    vip = Tag.objects.create(slug="vip", name="VIP")
    rule = ClassificationRule.objects.create(
        name="VIP", sender_domains=["bigcorp.com"], regex=r"order\s+#\d+", severity=4
    )
    rule.tags.set([vip])
    hit = arrive(ChannelFactory(), "About order #1234", sender="ceo@bigcorp.com")
    miss_domain = arrive(ChannelFactory(), "About order #1234", sender="someone@else.com")
    miss_regex = arrive(ChannelFactory(), "About my order", sender="cfo@bigcorp.com")
    hit.refresh_from_db()
    assert hit.tags.filter(slug="vip").exists() and hit.severity == 4
    assert not miss_domain.tags.filter(slug="vip").exists()
    assert not miss_regex.tags.filter(slug="vip").exists()


def test_routing_rules_assign_team_on_arrival_and_on_tag_change():
    sales = TeamFactory(slug="sales")
    support = TeamFactory(slug="support")
    RoutingRule.objects.create(
        name="Leads to sales",
        conditions={"tags_any": ["sales-lead"]},
        actions={"assign_team": "sales"},
        position=1,
    )
    channel = ChannelFactory(default_team=support)
    lead = arrive(channel, "What is your pricing?")
    lead.refresh_from_db()
    assert lead.team == sales
    assert lead.activities.filter(verb="assigned", reason="routing rule: Leads to sales").exists()

    plain = arrive(channel, "Hello there")
    plain.refresh_from_db()
    assert plain.team == support
    from tagging.services import apply_tags, tags_for_slugs

    apply_tags(conversation_id=plain.pk, tags=tags_for_slugs(["sales-lead"]), actor=None)
    plain.refresh_from_db()
    assert plain.team == sales


def test_rules_run_in_order_and_stop(db):
    RoutingRule.objects.create(
        name="First",
        position=1,
        conditions={"keywords": ["refund"]},
        actions={"set_severity": "high", "add_tags": ["incident"]},
        stop_processing=True,
    )
    RoutingRule.objects.create(
        name="Second",
        position=2,
        conditions={"keywords": ["refund"]},
        actions={"set_severity": "critical"},
    )
    conversation = arrive(ChannelFactory(), "I want a refund")
    conversation.refresh_from_db()
    assert Severity(conversation.severity).label == "high"
    assert conversation.tags.filter(slug="incident").exists()


def test_arrivals_outside_business_hours_are_overnight():
    team = TeamFactory(slug="support")
    hours = BusinessHours.objects.create(
        name="Berlin",
        timezone="Europe/Berlin",
        weekly={d: [["09:00", "17:00"]] for d in BusinessHours.DAYS[:5]},
    )
    TeamPolicy.objects.create(team=team, business_hours=hours)
    channel = ChannelFactory(default_team=team)
    # Tuesday 2025-11-18: 03:00 UTC is 04:00 in Berlin (closed); 10:00 UTC is 11:00 (open).
    night = arrive(channel, "hi", at=dt.datetime(2025, 11, 18, 3, 0, tzinfo=dt.UTC))
    day = arrive(channel, "hi", at=dt.datetime(2025, 11, 18, 10, 0, tzinfo=dt.UTC))
    saturday = arrive(channel, "hi", at=dt.datetime(2025, 11, 22, 10, 0, tzinfo=dt.UTC))
    assert [c.arrived_outside_hours for c in (night, day, saturday)] == [True, False, True]


def test_dry_run_reports_matches_and_changes_nothing():
    support = TeamFactory(slug="support")
    TeamFactory(slug="sales")
    channel = ChannelFactory(default_team=support)
    match = arrive(channel, "Need a refund please")
    arrive(channel, "All good")
    rule = RoutingRule.objects.create(
        name="Refunds",
        is_active=False,
        conditions={"keywords": ["refund"]},
        actions={"assign_team": "sales"},
    )
    assert dry_run_rule(rule=rule) == [match.pk]
    match.refresh_from_db()
    assert match.team == support


def test_dry_run_api_is_for_admins(client_for, admin_user, agent):
    rule = RoutingRule.objects.create(name="Any", conditions={}, actions={"set_severity": "low"})
    assert (
        client_for(admin_user).post(f"/api/v1/routing-rules/{rule.pk}/dry-run/").status_code == 200
    )
    assert client_for(agent).post(f"/api/v1/routing-rules/{rule.pk}/dry-run/").status_code == 403
    assert client_for(admin_user).post("/api/v1/routing-rules/999/dry-run/").status_code == 404
