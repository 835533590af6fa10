"""Bulk reassignment as a lead does it after a night shift: set-wise (the same statements for 5
conversations as for 50), and still one audit row, one event and fresh SLA due times per
conversation that changed."""

import datetime as dt
import itertools

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from inbox.intake.receive import receive_message
from inbox.models import Activity, Conversation, Event
from inbox.normalized import NormalizedMessage, SenderRef
from routing.models import SLAPolicy, TeamPolicy
from routing.services import assign_conversation
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/conversations/bulk/"
T0 = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)  # a Tuesday
serial = itertools.count()


@pytest.fixture
def night(db):
    SLAPolicy.objects.all().delete()
    support = TeamFactory(slug="support")
    sales = TeamFactory(slug="sales")
    for team in (support, sales):
        TeamPolicy.objects.create(team=team)
    SLAPolicy.objects.create(
        name="Normal",
        severity=2,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=24 * 60,
    )
    SLAPolicy.objects.create(  # a team-scoped policy: moving to sales moves the due times
        name="Sales",
        severity=2,
        team=sales,
        first_response_minutes=30,
        next_response_minutes=60,
        resolution_minutes=8 * 60,
    )
    agents = [AgentFactory(username=name, teams=[support]) for name in ("alice", "bob", "dan")]
    return {
        "support": support,
        "sales": sales,
        "agents": agents,
        "lead": LeadFactory(username="lead", teams=[support]),
        "channel": ChannelFactory(slug="mail", default_team=support),
    }


def arrive(channel, n: int) -> list[Conversation]:
    """n customers write in overnight: conversations with their SLA clocks running."""
    out = []
    with time_machine.travel(T0, tick=False):
        for _ in range(n):
            k = next(serial)
            sender = f"customer{k}@example.com"
            out.append(
                receive_message(
                    channel=channel,
                    message=NormalizedMessage(
                        channel_kind="email",
                        external_id=f"<night{k}@example.com>",
                        thread_key=None,
                        sender=SenderRef(kind="email", id=sender, email=sender, verified=True),
                        text="Help please",
                        html=None,
                        attachments=(),
                        sent_at=T0,
                        subject="Help",
                        references=(),
                        auto_kind="",
                    ),
                ).conversation
            )
    return out


BODIES = {
    "to an agent": {"team": "support", "assignee": "bob"},
    "to another team's queue": {"team": "sales"},
    "spread over the online agents": {"team": "support", "spread": True},
}


@pytest.mark.parametrize("how", list(BODIES))
def test_bulk_assign_costs_the_same_statements_for_5_or_50_conversations(night, client_for, how):
    client = client_for(night["lead"])
    User.objects.update(capacity=100)  # room for all 56: a spread never goes over capacity

    def bulk(conversations):
        ids = [c.pk for c in conversations]
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                URL, {"ids": ids, "action": "assign", "reason": "handover", **BODIES[how]}, "json"
            )
        assert response.status_code == 200, response.json()
        assert response.json()["updated"] == sorted(ids)
        return queries

    bulk(arrive(night["channel"], 1))  # warm: session, content types, reference copies
    five = bulk(arrive(night["channel"], 5))
    fifty = bulk(arrive(night["channel"], 50))
    assert len(fifty) == len(five), "\n".join(q["sql"][:160] for q in fifty.captured_queries)
    assert Activity.objects.filter(verb="assigned", reason="handover").count() == 56
    assert Event.objects.filter(type="conversation.assigned").count() == 56


def test_moving_to_a_team_with_its_own_policy_recomputes_due_times_like_one_by_one(
    night, client_for
):
    bulk_moved = arrive(night["channel"], 3)
    one_by_one = arrive(night["channel"], 1)[0]
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        response = client_for(night["lead"]).post(
            URL, {"ids": [c.pk for c in bulk_moved], "action": "assign", "team": "sales"}, "json"
        )
        assign_conversation(
            conversation_id=one_by_one.pk, team=night["sales"], assignee=None, actor=night["lead"]
        )
    assert response.status_code == 200
    fields = ("first_response_due", "resolution_due", "sla_next_check_at", "sla_clock")
    expected = Conversation.objects.filter(pk=one_by_one.pk).values_list(*fields).get()
    assert expected[0] == T0 + dt.timedelta(minutes=30)  # the sales policy, from arrival
    got = Conversation.objects.filter(pk__in=[c.pk for c in bulk_moved]).values_list(*fields)
    assert list(got) == [expected] * 3


