import random
import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.models import User
from inbox.models import Activity, Conversation
from routing.auto_assignment import auto_assign, hand_out_queue, set_availability
from routing.models import TeamPolicy
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory


def setup_team(n_agents=5, capacity=1000, policy=TeamPolicy.Assignment.LEAST_LOAD, slug="support"):
    team = TeamFactory(slug=slug)
    TeamPolicy.objects.create(team=team, assignment=policy)
    agents = [
        AgentFactory(username=f"{slug}-agent{i}", teams=[team], capacity=capacity)
        for i in range(n_agents)
    ]
    channel = ChannelFactory(default_team=team)
    return team, agents, channel


def loads(team):
    return Counter(
        Conversation.objects.filter(team=team, assignee__isnull=False).values_list(
            "assignee__username", flat=True
        )
    )


@pytest.mark.django_db
def test_a_thousand_conversations_spread_evenly_over_five_online_agents():
    team, _agents, channel = setup_team()
    conversations = ConversationFactory.create_batch(1000, team=team, channel=channel)
    for conversation in conversations:
        auto_assign(conversation_id=conversation.pk)
    counts = loads(team)
    assert sum(counts.values()) == 1000
    assert all(199 <= n <= 201 for n in counts.values()), counts


@pytest.mark.django_db
def test_round_robin_takes_turns():
    team, agents, channel = setup_team(n_agents=3, policy=TeamPolicy.Assignment.ROUND_ROBIN)
    picked = [
        auto_assign(conversation_id=ConversationFactory(team=team, channel=channel).pk)
        for _ in range(7)
    ]
    assert [a.username for a in picked] == [agents[i % 3].username for i in range(7)]


@pytest.mark.django_db
def test_only_online_agents_under_capacity_get_work_and_the_rest_waits():
    team, agents, channel = setup_team(n_agents=3, capacity=2)
    User.objects.filter(pk=agents[2].pk).update(availability="away")
    conversations = ConversationFactory.create_batch(6, team=team, channel=channel)
    results = [auto_assign(conversation_id=c.pk) for c in conversations]
    assert [r is not None for r in results] == [True] * 4 + [False] * 2
    assert loads(team) == {agents[0].username: 2, agents[1].username: 2}
    assert Conversation.objects.filter(team=team, assignee__isnull=True).count() == 2


@pytest.mark.django_db
def test_manual_teams_are_never_auto_assigned():
    team, _agents, channel = setup_team(policy=TeamPolicy.Assignment.MANUAL)
    conversation = ConversationFactory(team=team, channel=channel)
    assert auto_assign(conversation_id=conversation.pk) is None


@pytest.mark.django_db
def test_the_queue_is_handed_out_oldest_first_when_an_agent_comes_online(
    django_capture_on_commit_callbacks,
):
    import datetime as dt

    from django.utils import timezone

    team, agents, channel = setup_team(n_agents=1, capacity=2)
    User.objects.filter(pk=agents[0].pk).update(availability="offline")
    now = timezone.now()
    newest = ConversationFactory(team=team, channel=channel, created_at=now)
    oldest = ConversationFactory(team=team, channel=channel, created_at=now - dt.timedelta(hours=3))
    middle = ConversationFactory(team=team, channel=channel, created_at=now - dt.timedelta(hours=1))
    assert auto_assign(conversation_id=newest.pk) is None
    with django_capture_on_commit_callbacks(execute=True):
        set_availability(user=agents[0], availability="online")
    assigned = set(Conversation.objects.filter(assignee=agents[0]).values_list("pk", flat=True))
    assert assigned == {oldest.pk, middle.pk}


@pytest.mark.django_db
def test_resolving_frees_capacity_for_the_next_in_queue(django_capture_on_commit_callbacks):
    from inbox.services import set_status

    team, agents, channel = setup_team(n_agents=1, capacity=1)
    first = ConversationFactory(team=team, channel=channel)
    second = ConversationFactory(team=team, channel=channel)
    auto_assign(conversation_id=first.pk)
    assert auto_assign(conversation_id=second.pk) is None
    with django_capture_on_commit_callbacks(execute=True):
        set_status(conversation_id=first.pk, status="resolved", actor=agents[0])
    second.refresh_from_db()
    assert second.assignee == agents[0]


@pytest.mark.django_db
def test_hand_out_stops_when_nobody_has_room():
    team, _agents, channel = setup_team(n_agents=1, capacity=1)
    ConversationFactory.create_batch(3, team=team, channel=channel)
    assert hand_out_queue(team_id=team.pk) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_workers_at_once_assign_each_conversation_once_and_respect_capacity():
    team, _agents, channel = setup_team(n_agents=5, capacity=30)
    ids = [c.pk for c in ConversationFactory.create_batch(200, team=team, channel=channel)]
    errors = []
    start = threading.Barrier(8)
    connection.close()  # eight workers, eight pooled connections: this thread keeps none

    def worker(seed):
        order = ids[:]
        random.Random(seed).shuffle(order)
        try:
            start.wait()
            for pk in order:
                auto_assign(conversation_id=pk)
        except Exception as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counts = loads(team)
    assert sum(counts.values()) == 150  # 5 agents x capacity 30; the rest waits
    assert max(counts.values()) == 30
    per_conversation = Counter(
        Activity.objects.filter(verb="assigned").values_list("conversation_id", flat=True)
    )
    assert set(per_conversation.values()) == {1}
