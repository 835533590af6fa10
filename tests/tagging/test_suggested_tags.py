"""Suggested tags beside a conversation's tags (issue 24): learned from the agents' tagging and
from rules, shown by the conversation API, accepted or dismissed, and the answers learned from."""

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from inbox.intake.adapters.api import sign
from inbox.models import Activity, Conversation
from tagging import learning
from tagging.models import ClassificationRule, ConversationTag, SuggestionDecision, TagSuggestion
from tagging.suggester import NO_TAG
from tagging.tasks import retrain_tag_suggester
from tests.accounts.factories import ViewerFactory
from tests.inbox.factories import ChannelFactory
from tests.tagging.factories import TagFactory
from tests.tagging.test_learning import tagged_conversation
from tests.tagging.test_suggester import TRAINING

SECRET = "suggest-secret"


@pytest.fixture
def channel(agent):
    return ChannelFactory(
        slug="partner", kind="api", secret=SECRET, default_team=agent.teams.first()
    )


@pytest.fixture
def arrive(client, channel, django_capture_on_commit_callbacks):
    """A customer's message through the API channel's webhook, processed: its conversation."""
    sent = []

    def send(text: str) -> Conversation:
        n = len(sent) + 1
        sent.append(text)
        body = json.dumps(
            {"id": f"evt-{n}", "sender": {"id": f"cust-{n}", "name": f"Writer {n}"}, "text": text}
        ).encode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/webhooks/api/{channel.slug}/",
                data=body,
                content_type="application/json",
                HTTP_X_SIGNATURE=sign(SECRET, body),
            )
        assert response.status_code == 202
        return Conversation.objects.get(contact__name=f"Writer {n}")

    return send


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_authenticate(agent)
    return client


def tag_like_agents(agent, channel, extra: int = 0) -> None:
    """The agents' tagging: 8 conversations for each of the three tags (plus `extra` more)."""
    for slug, texts in TRAINING.items():
        for text in texts:
            tagged_conversation(text=text, slug=slug, actor=agent, channel=channel)
    for i in range(extra):
        tagged_conversation(text=f"refund order {i}", slug="refund", actor=agent, channel=channel)


def detail(api, conversation) -> dict:
    response = api.get(f"/api/v1/conversations/{conversation.pk}/")
    assert response.status_code == 200
    return response.json()


def decide(api, conversation, slug, answer):
    return api.post(f"/api/v1/conversations/{conversation.pk}/suggested-tags/{slug}/{answer}/")


@pytest.fixture
def trained(agent, channel, storage):
    tag_like_agents(agent, channel)
    call_command("train_tag_suggester", stdout=io.StringIO())


@pytest.mark.django_db
def test_agents_tagging_is_learned_and_a_new_conversation_shows_the_suggestion(
    trained, api, arrive
):
    conversation = arrive("Hello, I forgot my password and cannot log in")
    [suggested] = detail(api, conversation)["suggested_tags"]
    assert suggested["tag"] == "password-reset"
    assert suggested["source"] == "learned"
    assert 0.62 <= suggested["score"] <= 1
    # Unsure: silent.
    assert detail(api, arrive("qwxz blorp fnord zzkv"))["suggested_tags"] == []


@pytest.mark.django_db
def test_no_learned_suggestion_before_training_or_when_switched_off(
    agent, channel, storage, api, arrive, settings
):
    tag_like_agents(agent, channel)
    conversation = arrive("I forgot my password")
    assert detail(api, conversation)["suggested_tags"] == []
    call_command("train_tag_suggester", stdout=io.StringIO())
    assert [s["tag"] for s in detail(api, conversation)["suggested_tags"]] == ["password-reset"]
    settings.TAG_SUGGESTER_ENABLED = False
    assert detail(api, conversation)["suggested_tags"] == []


