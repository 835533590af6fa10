"""The conversation list builds its rows from .values() instead of ConversationOutputSerializer;
what a client reads must not change: every field, every value, in the same order."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from inbox.models import Conversation, Severity, Status
from inbox.serializers import ConversationOutputSerializer
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ChannelFactory, ContactFactory, ConversationFactory
from tests.tagging.factories import ConversationTagFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/conversations/"


def serialized(pk):
    conversation = (
        Conversation.objects.select_related("channel", "team", "assignee", "contact")
        .prefetch_related("tags")
        .get(pk=pk)
    )
    return ConversationOutputSerializer(conversation).data


def test_list_rows_are_byte_for_byte_the_serializer_output(team, client_for):
    alice = AgentFactory(username="alice", teams=[team])
    now = timezone.now().replace(microsecond=123456)
    rich = ConversationFactory(
        team=team,
        assignee=alice,
        channel=ChannelFactory(default_team=team, kind="telegram", slug="tg-support"),
        contact=ContactFactory(name="Zoë Ünicode", email="zoe@example.com", phone="+4915112345"),
        subject="Rechnung fehlt — «invoice» 😀",
        snippet="Hallo,\nwo bleibt die Rechnung?",
        status=Status.PENDING,
        severity=Severity.CRITICAL,
        message_count=7,
        last_message_at=now,
        last_inbound_at=now - dt.timedelta(minutes=5),
        first_response_at=now - dt.timedelta(minutes=3),
        first_response_due=now + dt.timedelta(hours=1),
        next_response_due=now + dt.timedelta(hours=2),
        resolution_due=now + dt.timedelta(days=1),
        resolved_at=now - dt.timedelta(minutes=1),
        snoozed_until=now + dt.timedelta(days=2),
        sla_breached=True,
    )
    for slug in ("sales-lead-x", "alpha-x", "incident-x"):
        ConversationTagFactory(conversation=rich, tag=TagFactory(slug=slug))
    bare = ConversationFactory(
        team=None, assignee=alice, contact=ContactFactory(name="", email="", phone="")
    )

    response = client_for(alice).get(LIST)

    assert response.status_code == 200
    expected = {
        "next": None,
        "previous": None,
        "results": [serialized(pk) for pk in (bare.pk, rich.pk)],
    }
    if response.json()["results"][0]["id"] != bare.pk:  # newest first; the factory's times
        expected["results"].reverse()
    assert response.content == JSONRenderer().render(expected)
    row = next(r for r in response.json()["results"] if r["id"] == rich.pk)
    assert row["tags"] == ["alpha-x", "incident-x", "sales-lead-x"]
    assert row["severity"] == "critical"
    assert row["team"] is not None and row["contact"]["name"] == "Zoë Ünicode"
    bare_row = next(r for r in response.json()["results"] if r["id"] == bare.pk)
    assert bare_row["team"] is None and bare_row["tags"] == [] and bare_row["resolved_at"] is None


def test_next_link_pages_through_values_rows(team, client_for):
    alice = AgentFactory(username="alice", teams=[team])
    made = {ConversationFactory(team=team).pk for _ in range(5)}
    client = client_for(alice)

    seen, url = [], f"{LIST}?page_size=2"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert len(seen) == len(set(seen)) == 5 and set(seen) == made


def test_a_tag_made_after_a_request_filters_the_next_one(team, client_for):
    """The filter form is built once per process; the tags and teams it resolves are not."""
    alice = AgentFactory(username="alice", teams=[team])
    tagged = ConversationFactory(team=team)
    ConversationFactory(team=team)
    client = client_for(alice)

    before = client.get(f"{LIST}?tag=late-tag")
    ConversationTagFactory(conversation=tagged, tag=TagFactory(slug="late-tag"))
    after = client.get(f"{LIST}?tag=late-tag")

    assert before.status_code == 400 and "tag" in before.json()
    assert after.status_code == 200
    assert [row["id"] for row in after.json()["results"]] == [tagged.pk]
