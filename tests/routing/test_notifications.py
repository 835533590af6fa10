"""The bell's notifications, made through the real services: notes, assignment, the SLA sweep and
an arriving customer message; then read, and mailed to people who are away, batched."""

import datetime as dt

import pytest
import time_machine
from asgiref.sync import async_to_sync
from django.core import mail
from django.core.cache import cache

from core import online
from inbox import events, groups
from inbox.intake.receive import receive_message
from inbox.models import Event
from inbox.normalized import NormalizedMessage, SenderRef
from inbox.services import add_note
from routing import notifications, sla_sweep
from routing.models import Notification, SLAPolicy, TeamPolicy
from routing.notification_mail import mail_waiting
from routing.services import assign_conversation
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory
from tests.inbox.factories import ChannelFactory
from tests.support.feed import FeedListener

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 17, 10, 0, tzinfo=UTC)


@pytest.fixture
def world(db, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    SLAPolicy.objects.all().delete()
    team = TeamFactory(slug="support")
    TeamPolicy.objects.create(team=team)
    alice = AgentFactory(username="alice", teams=[team])
    bob = AgentFactory(username="bob", teams=[team])
    lead = LeadFactory(username="lead", teams=[team])
    channel = ChannelFactory(slug="mail", default_team=team)
    SLAPolicy.objects.create(
        name="Normal",
        severity=2,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=24 * 60,
        warning_percent=80,
    )
    people = [alice.pk, bob.pk, lead.pk]
    # Ids can come back after a rollback (SQLite): no socket count of an earlier test's user.
    cache.delete_many(
        [f"online.sockets.{p}" for p in people] + [f"online.seen.{p}" for p in people]
    )
    yield {"team": team, "alice": alice, "bob": bob, "lead": lead, "channel": channel}
    cache.delete_many(
        [f"online.sockets.{p}" for p in people] + [f"online.seen.{p}" for p in people]
    )


def customer_writes(channel, n, text="Help please", references=()):
    return receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind="email",
            external_id=f"<n{n}@x>",
            thread_key=None,
            sender=SenderRef(
                kind="email", id="ann@example.com", email="ann@example.com", verified=True
            ),
            text=text,
            html=None,
            attachments=(),
            sent_at=dt.datetime.now(UTC),
            subject="Printer on fire",
            references=tuple(references),
        ),
    ).conversation


def committed(capture, fn, **kwargs):
    with capture(execute=True):
        return fn(**kwargs)


def bell_of(user):
    return [
        (n.kind, n.conversation_id, n.actor_id)
        for n in Notification.objects.filter(recipient=user).order_by("pk")
    ]


def test_a_mention_in_a_note_reaches_the_mentioned_agent_and_their_open_page(
    world, django_capture_on_commit_callbacks
):
    alice, bob = world["alice"], world["bob"]
    conversation = customer_writes(world["channel"], 1)
    bobs_pages = FeedListener(groups.notifications(bob.pk))
    committed(
        django_capture_on_commit_callbacks,
        add_note,
        conversation_id=conversation.pk,
        actor=alice,
        text="@bob can you look at the invoice? cc @alice",
    )
    assert bell_of(bob) == [(Notification.Kind.MENTION, conversation.pk, alice.pk)]
    assert bell_of(alice) == []  # mentioning yourself tells you nothing
    assert Notification.objects.get(recipient=bob).text.startswith("@bob can you look")
    pushed = [f["signal"] for f in bobs_pages.frames() if f["type"] == "feed.transient"]
    assert pushed == [{"type": "notifications", "unread": 1, "label": "1"}]
    assert notifications.unread_count(bob) == 1


def test_a_redispatched_event_makes_no_second_notification(
    world, django_capture_on_commit_callbacks
):
    conversation = customer_writes(world["channel"], 1)
    committed(
        django_capture_on_commit_callbacks,
        add_note,
        conversation_id=conversation.pk,
        actor=world["alice"],
        text="@bob please",
    )
    events.dispatch_batch(list(Event.objects.filter(type="note.mentioned")))  # the sweep, again
    assert len(bell_of(world["bob"])) == 1


def test_assignment_by_someone_else_notifies_self_assignment_does_not(
    world, django_capture_on_commit_callbacks
):
    bob, lead, team = world["bob"], world["lead"], world["team"]
    mine = customer_writes(world["channel"], 1)
    given = customer_writes(world["channel"], 2)
    assign = assign_conversation
    committed(
        django_capture_on_commit_callbacks,
        assign,
        conversation_id=mine.pk,
        team=team,
        assignee=bob,
        actor=bob,
    )
    assert bell_of(bob) == []
    committed(
        django_capture_on_commit_callbacks,
        assign,
        conversation_id=given.pk,
        team=team,
        assignee=bob,
        actor=lead,
        reason="you know this customer",
    )
    assert bell_of(bob) == [(Notification.Kind.ASSIGNED, given.pk, lead.pk)]
    assert Notification.objects.get(recipient=bob).text == "you know this customer"