def test_a_lead_reassigns_only_what_they_see_and_a_repeat_changes_nothing(night, client_for):
    mine = arrive(night["channel"], 3)
    theirs = arrive(ChannelFactory(slug="shop", default_team=night["sales"]), 1)[0]
    client = client_for(night["lead"])
    body = {
        "ids": [c.pk for c in mine] + [theirs.pk, 999999],
        "action": "assign",
        "team": "support",
        "assignee": "alice",
        "reason": "morning",
    }
    first = client.post(URL, body, "json").json()
    assert first == {
        "updated": [c.pk for c in mine],
        "unchanged": [],
        "not_found": [theirs.pk, 999999],
    }
    assert Conversation.objects.get(pk=theirs.pk).assignee_id is None
    audit = Activity.objects.filter(verb="assigned", reason="morning")
    assert sorted(audit.values_list("conversation_id", flat=True)) == [c.pk for c in mine]
    assert audit.first().to_value == {"team": "support", "assignee": "alice"}
    assert audit.first().from_value == {"team": "support", "assignee": None}
    again = client.post(URL, body, "json").json()
    assert again["updated"] == [] and again["unchanged"] == [c.pk for c in mine]
    assert audit.count() == 3
    assert Event.objects.filter(type="conversation.assigned").count() == 3


def test_spreading_gives_the_least_loaded_online_agents_work_first(night, client_for):
    alice, _bob, dan = night["agents"]
    User.objects.filter(pk__in=[dan.pk, night["lead"].pk]).update(availability="away")
    already = arrive(night["channel"], 2)
    Conversation.objects.filter(pk__in=[c.pk for c in already]).update(assignee=alice)
    overnight = arrive(night["channel"], 6)
    response = client_for(night["lead"]).post(
        URL, {"ids": [c.pk for c in overnight], "action": "assign", "team": "support",
              "spread": True}, "json",
    )  # fmt: skip
    assert response.status_code == 200
    got = list(
        Conversation.objects.filter(pk__in=[c.pk for c in overnight])
        .order_by("pk")
        .values_list("assignee__username", flat=True)
    )
    # Alice had 2 already: 4 each in the end. Dan and the lead are away.
    assert sorted(got) == ["alice"] * 2 + ["bob"] * 4
    events = Event.objects.filter(
        type="conversation.assigned", conversation_id__in=[c.pk for c in overnight]
    )
    assert sorted(e.payload["after"]["assignee"] for e in events) == sorted(got)


@pytest.mark.django_db
def test_a_lead_cannot_spread_work_onto_another_teams_agents(client_for):
    support, sales = TeamFactory(slug="support"), TeamFactory(slug="sales")
    lead = LeadFactory(teams=[support])
    AgentFactory(username="carol", teams=[sales])
    conversation = ConversationFactory(team=support, channel=ChannelFactory(default_team=support))
    response = client_for(lead).post(
        "/api/v1/conversations/bulk/",
        {"ids": [conversation.pk], "action": "assign", "team": "sales", "spread": True},
        format="json",
    )
    assert response.status_code == 403
    conversation.refresh_from_db()
    assert conversation.assignee is None and conversation.team == support


def test_a_spread_respects_capacity_and_never_hands_work_to_the_lead_spreading_it(
    night, client_for
):
    alice, bob, dan = night["agents"]
    lead = night["lead"]
    User.objects.filter(pk=dan.pk).update(availability="away")
    User.objects.filter(pk__in=[alice.pk, bob.pk]).update(capacity=3)
    User.objects.filter(pk=lead.pk).update(availability="online", capacity=50)
    already = arrive(night["channel"], 1)
    Conversation.objects.filter(pk=already[0].pk).update(assignee=alice)
    overnight = arrive(night["channel"], 7)
    response = client_for(lead).post(
        URL,
        {"ids": [c.pk for c in overnight], "action": "assign", "team": "support", "spread": True},
        "json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    got = dict(
        Conversation.objects.filter(pk__in=[c.pk for c in overnight]).values_list(
            "pk", "assignee__username"
        )
    )
    # Alice had 1 of 3: she gets 2, Bob 3; the lead, online with room, gets none; 2 wait.
    assert sorted(v for v in got.values() if v) == ["alice"] * 2 + ["bob"] * 3
    assert sorted(body["queued"]) == sorted(pk for pk, v in got.items() if v is None)
    assert len(body["queued"]) == 2
    assert not Conversation.objects.filter(assignee=lead).exists()
