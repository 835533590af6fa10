"""Tags and severity changed by people (and by the system): what the conversation shows, what
the audit trail says, what the feed hears, and who is turned away."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from inbox.models import Activity, Severity
from tagging.models import ConversationTag, Tag, TagSuggestion
from tagging.services import apply_tags, create_tag, remove_tag, set_severity, tags_for_slugs
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import ConversationFactory
from tests.tagging.factories import ConversationTagFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(team):
    return ConversationFactory(team=team)


def slugs(conversation) -> set[str]:
    return set(conversation.tags.values_list("slug", flat=True))


def audit(conversation, verb):
    return list(
        Activity.objects.filter(conversation=conversation, verb=verb).values_list(
            "actor__username", "from_value", "to_value", "reason"
        )
    )


# --- tags_for_slugs ----------------------------------------------------------------------------


def test_slugs_resolve_to_tags_in_the_order_given_once_each():
    tags = tags_for_slugs(["incident", "sales-lead", "incident"])
    assert [t.slug for t in tags] == ["incident", "sales-lead"]


def test_an_unknown_slug_is_refused_by_name():
    with pytest.raises(ValidationError) as refused:
        tags_for_slugs(["incident", "no-such-tag", "nor-this"])
    assert refused.value.message_dict == {"tags": ["Unknown tag: no-such-tag, nor-this."]}


# --- apply_tags --------------------------------------------------------------------------------


def test_an_agent_tags_a_conversation(
    conversation, agent, django_capture_on_commit_callbacks, published
):
    with django_capture_on_commit_callbacks(execute=True):
        added = apply_tags(
            conversation_id=conversation.pk,
            tags=tags_for_slugs(["incident", "technical-issue"]),
            actor=agent,
            reason="customer call",
        )
    assert [t.slug for t in added] == ["incident", "technical-issue"]
    assert slugs(conversation) == {"incident", "technical-issue"}
    assert set(ConversationTag.objects.values_list("added_by__username", flat=True)) == {"alice"}
    assert sorted(audit(conversation, "tagged")) == [
        ("alice", None, "incident", "customer call"),
        ("alice", None, "technical-issue", "customer call"),
    ]
    tagged = [e for e in published if e.type == "conversation.tagged"]
    assert [e.payload["tags"] for e in tagged] == [["incident", "technical-issue"]]
    assert tagged[0].conversation_id == conversation.pk and tagged[0].actor_id == agent.pk


def test_tagging_again_adds_only_what_is_missing(
    conversation, agent, django_capture_on_commit_callbacks, published
):
    ConversationTagFactory(conversation=conversation, tag=Tag.objects.get(slug="incident"))
    with django_capture_on_commit_callbacks(execute=True):
        added = apply_tags(
            conversation_id=conversation.pk,
            tags=tags_for_slugs(["incident", "ugc"]),
            actor=agent,
        )
        none = apply_tags(
            conversation_id=conversation.pk, tags=tags_for_slugs(["ugc"]), actor=agent
        )
    assert [t.slug for t in added] == ["ugc"] and none == []
    assert slugs(conversation) == {"incident", "ugc"}
    assert [row[2] for row in audit(conversation, "tagged")] == ["ugc"]
    assert [e.payload["tags"] for e in published if e.type == "conversation.tagged"] == [["ugc"]]


def test_tagging_moves_the_conversation_up_the_recent_list(conversation, agent):
    before = conversation.updated_at
    apply_tags(conversation_id=conversation.pk, tags=tags_for_slugs(["ugc"]), actor=agent)
    conversation.refresh_from_db()
    assert conversation.updated_at > before


def test_applying_a_suggested_tag_settles_the_suggestion(conversation, agent):
    billing, other = TagFactory(slug="billing"), TagFactory(slug="refunds")
    TagSuggestion.objects.create(conversation=conversation, tag=billing)
    TagSuggestion.objects.create(conversation=conversation, tag=other)
    apply_tags(conversation_id=conversation.pk, tags=[billing], actor=agent)
    assert list(
        TagSuggestion.objects.filter(conversation=conversation).values_list("tag__slug", flat=True)
    ) == ["refunds"]


def test_the_system_tags_without_an_actor(conversation):
    apply_tags(conversation_id=conversation.pk, tags=tags_for_slugs(["ugc"]), actor=None)
    assert slugs(conversation) == {"ugc"}
    assert audit(conversation, "tagged") == [(None, None, "ugc", "")]


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_who_may_not_change_the_conversation_cannot_tag_it(conversation, viewer, who):
    actor = viewer if who == "viewer" else AgentFactory(teams=[TeamFactory(slug="elsewhere")])
    with pytest.raises(PermissionDenied):
        apply_tags(conversation_id=conversation.pk, tags=tags_for_slugs(["ugc"]), actor=actor)
    assert slugs(conversation) == set()
    assert audit(conversation, "tagged") == []


# --- remove_tag --------------------------------------------------------------------------------


def test_an_agent_removes_a_tag(conversation, agent, django_capture_on_commit_callbacks, published):
    incident = Tag.objects.get(slug="incident")
    ConversationTagFactory(conversation=conversation, tag=incident)
    ConversationTagFactory(conversation=conversation, tag=Tag.objects.get(slug="ugc"))
    with django_capture_on_commit_callbacks(execute=True):
        assert remove_tag(conversation_id=conversation.pk, tag=incident, actor=agent, reason="no")
    assert slugs(conversation) == {"ugc"}
    assert audit(conversation, "untagged") == [("alice", "incident", None, "no")]
    untagged = [e for e in published if e.type == "conversation.untagged"]
    assert [e.payload["tag"] for e in untagged] == ["incident"]


def test_removing_a_tag_that_is_not_there_changes_nothing(
    conversation, agent, django_capture_on_commit_callbacks, published
):
    with django_capture_on_commit_callbacks(execute=True):
        removed = remove_tag(
            conversation_id=conversation.pk, tag=Tag.objects.get(slug="incident"), actor=agent
        )
    assert removed is False
    assert audit(conversation, "untagged") == []
    assert published == []


def test_a_viewer_cannot_remove_a_tag(conversation, viewer):
    incident = Tag.objects.get(slug="incident")
    ConversationTagFactory(conversation=conversation, tag=incident)
    with pytest.raises(PermissionDenied):
        remove_tag(conversation_id=conversation.pk, tag=incident, actor=viewer)
    assert slugs(conversation) == {"incident"}


# --- set_severity ------------------------------------------------------------------------------


def test_an_agent_raises_the_severity(
    conversation, agent, django_capture_on_commit_callbacks, published
):
    with django_capture_on_commit_callbacks(execute=True):
        changed = set_severity(
            conversation_id=conversation.pk, severity=Severity.CRITICAL, actor=agent, reason="VIP"
        )
    assert changed.severity == Severity.CRITICAL
    conversation.refresh_from_db()
    assert conversation.severity_name == "critical"
    assert audit(conversation, "severity") == [("alice", "normal", "critical", "VIP")]
    updated = [e for e in published if e.type == "conversation.updated"]
    assert [e.payload["changes"] for e in updated] == [{"severity": ["normal", "critical"]}]


def test_setting_the_same_severity_emits_nothing(
    conversation, agent, django_capture_on_commit_callbacks, published
):
    with django_capture_on_commit_callbacks(execute=True):
        set_severity(conversation_id=conversation.pk, severity=Severity.NORMAL, actor=agent)
    assert audit(conversation, "severity") == []
    assert published == []


def test_a_severity_that_does_not_exist_is_refused(conversation, agent):
    with pytest.raises(ValueError):
        set_severity(conversation_id=conversation.pk, severity=9, actor=agent)
    conversation.refresh_from_db()
    assert conversation.severity == Severity.NORMAL


def test_a_viewer_cannot_change_the_severity(conversation, viewer):
    with pytest.raises(PermissionDenied):
        set_severity(conversation_id=conversation.pk, severity=Severity.LOW, actor=viewer)
    conversation.refresh_from_db()
    assert conversation.severity == Severity.NORMAL


# --- create_tag --------------------------------------------------------------------------------


def test_an_admin_adds_a_tag_whose_slug_comes_from_its_name(admin_user):
    tag = create_tag(name="  Billing Disputes ", actor=admin_user, color="#2B6CB0")
    assert (tag.name, tag.slug, tag.color) == ("Billing Disputes", "billing-disputes", "#2B6CB0")
    assert tags_for_slugs(["billing-disputes"]) == [tag]


def test_an_explicit_slug_is_kept(admin_user):
    assert create_tag(name="Refunds", slug="money-back", actor=admin_user).slug == "money-back"


@pytest.mark.parametrize("who", ["lead", "agent", "viewer"])
def test_only_admins_add_tags(request, who):
    with pytest.raises(PermissionDenied):
        create_tag(name="Billing", actor=request.getfixturevalue(who))
    assert not Tag.objects.filter(slug="billing").exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": "INCIDENT"}, {"name": ["A tag named 'INCIDENT' exists already."]}),
        ({"name": "Sales Lead!"}, {"slug": ["A tag with slug 'sales-lead' exists already."]}),
        (
            {"name": "!!!"},
            {"name": ["A tag needs a name with at least one letter or digit."]},
        ),
        ({"name": "Billing", "color": "red"}, {"color": ["A colour like #2b6cb0."]}),
        ({"name": "Billing", "color": "#12345"}, {"color": ["A colour like #2b6cb0."]}),
    ],
)
def test_a_bad_tag_is_refused_with_the_reason(admin_user, fields, error):
    count = Tag.objects.count()
    with pytest.raises(ValidationError) as refused:
        create_tag(actor=admin_user, **fields)
    assert refused.value.message_dict == error
    assert Tag.objects.count() == count
