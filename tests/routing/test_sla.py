"""SLA clocks and the sweep, with time under control (time-machine)."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import events
from inbox.intake.receive import receive_message
from inbox.models import Conversation, Event
from inbox.normalized import NormalizedMessage, SenderRef
from inbox.outbound.replies import send_reply
from inbox.services import add_note, set_status
from routing import sla, sla_reactions, sla_sweep
from routing.models import BusinessHours, SLAAlert, SLAMeasurement, SLAPolicy, TeamPolicy
from tagging.services import apply_tags, set_severity, tags_for_slugs
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 17, 10, 0, tzinfo=UTC)  # a Tuesday


def at(**delta):
    return T0 + dt.timedelta(**delta)


@pytest.fixture
def world(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    SLAPolicy.objects.all().delete()
    team = TeamFactory(slug="support")
    TeamPolicy.objects.create(team=team)
    agent = AgentFactory(username="alice", teams=[team], email="alice@example.com")
    lead = LeadFactory(username="lead", teams=[team], email="lead@example.com")
    channel = ChannelFactory(slug="mail", default_team=team)
    policy = SLAPolicy.objects.create(
        name="Normal",
        severity=2,
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=24 * 60,
        warning_percent=80,
    )
    return {"team": team, "agent": agent, "lead": lead, "channel": channel, "policy": policy}


def customer_writes(channel, n, *, references=(), sender="ann@example.com", auto_kind=""):
    return receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind="email",
            external_id=f"<m{n}@x>",
            thread_key=None,
            sender=SenderRef(kind="email", id=sender, email=sender, verified=True),
            text="Help please",
            html=None,
            attachments=(),
            sent_at=dt.datetime.now(UTC),
            subject="Help",
            references=tuple(references),
            auto_kind=auto_kind,
        ),
    ).conversation


def fresh(conversation):
    conversation.refresh_from_db()
    return conversation


def test_a_new_conversation_gets_first_response_and_resolution_due(world):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    assert fresh(conversation).first_response_due == at(hours=1)
    assert conversation.resolution_due == at(hours=24)
    assert conversation.next_response_due is None
    assert conversation.sla_next_check_at == at(minutes=48)  # the 80 % warning


def test_business_hours_policy_counts_only_open_time(world):
    berlin = BusinessHours.objects.create(
        name="Berlin",
        timezone="Europe/Berlin",
        weekly={d: [["09:00", "17:00"]] for d in BusinessHours.DAYS[:5]},
    )
    TeamPolicy.objects.filter(team=world["team"]).update(business_hours=berlin)
    SLAPolicy.objects.filter(pk=world["policy"].pk).update(
        business_hours_only=True, first_response_minutes=120
    )
    friday_4pm_berlin = dt.datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    with time_machine.travel(friday_4pm_berlin, tick=False):
        conversation = customer_writes(world["channel"], 1)
    assert fresh(conversation).first_response_due == dt.datetime(
        2026, 11, 23, 9, 0, tzinfo=UTC
    )  # Mon 10:00


def test_the_clock_pauses_while_pending_and_resumes_when_the_customer_writes(world):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    with time_machine.travel(at(minutes=10), tick=False):
        set_status(conversation_id=conversation.pk, status="pending", actor=world["agent"])
    assert fresh(conversation).first_response_due is None and conversation.sla_next_check_at is None
    with time_machine.travel(at(hours=3, minutes=10), tick=False):
        customer_writes(world["channel"], 2, references=["<m1@x>"])
    conversation = fresh(conversation)
    assert conversation.status == "open"
    assert conversation.first_response_due == at(hours=4)  # paused three hours


def test_snooze_pauses_until_it_ends(world):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
        set_status(
            conversation_id=conversation.pk,
            status="snoozed",
            actor=world["agent"],
            snoozed_until=at(hours=2),
        )
    with time_machine.travel(at(hours=2), tick=False):
        from inbox.services import wake_snoozed

        wake_snoozed()
    assert fresh(conversation).first_response_due == at(hours=3)


def test_an_agent_reply_stops_the_response_clocks_and_notes_do_not(world, http_server):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    with time_machine.travel(at(minutes=20), tick=False):
        add_note(conversation_id=conversation.pk, actor=world["agent"], text="looking")
    assert fresh(conversation).first_response_due == at(hours=1)
    with time_machine.travel(at(minutes=30), tick=False):
        send_reply(conversation_id=conversation.pk, actor=world["agent"], text="Hello!")
    conversation = fresh(conversation)
    assert conversation.first_response_due is None
    assert conversation.resolution_due == at(hours=24)
    measured = SLAMeasurement.objects.get(conversation=conversation, target="first_response")
    assert (measured.elapsed_seconds, measured.met) == (1800, True)
    # the customer answers: now the next-response clock runs
    with time_machine.travel(at(hours=1), tick=False):
        customer_writes(world["channel"], 2, references=["<m1@x>"])
    assert fresh(conversation).next_response_due == at(hours=3)


def test_a_customer_writing_again_before_we_answer_moves_no_due_time(world, http_server):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    with time_machine.travel(at(minutes=30), tick=False):
        customer_writes(world["channel"], 2, references=["<m1@x>"])
    conversation = fresh(conversation)
    assert (conversation.message_count, conversation.first_response_due) == (2, at(hours=1))
    assert conversation.sla_next_check_at == at(minutes=48)  # still the first warning
    with time_machine.travel(at(minutes=40), tick=False):
        send_reply(conversation_id=conversation.pk, actor=world["agent"], text="Hello!")
    with time_machine.travel(at(hours=1), tick=False):
        customer_writes(world["channel"], 3, references=["<m1@x>"])
    with time_machine.travel(at(hours=2), tick=False):
        customer_writes(world["channel"], 4, references=["<m1@x>"])
    # The next-response clock runs from their first unanswered message, not their latest.
    assert fresh(conversation).next_response_due == at(hours=3)


def test_auto_replies_start_no_clock(world):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1, auto_kind="auto_reply")
    conversation = fresh(conversation)
    assert (
        conversation.first_response_due,
        conversation.resolution_due,
        conversation.sla_next_check_at,
    ) == (None, None, None)


def test_resolving_stops_everything_and_records_resolution(world):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    with time_machine.travel(at(hours=2), tick=False):
        set_status(conversation_id=conversation.pk, status="resolved", actor=world["agent"])
    conversation = fresh(conversation)
    assert (
        conversation.first_response_due,
        conversation.resolution_due,
        conversation.sla_next_check_at,
    ) == (None, None, None)
    assert SLAMeasurement.objects.get(conversation=conversation, target="resolution").met is True


def test_policy_precedence_tag_beats_channel_beats_team_beats_severity(world):
    team_policy = SLAPolicy.objects.create(
        name="Team",
        severity=2,
        team=world["team"],
        first_response_minutes=50,
        next_response_minutes=60,
        resolution_minutes=600,
    )
    channel_policy = SLAPolicy.objects.create(
        name="Channel",
        severity=2,
        channel=world["channel"],
        first_response_minutes=40,
        next_response_minutes=60,
        resolution_minutes=600,
    )
    from tagging.models import Tag

    vip = Tag.objects.create(slug="vip", name="VIP")
    tag_policy = SLAPolicy.objects.create(
        name="VIP",
        severity=2,
        tag=vip,
        first_response_minutes=10,
        next_response_minutes=60,
        resolution_minutes=600,
    )
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
        assert sla.policy_for(fresh(conversation)) == channel_policy
        assert conversation.first_response_due == at(minutes=40)
        apply_tags(conversation_id=conversation.pk, tags=[vip], actor=world["agent"])
        assert sla.policy_for(fresh(conversation)) == tag_policy
        assert conversation.first_response_due == at(minutes=10)
    channel_policy.delete()
    tag_policy.delete()
    assert sla.policy_for(conversation) == team_policy


def test_severity_change_recomputes_due_times(world):
    SLAPolicy.objects.create(
        name="High",
        severity=3,
        first_response_minutes=15,
        next_response_minutes=30,
        resolution_minutes=240,
    )
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    with time_machine.travel(at(minutes=5), tick=False):
        set_severity(conversation_id=conversation.pk, severity=3, actor=world["agent"])
    assert fresh(conversation).first_response_due == at(minutes=15)  # counted from arrival


def test_a_policy_edit_recomputes_open_conversations(world):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    SLAPolicy.objects.filter(pk=world["policy"].pk).update(first_response_minutes=30)
    assert sla_reactions.recompute_open() == 1
    assert fresh(conversation).first_response_due == at(minutes=30)


def test_the_sweep_warns_then_breaches_once_each(world, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
        assign_to(conversation, world["agent"])
    with time_machine.travel(at(minutes=47), tick=False):
        assert sla_sweep.sweep().warnings == 0
    with (
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(at(minutes=49), tick=False),
    ):
        assert (sla_sweep.sweep().warnings, sla_sweep.sweep().warnings) == (1, 0)
    assert mail.outbox[-1].to == ["alice@example.com"] and "due soon" in mail.outbox[-1].subject
    with (
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(at(minutes=61), tick=False),
    ):
        first, second = sla_sweep.sweep(), sla_sweep.sweep()
    assert (first.breaches, second.breaches) == (1, 0)
    assert fresh(conversation).sla_breached
    assert set(mail.outbox[-1].to) == {"alice@example.com", "lead@example.com"}
    alerts = list(
        SLAAlert.objects.filter(conversation=conversation).values_list(
            "target", "kind", "due_at", "late"
        )
    )
    assert alerts == [
        ("first_response", "warning", at(hours=1), False),
        ("first_response", "breach", at(hours=1), False),
    ]
    assert list(Event.objects.filter(type__startswith="sla.").values_list("type", flat=True)) == [
        "sla.warning",
        "sla.breached",
    ]
    assert conversation.sla_next_check_at is None or fresh(conversation).sla_next_check_at > at(
        minutes=61
    )


def assign_to(conversation, agent):
    Conversation.objects.filter(pk=conversation.pk).update(assignee=agent)


def test_a_sweep_an_hour_late_raises_the_breach_marked_late_and_skips_the_stale_warning(world):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    with time_machine.travel(at(hours=2), tick=False):
        result = sla_sweep.sweep()
    assert (result.warnings, result.breaches) == (0, 1)
    assert SLAAlert.objects.get(conversation=conversation).late is True


def test_a_sweep_that_crashes_halfway_is_finished_by_the_next(world, monkeypatch):
    with time_machine.travel(T0, tick=False):
        conversations = [
            customer_writes(world["channel"], n, sender=f"c{n}@example.com") for n in range(4)
        ]
    monkeypatch.setattr(sla_sweep, "SWEEP_BATCH", 2)
    real = sla_sweep.insert_alerts
    calls = {"n": 0}

    def crash_in_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(sla_sweep, "insert_alerts", crash_in_second_batch)
    with time_machine.travel(at(minutes=61), tick=False), pytest.raises(RuntimeError):
        sla_sweep.sweep()
    assert SLAAlert.objects.count() == 2  # the first batch committed, the second rolled back whole
    monkeypatch.setattr(sla_sweep, "insert_alerts", real)
    with time_machine.travel(at(minutes=62), tick=False):
        assert sla_sweep.sweep().breaches == 2
    assert sorted(SLAAlert.objects.values_list("conversation_id", flat=True)) == sorted(
        c.pk for c in conversations
    )
    assert Event.objects.filter(type="sla.breached").count() == 4


def test_escalation_raises_severity_hands_over_and_reminds_a_bounded_number_of_times(world):
    escalations = TeamFactory(slug="escalations")
    TeamPolicy.objects.filter(team=world["team"]).update(
        escalate_severity=True, escalation_team=escalations, reminder_minutes=30, max_reminders=2
    )
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    with time_machine.travel(at(minutes=61), tick=False):
        assert sla_sweep.sweep().breaches == 1
    conversation = fresh(conversation)
    assert (conversation.severity, conversation.team) == (3, escalations)
    for minutes in (91, 121, 151, 181):
        with time_machine.travel(at(minutes=minutes), tick=False):
            sla_sweep.sweep()
    kinds = list(
        SLAAlert.objects.filter(conversation=conversation)
        .order_by("raised_at")
        .values_list("kind", flat=True)
    )
    assert kinds == ["breach", "reminder", "reminder"]


def test_sla_sweep_command_prints_counts(world):
    with time_machine.travel(T0, tick=False):
        customer_writes(world["channel"], 1)
    import io

    out = io.StringIO()
    with time_machine.travel(at(minutes=61), tick=False):
        call_command("sla_sweep", stdout=out)
    assert out.getvalue().startswith("warnings: 0, breaches: 1")


def test_alerts_api_is_scoped(world, client_for):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
    with time_machine.travel(at(minutes=61), tick=False):
        sla_sweep.sweep()
    rows = (
        client_for(world["agent"]).get(f"/api/v1/sla-alerts/?conversation={conversation.pk}").json()
    )
    assert [(r["target"], r["kind"]) for r in rows] == [("first_response", "breach")]
    outsider = AgentFactory(username="eve", teams=[TeamFactory(slug="elsewhere")])
    assert (
        client_for(outsider).get(f"/api/v1/sla-alerts/?conversation={conversation.pk}").json() == []
    )


def test_tagging_with_a_tag_policy_absent_changes_nothing(world):
    with time_machine.travel(T0, tick=False):
        conversation = customer_writes(world["channel"], 1)
        before = fresh(conversation).first_response_due
        apply_tags(
            conversation_id=conversation.pk, tags=tags_for_slugs(["incident"]), actor=world["agent"]
        )
    assert fresh(conversation).first_response_due == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_raise_each_alert_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    SLAPolicy.objects.all().delete()
    team = TeamFactory(slug="support")
    channel = ChannelFactory(slug="mail", default_team=team)
    SLAPolicy.objects.create(
        name="Normal",
        severity=2,
        first_response_minutes=60,
        next_response_minutes=60,
        resolution_minutes=600,
    )
    with time_machine.travel(T0, tick=False):
        conversations = [customer_writes(channel, n, sender=f"p{n}@example.com") for n in range(40)]
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            with time_machine.travel(at(minutes=61), tick=False):
                sla_sweep.sweep()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert SLAAlert.objects.filter(kind="breach").count() == len(conversations)
    assert Event.objects.filter(type="sla.breached").count() == len(conversations)


def test_an_old_or_misdated_mail_starts_its_clock_on_arrival_not_at_its_date(world):
    with time_machine.travel(T0, tick=False):
        conversation = receive_message(
            channel=world["channel"],
            message=NormalizedMessage(
                channel_kind="email",
                external_id="<old@x>",
                thread_key=None,
                sender=SenderRef(
                    kind="email", id="ann@example.com", email="ann@example.com", verified=True
                ),
                text="Sent last week, delivered today",
                html=None,
                attachments=(),
                sent_at=T0 - dt.timedelta(days=7),
                subject="Backlog",
            ),
        ).conversation
    conversation = fresh(conversation)
    assert conversation.created_at == T0
    assert conversation.first_response_due == at(hours=1)
    with time_machine.travel(at(minutes=1), tick=False):
        assert sla_sweep.sweep().breaches == 0


def test_a_sweep_costs_the_same_statements_for_three_or_thirty_due_and_mails_each_once(
    world, django_capture_on_commit_callbacks
):
    def statements_for(n, first):
        with time_machine.travel(T0, tick=False):
            batch = [
                customer_writes(world["channel"], first + i, sender=f"s{first + i}@example.com")
                for i in range(n)
            ]
        for conversation in batch:
            assign_to(conversation, world["agent"])
        with (
            CaptureQueriesContext(connection) as sweep_queries,  # the fan-out after commit too
            time_machine.travel(at(minutes=61), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            result = sla_sweep.sweep()
        assert result.breaches == n
        return len(sweep_queries.captured_queries)

    mail.outbox.clear()
    small = statements_for(3, 0)
    mailed = len(mail.outbox)
    large = statements_for(30, 100)
    assert small == large  # set-wise: no statement per conversation
    assert mailed == 3 and len(mail.outbox) == 33
    assert all(set(m.to) == {"alice@example.com", "lead@example.com"} for m in mail.outbox)
    assert SLAAlert.objects.filter(kind="breach").count() == 33
    assert Event.objects.filter(type="sla.breached").count() == 33
    breached = Conversation.objects.filter(sla_breached=True)
    assert breached.count() == 33
    assert all(c.sla_clock["targets"]["first_response"].get("breached_due") for c in breached)


def test_escalations_of_a_sweep_are_audited_once_each(world):
    from inbox.models import Activity

    TeamPolicy.objects.filter(team=world["team"]).update(escalate_severity=True)
    with time_machine.travel(T0, tick=False):
        batch = [customer_writes(world["channel"], n, sender=f"e{n}@example.com") for n in range(3)]
    with time_machine.travel(at(minutes=61), tick=False):
        assert sla_sweep.sweep().breaches == 3
    assert sorted(
        Activity.objects.filter(verb="sla_breached").values_list("conversation_id", "to_value")
    ) == sorted((c.pk, "first_response") for c in batch)
    assert set(Conversation.objects.values_list("severity", flat=True)) == {3}


@pytest.mark.django_db
def test_an_sla_mail_goes_out_even_when_the_subject_has_line_breaks(settings):
    from django.core import mail

    from routing.sla_notify import notify_by_email

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    agent = AgentFactory(email="alice@example.com")
    conversation = ConversationFactory(subject="Help\nBcc: x@evil.example", assignee=agent)
    event = events.publish(
        "sla.warning", conversation=conversation, data={"target": "first_response"}
    )
    notify_by_email(event=event)
    [sent] = mail.outbox
    assert sent.to == ["alice@example.com"] and "\n" not in sent.subject and sent.bcc == []
