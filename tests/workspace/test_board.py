"""The lead board's spread: a preview of who gets what (never the lead, never beyond capacity),
the reassignment, and Undo of it."""

import pytest

from accounts.models import User
from inbox.models import Activity, Conversation
from tests.accounts.factories import AgentFactory
from tests.workspace.test_pages import browser_for, conversation_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def morning(lead, team):
    User.objects.filter(pk=lead.pk).update(availability="online", capacity=20)
    ana = AgentFactory(username="ana", teams=[team], availability="online", capacity=3)
    ben = AgentFactory(username="ben", teams=[team], availability="online", capacity=2)
    AgentFactory(username="cy", teams=[team], availability="away", capacity=10)
    conversation_in(team, assignee=ana)  # Ana has 1 open already
    night = [conversation_in(team, arrived_outside_hours=True) for _ in range(5)]
    return {"ana": ana, "ben": ben, "night": night}


def test_the_preview_shows_who_gets_what_within_capacity_and_changes_nothing(lead, team, morning):
    client = browser_for(lead)
    response = client.post(
        "/inbox/board/spread-preview/",
        {"team": team.slug, "ids": [c.pk for c in morning["night"]]},
    )
    text = " ".join(response.content.decode().split())
    assert response.status_code == 200
    assert "gets 2 (1 → 3 of 3 open)" in text  # Ana
    assert "gets 2 (0 → 2 of 2 open)" in text  # Ben
    assert "1 stays in the queue: everyone online is at capacity." in text
    assert lead.display_name not in text  # the lead spreading gets nothing
    assert not Conversation.objects.filter(
        pk__in=[c.pk for c in morning["night"]], assignee__isnull=False
    ).exists()

    empty = client.post("/inbox/board/spread-preview/", {"team": team.slug})
    assert "Pick at least one conversation." in empty.content.decode()


def test_a_spread_from_the_board_says_what_stays_queued_and_can_be_undone(lead, team, morning):
    client = browser_for(lead)
    ids = [c.pk for c in morning["night"]]
    response = client.post(
        "/inbox/bulk/",
        {"ids": ids, "action": "assign", "team": team.slug, "spread": "on", "reason": "morning",
         "next": "/inbox/board/"},
        follow=True,
    )  # fmt: skip
    page = response.content.decode()
    assert "1 conversation stays in the team&#x27;s queue: everyone online is at capacity." in (
        page
    )
    assigned = dict(Conversation.objects.filter(pk__in=ids).values_list("pk", "assignee_id"))
    assert sorted(a for a in assigned.values() if a) == sorted(
        [morning["ana"].pk] * 2 + [morning["ben"].pk] * 2
    )

    board = client.get("/inbox/board/").content.decode()
    assert "You reassigned 4 conversations." in board
    undone = client.post("/inbox/board/undo/", follow=True).content.decode()
    assert "Undone: 4 conversations are back where they were." in undone
    assert not Conversation.objects.filter(pk__in=ids, assignee__isnull=False).exists()
    assert Activity.objects.filter(verb="assigned", reason="undo").count() == 4
    again = client.post("/inbox/board/undo/", follow=True).content.decode()
    assert "There is nothing to undo any more" in again


def test_undo_is_only_for_the_lead_who_reassigned(lead, team, morning, admin_user):
    client = browser_for(lead)
    ids = [c.pk for c in morning["night"]]
    client.post(
        "/inbox/bulk/",
        {"ids": ids, "action": "assign", "team": team.slug, "assignee": "ana", "reason": "x"},
    )
    other = browser_for(admin_user)
    assert "You reassigned" not in other.get("/inbox/board/").content.decode()
    other.post("/inbox/board/undo/")
    assert Conversation.objects.filter(pk__in=ids, assignee=morning["ana"]).count() == 5
