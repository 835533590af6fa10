import pytest
from django.db import IntegrityError, transaction

from inbox.models import ContactIdentity, Message
from tagging.models import ConversationTag
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.tagging.factories import TagFactory

pytestmark = pytest.mark.django_db


def test_duplicate_external_id_in_one_channel_is_refused_by_the_database():
    first = MessageFactory(external_id="<same@example.com>")
    with pytest.raises(IntegrityError), transaction.atomic():
        # bulk_create skips every Python-side check: only the database can refuse this.
        Message.objects.bulk_create(
            [
                Message(
                    conversation=first.conversation,
                    channel=first.channel,
                    direction="in",
                    external_id="<same@example.com>",
                    created_at=first.created_at,
                )
            ]
        )


def test_same_external_id_on_another_channel_is_allowed():
    first = MessageFactory(external_id="<same@example.com>")
    other = MessageFactory(
        external_id="<same@example.com>", conversation=ConversationFactory(channel=ChannelFactory())
    )
    assert first.channel_id != other.channel_id


def test_messages_without_external_id_do_not_collide():
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, external_id=None, direction="out")
    MessageFactory(conversation=conversation, external_id=None, direction="out")
    assert conversation.messages.count() == 2


def test_one_handle_belongs_to_one_contact():
    ContactIdentity.objects.create(contact=ContactFactory(), kind="telegram", external_id="42")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactIdentity.objects.create(contact=ContactFactory(), kind="telegram", external_id="42")


def test_a_tag_is_on_a_conversation_once():
    conversation, tag = ConversationFactory(), TagFactory()
    ConversationTag.objects.create(conversation=conversation, tag=tag)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConversationTag.objects.create(conversation=conversation, tag=tag)


def test_tag_names_are_unique_ignoring_case():
    TagFactory(slug="billing", name="Billing")
    with pytest.raises(IntegrityError), transaction.atomic():
        TagFactory(slug="billing-2", name="BILLING")


def test_default_tags_exist_after_migrating():
    from tagging.models import Tag

    assert set(Tag.objects.filter(is_default=True).values_list("slug", flat=True)) == {
        "sales-lead",
        "feature-request",
        "incident",
        "technical-issue",
        "ugc",
    }


def test_default_sla_policies_exist_for_every_severity():
    from inbox.models import Severity
    from routing.models import SLAPolicy

    assert set(SLAPolicy.objects.values_list("severity", flat=True)) == {s.value for s in Severity}


def test_reply_tokens_are_unique_and_unguessable():
    tokens = {ConversationFactory().reply_token for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) == 32 and int(t, 16) >= 0 for t in tokens)
