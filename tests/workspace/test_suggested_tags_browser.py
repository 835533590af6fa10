"""Suggested tags on the conversation page in headless Chromium (issue 24): one click on a chip
adds the tag, one on its dismiss button hides it, and both answers are recorded."""

import io

import pytest
from django.core.management import call_command

from inbox.models import Conversation
from tagging import learning
from tagging.models import ClassificationRule, ConversationTag, SuggestionDecision
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory
from tests.tagging.factories import TagFactory
from tests.tagging.test_learning import tagged_conversation
from tests.tagging.test_suggester import TRAINING
from tests.workspace.browser import SECRET, login, post_to_partner, shot, user, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def model_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    learning.forget_loaded_suggester()
    yield
    learning.forget_loaded_suggester()


def test_a_suggested_tag_is_accepted_and_another_dismissed_with_one_click(
    page,
    server,
    support,
    model_storage,
):
    alice = user(AgentFactory, "alice", teams=[support])
    channel = ChannelFactory(slug="partner", kind="api", secret=SECRET, default_team=support)
    for slug, texts in TRAINING.items():
        for text in texts:
            tagged_conversation(text=text, slug=slug, actor=alice, channel=channel)
    call_command("train_tag_suggester", stdout=io.StringIO())
    rule = ClassificationRule.objects.create(
        name="Invoices", keywords=["invoice"], mode=ClassificationRule.Mode.SUGGEST
    )
    rule.tags.set([TagFactory(slug="billing", name="Billing")])

    response = post_to_partner(
        server,
        {
            "id": "evt-suggest-1",
            "sender": {"id": "u-7", "name": "Vera"},
            "text": "I forgot my password, reset it please. Also my invoice",
        },
    )
    assert response.status_code == 202
    # Stored, then processed by the drain (at once in embedded mode; a moment later on Redis).
    conversation = wait_for(
        lambda: Conversation.objects.filter(
            contact__name="Vera", tag_suggestions__tag__slug="billing"
        ).first(),
        timeout=10,
    )
    assert conversation is not None

    login(page, server, "alice", f"/inbox/conversations/{conversation.pk}/")
    suggested = page.get_by_role("list", name="Suggested")
    accept = suggested.get_by_role("button", name="Add suggested tag Password Reset")
    assert accept.is_visible()
    assert suggested.get_by_role("button", name="Add suggested tag Billing").is_visible()
    assert "learned" in suggested.locator("li[data-suggested-tag=password-reset]").inner_text()
    shot(page, "suggested-tags")

    accept.click()
    page.wait_for_selector("text=Tagged Password Reset.")
    tags = page.locator("ul.tags").first
    assert "Password Reset" in tags.inner_text()
    assert page.get_by_role("button", name="Add suggested tag Password Reset").count() == 0
    link = ConversationTag.objects.get(conversation=conversation, tag__slug="password-reset")
    assert link.added_by == alice

    page.get_by_role("button", name="Dismiss suggested tag Billing").click()
    page.wait_for_selector("text=Suggestion Billing dismissed.")
    assert page.get_by_role("list", name="Suggested").count() == 0
    assert "Billing" not in page.locator("ul.tags").first.inner_text()

    assert sorted(
        SuggestionDecision.objects.filter(conversation=conversation).values_list(
            "tag__slug", "source", "decision", "actor__username"
        )
    ) == [
        ("billing", "rule", "dismissed", "alice"),
        ("password-reset", "learned", "accepted", "alice"),
    ]
    assert page.problems == []