def test_sla_warning_and_breach_on_my_conversation_notify_me(
    world, django_capture_on_commit_callbacks
):
    bob = world["bob"]
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
        committed(
            django_capture_on_commit_callbacks,
            assign_conversation,
            conversation_id=conversation.pk,
            team=world["team"],
            assignee=bob,
            actor=bob,
        )
    for minutes in (49, 61):
        with (
            django_capture_on_commit_callbacks(execute=True),
            time_machine.travel(T0 + dt.timedelta(minutes=minutes), tick=False),
        ):
            sla_sweep.sweep()
    kinds = [n.kind for n in Notification.objects.filter(recipient=bob).order_by("pk")]
    assert kinds == [Notification.Kind.SLA_WARNING, Notification.Kind.SLA_BREACHED]
    assert Notification.objects.get(kind="sla_breached").text == (
        "The first response target is breached."
    )


def test_a_customer_reply_notifies_the_assignee_only(world, django_capture_on_commit_callbacks):
    bob = world["bob"]
    with django_capture_on_commit_callbacks(execute=True):
        conversation = customer_writes(world["channel"], 1)
    assert Notification.objects.count() == 0  # unassigned: nobody's
    committed(
        django_capture_on_commit_callbacks,
        assign_conversation,
        conversation_id=conversation.pk,
        team=world["team"],
        assignee=bob,
        actor=bob,
    )
    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(
            world["channel"], 2, text="Any news?\nIt is still on fire.", references=["<n1@x>"]
        )
    [reply] = Notification.objects.all()
    assert (reply.recipient, reply.kind, reply.text) == (bob, "reply", "Any news?")


def test_mark_read_and_mark_all_read(world, django_capture_on_commit_callbacks):
    bob = world["bob"]
    for n in range(3):
        conversation = customer_writes(world["channel"], n)
        committed(
            django_capture_on_commit_callbacks,
            add_note,
            conversation_id=conversation.pk,
            actor=world["alice"],
            text=f"@bob number {n}",
        )
    first = Notification.objects.filter(recipient=bob).order_by("pk").first()
    bobs_pages = FeedListener(groups.notifications(bob.pk))
    committed(
        django_capture_on_commit_callbacks,
        notifications.mark_read,
        user=bob,
        notification_id=first.pk,
    )
    assert notifications.unread_count(bob) == 2
    with pytest.raises(Notification.DoesNotExist):  # not hers to mark
        notifications.mark_read(user=world["alice"], notification_id=first.pk)
    assert committed(django_capture_on_commit_callbacks, notifications.mark_all_read, user=bob) == 2
    assert notifications.unread_count(bob) == 0
    pushed = [f["signal"]["unread"] for f in bobs_pages.frames()]
    assert pushed == [2, 0]


def mention(capture, world, n, text="@bob have a look"):
    conversation = customer_writes(world["channel"], n)
    committed(capture, add_note, conversation_id=conversation.pk, actor=world["alice"], text=text)
    return conversation


def test_mentions_are_mailed_to_an_away_agent_at_most_once_per_ten_minutes(
    world, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(T0, tick=False):
        first = mention(capture, world, 1)
        second = mention(capture, world, 2)
        assert mail_waiting() == 1
    [batched] = mail.outbox
    assert batched.to == ["bob@example.com"]
    assert "2 notifications" in batched.subject
    assert f"#{first.pk} Printer on fire" in batched.body and f"#{second.pk}" in batched.body
    assert f"/inbox/conversations/{first.pk}/" in batched.body
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        third = mention(capture, world, 3)
        assert mail_waiting() == 0  # mailed five minutes ago
    with time_machine.travel(T0 + dt.timedelta(minutes=9, seconds=59), tick=False):
        assert mail_waiting() == 0
    with time_machine.travel(T0 + dt.timedelta(minutes=10, seconds=1), tick=False):
        assert mail_waiting() == 1
        assert mail_waiting() == 0  # nothing new since
    assert len(mail.outbox) == 2
    assert f"#{third.pk}" in mail.outbox[1].body and f"#{first.pk}" not in mail.outbox[1].body


def test_no_mail_while_the_agent_has_the_workspace_open_or_has_read_it(
    world, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    bob = world["bob"]
    with time_machine.travel(T0, tick=False):
        async_to_sync(online.socket_opened)(bob.pk)
        mention(capture, world, 1)
        assert mail_waiting() == 0  # an open page: the bell is enough
        async_to_sync(online.socket_closed)(bob.pk)
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        assert mail_waiting() == 0  # a reload closes and reopens: not away yet
    with time_machine.travel(T0 + dt.timedelta(minutes=3), tick=False):
        notifications.mark_all_read(user=bob)
        assert mail_waiting() == 0  # read already
        mention(capture, world, 2)
        assert mail_waiting() == 1
    assert "1 notification while" in mail.outbox[0].subject


def test_sla_alerts_and_replies_are_never_mailed_by_the_bell(
    world, django_capture_on_commit_callbacks
):
    bob = world["bob"]
    conversation = customer_writes(world["channel"], 1)
    assign_conversation(
        conversation_id=conversation.pk, team=world["team"], assignee=bob, actor=bob
    )
    with django_capture_on_commit_callbacks(execute=True):
        customer_writes(world["channel"], 2, references=["<n1@x>"])
    assert Notification.objects.filter(recipient=bob, kind="reply").exists()
    assert mail_waiting() == 0 and mail.outbox == []