@pytest.mark.django_db
def test_a_tag_the_conversation_has_is_never_suggested(trained, api, arrive, agent):
    conversation = arrive("I forgot my password")
    tagged = api.post(
        f"/api/v1/conversations/{conversation.pk}/tags/", {"tags": ["password-reset"]}, "json"
    )
    assert tagged.status_code == 200
    assert detail(api, conversation)["suggested_tags"] == []


@pytest.mark.django_db
def test_a_rules_stored_suggestion_shows_with_source_rule(api, arrive, storage):
    billing = TagFactory(slug="billing")
    rule = ClassificationRule.objects.create(
        name="Invoices", keywords=["invoice"], mode=ClassificationRule.Mode.SUGGEST
    )
    rule.tags.set([billing])
    conversation = arrive("My invoice shows the wrong address")
    body = detail(api, conversation)
    assert body["tags"] == []
    assert body["suggested_tags"] == [{"tag": "billing", "score": 1.0, "source": "rule"}]
    # The list does not compute suggestions.
    listed = api.get("/api/v1/conversations/").json()["results"]
    assert "suggested_tags" not in listed[0]


@pytest.mark.django_db
def test_accepting_adds_the_agents_tag_and_records_it(trained, api, arrive, agent):
    conversation = arrive("please send me a password reset link")
    response = decide(api, conversation, "password-reset", "accept")
    assert response.status_code == 200
    body = response.json()
    assert body["tags"] == ["password-reset"]
    assert body["suggested_tags"] == []
    decision = SuggestionDecision.objects.get(conversation=conversation)
    assert (decision.decision, decision.source, decision.actor) == ("accepted", "learned", agent)
    assert decision.score >= 0.62
    assert ConversationTag.objects.get(conversation=conversation).added_by == agent
    audit = Activity.objects.get(conversation=conversation, verb="tagged")
    assert audit.reason.startswith("accepted learned suggestion")
    # Accepted after review is an agent's tag: it is training data.
    texts, tags = learning.agent_tagging_examples()
    assert ("please send me a password reset link", "password-reset") in zip(
        texts, tags, strict=True
    )
    # The same click again changes nothing.
    again = decide(api, conversation, "password-reset", "accept")
    assert again.status_code == 200
    assert SuggestionDecision.objects.filter(conversation=conversation).count() == 1


@pytest.mark.django_db
def test_dismissing_hides_a_rule_suggestion_for_good_and_records_it(api, arrive, agent, storage):
    billing = TagFactory(slug="billing")
    rule = ClassificationRule.objects.create(
        name="Invoices", keywords=["invoice"], mode=ClassificationRule.Mode.SUGGEST
    )
    rule.tags.set([billing])
    conversation = arrive("Where is my invoice?")
    response = decide(api, conversation, "billing", "dismiss")
    assert response.status_code == 200
    assert response.json()["suggested_tags"] == []
    assert response.json()["tags"] == []
    assert not TagSuggestion.objects.filter(conversation=conversation).exists()
    decision = SuggestionDecision.objects.get(conversation=conversation)
    assert (decision.decision, decision.source, decision.score) == ("dismissed", "rule", 1.0)
    assert Activity.objects.filter(
        conversation=conversation, verb="dismissed suggestion", to_value="billing", actor=agent
    ).exists()
    # Dismissed becomes an example of no tag.
    texts, tags = learning.agent_tagging_examples()
    assert list(zip(texts, tags, strict=True)) == [("Where is my invoice?", NO_TAG)]
    # Dismissing again is harmless; accepting it now is refused in words.
    assert decide(api, conversation, "billing", "dismiss").status_code == 200
    refused = decide(api, conversation, "billing", "accept")
    assert refused.status_code == 400
    assert refused.json() == {"tag": ["The suggestion billing was dismissed already."]}


