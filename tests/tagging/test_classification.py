"""Classification rules on arrival: tags applied or suggested, severity raised, from what a
message says, who sent it and on which channel."""

import factory
import pytest
from django.utils import timezone

from inbox.intake.receive import receive_message
from inbox.models import Channel, Severity
from inbox.normalized import NormalizedMessage, SenderRef
from tagging.models import ClassificationRule, TagSuggestion
from tagging.services import SCAN_CHARS, rule_matches
from tests.inbox.factories import ChannelFactory
from tests.tagging.factories import TagFactory

pytestmark = pytest.mark.django_db


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassificationRule
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Rule {n}")
    position = 1

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if extracted:
            self.tags.set(extracted)


_sequence = iter(range(1, 1_000_000))


def arrive(channel, text, *, subject="", sender="ann@example.com", auto_kind="", thread=None):
    return receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind=channel.kind,
            external_id=f"cls-{next(_sequence)}",
            thread_key=thread,
            sender=SenderRef(kind="email", id=sender, email=sender, verified=True),
            text=text,
            html=None,
            attachments=(),
            sent_at=timezone.now(),
            subject=subject,
            auto_kind=auto_kind,
        ),
    ).conversation


def slugs(conversation) -> set[str]:
    return set(conversation.tags.values_list("slug", flat=True))


@pytest.fixture
def billing():
    return TagFactory(slug="billing", name="Billing")


@pytest.fixture
def channel():
    return ChannelFactory()


def test_a_matching_rule_tags_a_new_conversation_and_says_so(channel, billing):
    RuleFactory(keywords=["invoice"], tags=[billing])
    conversation = arrive(channel, "Where is my invoice?")
    assert slugs(conversation) == {"billing"}
    [(actor, tag, reason)] = conversation.activities.filter(verb="tagged").values_list(
        "actor", "to_value", "reason"
    )
    assert (actor, tag, reason) == (None, "billing", "classification rule")


def test_the_subject_counts_as_much_as_the_text(channel, billing):
    RuleFactory(keywords=["invoice"], tags=[billing])
    assert slugs(arrive(channel, "see above", subject="Invoice 2024-17")) == {"billing"}


def test_a_message_that_matches_nothing_is_left_alone(channel, billing):
    RuleFactory(keywords=["invoice"], tags=[billing])
    conversation = arrive(channel, "Thanks for the help yesterday.")
    assert slugs(conversation) == set()
    assert conversation.severity == Severity.NORMAL


def test_a_suggest_rule_proposes_the_tag_without_applying_it(channel, billing):
    RuleFactory(keywords=["invoice"], tags=[billing], mode=ClassificationRule.Mode.SUGGEST)
    conversation = arrive(channel, "Where is my invoice?")
    assert slugs(conversation) == set()
    assert list(
        TagSuggestion.objects.filter(conversation=conversation).values_list("tag__slug", flat=True)
    ) == ["billing"]


def test_a_tag_already_on_the_conversation_is_not_suggested_again(channel, billing):
    RuleFactory(keywords=["invoice"], tags=[billing], mode=ClassificationRule.Mode.SUGGEST)
    RuleFactory(keywords=["refund"], tags=[billing])
    first = arrive(channel, "I want a refund", thread="t-1")
    again = arrive(channel, "and the invoice, please", thread="t-1")
    assert again.pk == first.pk
    assert slugs(again) == {"billing"}
    assert not TagSuggestion.objects.filter(conversation=again).exists()


def test_the_most_severe_matching_rule_sets_the_severity(channel, billing):
    # The critical rule comes first: a later, milder match must not take its place.
    RuleFactory(keywords=["lawyer"], severity=Severity.CRITICAL, position=1)
    RuleFactory(keywords=["invoice"], tags=[billing], severity=Severity.HIGH, position=2)
    conversation = arrive(channel, "My lawyer asks about the invoice")
    conversation.refresh_from_db()
    assert conversation.severity == Severity.CRITICAL
    assert slugs(conversation) == {"billing"}
    assert conversation.activities.filter(
        verb="severity", from_value="normal", to_value="critical"
    ).exists()


def test_a_rule_never_lowers_the_severity(channel):
    RuleFactory(keywords=["newsletter"], severity=Severity.LOW)
    conversation = arrive(channel, "Please stop the newsletter")
    conversation.refresh_from_db()
    assert conversation.severity == Severity.NORMAL


def test_auto_replies_are_not_classified(channel, billing):
    RuleFactory(keywords=["invoice"], tags=[billing], severity=Severity.HIGH)
    conversation = arrive(
        channel, "I am away; about your invoice, see Monday.", auto_kind="auto_reply"
    )
    conversation.refresh_from_db()
    assert slugs(conversation) == set()
    assert conversation.severity == Severity.NORMAL


def test_an_inactive_rule_does_nothing(channel, billing):
    RuleFactory(keywords=["invoice"], tags=[billing], is_active=False)
    assert slugs(arrive(channel, "Where is my invoice?")) == set()


def test_a_broken_regex_matches_nothing_and_the_message_still_arrives(channel, billing):
    RuleFactory(regex="order (#", tags=[billing])
    conversation = arrive(channel, "order (# 12")
    assert conversation.messages.count() == 1
    assert slugs(conversation) == set()


# --- rule_matches: the conditions of one rule -------------------------------------------------


def matches(rule, text="", *, subject="", sender="ann@example.com", kind="email"):
    return rule_matches(rule, subject=subject, text=text, sender_email=sender, channel_kind=kind)


def test_keywords_match_whole_words_and_phrases_ignoring_case():
    rule = ClassificationRule(keywords=["invoice", "late fee"])
    assert matches(rule, "INVOICE attached")
    assert matches(rule, "a Late fee")
    assert not matches(rule, "the invoiced amount")
    assert not matches(rule, "we reinvoice monthly")
    assert not matches(rule, "late, fee")


def test_only_the_start_of_a_long_message_is_read():
    rule = ClassificationRule(keywords=["invoice"])
    assert matches(rule, "x" * (SCAN_CHARS - 10) + " invoice")
    assert not matches(rule, "x" * SCAN_CHARS + " invoice")


def test_every_condition_given_must_hold():
    rule = ClassificationRule(
        keywords=["invoice"], sender_domains=["@BigCorp.com"], channel_kinds=["email"]
    )
    assert matches(rule, "invoice", sender="cfo@bigcorp.com")
    assert not matches(rule, "invoice", sender="cfo@smallcorp.com")
    assert not matches(rule, "hello", sender="cfo@bigcorp.com")
    assert not matches(rule, "invoice", sender="cfo@bigcorp.com", kind=Channel.Kind.TELEGRAM)


def test_a_sender_or_channel_condition_alone_is_enough():
    assert matches(ClassificationRule(sender_domains=["bigcorp.com"]), sender="a@bigcorp.com")
    assert matches(ClassificationRule(channel_kinds=["telegram"]), kind="telegram")
    assert not matches(ClassificationRule(channel_kinds=["telegram"]), kind="email")


def test_a_rule_without_conditions_matches_nothing():
    assert not matches(ClassificationRule(), "anything at all")
    assert not matches(ClassificationRule(keywords=["  "]), "anything at all")


def test_a_regex_reads_subject_and_text_ignoring_case():
    rule = ClassificationRule(regex=r"order\s+#\d+")
    assert matches(rule, "", subject="ORDER #12 late")
    assert not matches(rule, "my order")
