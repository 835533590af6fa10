"""The deployment's suggester learns from the tags agents gave (issue 24)."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inbox.models import Message
from tagging import learning
from tagging.services import apply_tags
from tests.inbox.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.tagging.factories import TagFactory
from tests.tagging.test_suggester import TRAINING


def tagged_conversation(*, text: str, slug: str, actor, channel):
    conversation = ConversationFactory(channel=channel)
    first = timezone.now() - timedelta(hours=1)
    MessageFactory(conversation=conversation, text=text, created_at=first)
    MessageFactory(conversation=conversation, text="thanks, any news?")
    MessageFactory(
        conversation=conversation,
        text="our reply mentions shipping and refunds",
        direction=Message.Direction.OUT,
        created_at=first - timedelta(minutes=5),
    )
    apply_tags(conversation_id=conversation.pk, tags=[TagFactory(slug=slug)], actor=actor)
    return conversation


@pytest.fixture
def agents_tagging(agent):
    channel = ChannelFactory(default_team=agent.teams.first())
    for slug, texts in TRAINING.items():
        for text in texts:
            tagged_conversation(text=text, slug=slug, actor=agent, channel=channel)
    # Tags a rule added (no actor) are no training signal.
    for _ in range(5):
        tagged_conversation(
            text="where is my parcel", slug="rule-only", actor=None, channel=channel
        )


@pytest.mark.django_db
def test_examples_are_agents_tags_with_the_first_inbound_message(agents_tagging):
    texts, tags = learning.agent_tagging_examples()
    assert "rule-only" not in tags
    assert len(texts) == sum(len(t) for t in TRAINING.values())
    assert sorted(zip(texts, tags, strict=True)) == sorted(
        (text, slug) for slug, group in TRAINING.items() for text in group
    )


@pytest.mark.django_db
def test_train_tag_suggester_stores_a_version_that_loads_lazily(agents_tagging, storage):
    assert learning.current_suggester() is None

    out = io.StringIO()
    call_command("train_tag_suggester", stdout=out)
    first = learning.latest_model_name()
    assert first and first in out.getvalue()
    assert "trained on 24 examples, 3 tags" in out.getvalue()

    suggester = learning.current_suggester()
    assert suggester is learning.current_suggester()  # cached, not read again
    assert suggester.tags == sorted(TRAINING)
    assert [s.tag for s in suggester.suggest("i forgot my password, reset it")] == [
        "password-reset"
    ]
    assert suggester.suggest("qwxz blorp fnord zzkv") == []

    call_command("train_tag_suggester", stdout=io.StringIO())
    second = learning.latest_model_name()
    assert second > first
    assert len(storage.listdir(learning.MODEL_DIR)[1]) == 2
    assert learning.current_suggester() is not suggester


@pytest.mark.django_db
def test_too_little_tagging_is_a_clear_error_and_stores_nothing(agent, storage):
    with pytest.raises(CommandError, match="not trained: need at least two tags"):
        call_command("train_tag_suggester", stdout=io.StringIO())
    assert learning.latest_model_name() is None