@pytest.mark.django_db
def test_bad_answers_are_clear_errors(trained, api, arrive, agent):
    conversation = arrive("I forgot my password")
    TagFactory(slug="billing")
    not_suggested = decide(api, conversation, "billing", "accept")
    assert not_suggested.status_code == 400
    assert not_suggested.json() == {"tag": ["billing is not suggested for this conversation."]}
    unknown = decide(api, conversation, "no-such-tag", "dismiss")
    assert unknown.status_code == 400
    assert unknown.json() == {"tags": ["Unknown tag: no-such-tag."]}
    viewer = APIClient()
    viewer.force_authenticate(ViewerFactory())
    assert decide(viewer, conversation, "password-reset", "accept").status_code in (403, 404)
    assert not SuggestionDecision.objects.exists()


@pytest.mark.django_db
def test_dismissed_suggestions_teach_the_suggester_silence(trained, api, arrive):
    # The suggester reads "gift cards" as close to "refund"; agents disagree, three times.
    for text in (
        "gift cards for my order please",
        "a gift card for the order please",
        "gift cards for this order please",
    ):
        conversation = arrive(text)
        assert [s["tag"] for s in detail(api, conversation)["suggested_tags"]] == ["refund"]
        assert decide(api, conversation, "refund", "dismiss").status_code == 200
    probe = arrive("gift cards for an order please")
    assert [s["tag"] for s in detail(api, probe)["suggested_tags"]] == ["refund"]

    out = io.StringIO()
    call_command("train_tag_suggester", stdout=out)
    assert detail(api, probe)["suggested_tags"] == []
    refund = arrive("i want a refund for my order")
    assert [s["tag"] for s in detail(api, refund)["suggested_tags"]] == ["refund"]


@pytest.mark.django_db
def test_the_detail_costs_the_same_queries_with_many_tags_and_suggestions(
    trained, api, arrive, django_assert_max_num_queries
):
    conversation = arrive("I forgot my password")
    detail(api, conversation)  # the model loaded once in the process

    def queries():
        with django_assert_max_num_queries(20) as captured:
            assert len(detail(api, conversation)["suggested_tags"]) >= 1
        return len(captured.captured_queries)

    few = queries()
    for i in range(6):
        tag = TagFactory(slug=f"extra-{i}")
        ConversationTag.objects.create(conversation=conversation, tag=tag)
        TagSuggestion.objects.create(conversation=conversation, tag=TagFactory(slug=f"idea-{i}"))
    assert queries() == few


@pytest.mark.django_db
def test_the_periodic_task_retrains_only_past_the_threshold(
    agent, channel, storage, settings, arrive
):
    settings.TAG_SUGGESTER_RETRAIN_AFTER = 30
    tag_like_agents(agent, channel)  # 24 agents' tags: not enough yet
    assert retrain_tag_suggester.delay().get() == {"trained": False}
    assert learning.latest_model_name() is None

    for i in range(6):
        tagged_conversation(
            text=f"refund my order {i}", slug="refund", actor=agent, channel=channel
        )
    result = retrain_tag_suggester.delay().get()
    assert result["trained"] is True and result["examples"] == 30
    first = learning.latest_model_name()
    assert result["name"] == first

    # Rules' tags are no new tagging; 29 agents' tags are not 30.
    for i in range(5):
        tagged_conversation(
            text=f"where is parcel {i}", slug="shipping", actor=None, channel=channel
        )
    for i in range(29):
        tagged_conversation(text=f"parcel lost {i}", slug="shipping", actor=agent, channel=channel)
    assert retrain_tag_suggester.delay().get() == {"trained": False}
    assert learning.latest_model_name() == first

    tagged_conversation(text="parcel lost again", slug="shipping", actor=agent, channel=channel)
    assert retrain_tag_suggester.delay().get()["trained"] is True
    assert learning.latest_model_name() > first

    settings.TAG_SUGGESTER_ENABLED = False
    for i in range(40):
        tagged_conversation(text=f"money back {i}", slug="refund", actor=agent, channel=channel)
    assert retrain_tag_suggester.delay().get() == {"trained": False}


def test_the_retraining_is_a_registered_periodic_task(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["tag-suggester-retrain"]
    assert entry["task"] == retrain_tag_suggester.name == "tagging.tasks.retrain_tag_suggester"
