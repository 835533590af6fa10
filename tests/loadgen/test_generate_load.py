"""manage.py generate_load: what it writes is data the product itself could have written."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from inbox import search
from inbox.models import (
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    Status,
)
from loadgen import runs, workers
from tagging.models import ConversationTag

N = 700


def generate(**kw):
    options = {"conversations": N, "messages_per": 3, "batch_size": 200, "no_progress": True}
    options.update(kw)
    call_command("generate_load", **options)


@pytest.fixture
def generated(db):
    started = timezone.now()
    generate()
    return started


def test_every_row_passes_the_models_validation(generated):
    for model in (Conversation, Message, Contact, ContactIdentity, ConversationTag):
        sample = list(model.objects.order_by("?")[:40])
        assert sample, model
        for row in sample:
            row.full_clean()  # field choices, lengths, uniqueness, foreign keys


def test_proportions_look_like_a_real_support_inbox(generated):
    assert Conversation.objects.count() == N
    assert N * 2.5 <= Message.objects.count() <= N * 3.5
    by_status = dict(Conversation.objects.values_list("status").annotate(n=Count("id")))
    assert 0.6 <= by_status[Status.RESOLVED] / N <= 0.8
    assert set(by_status) == {Status.RESOLVED, Status.OPEN, Status.PENDING, Status.SNOOZED}
    feature = ConversationTag.objects.filter(tag__slug="feature-request").count()
    assert 0.08 <= feature / N <= 0.22  # about 1 in 7
    kinds = set(Conversation.objects.values_list("channel__kind", flat=True))
    assert kinds == set(Channel.Kind.values)
    severities = dict(Conversation.objects.values_list("severity").annotate(n=Count("id")))
    assert max(severities, key=severities.get) == 2  # mostly normal
    # Contacts come back: fewer contacts than conversations, some with several.
    assert Contact.objects.count() < 0.8 * N
    assert Contact.objects.annotate(n=Count("conversations")).filter(n__gte=3).exists()
    assert Conversation.objects.values("team").distinct().count() >= 2
    assert Conversation.objects.exclude(assignee=None).values("assignee").distinct().count() >= 3
    assert Conversation.objects.filter(assignee=None, status=Status.OPEN).exists()


def test_due_times_agree_with_status(generated):
    for c in Conversation.objects.all():
        if c.status == Status.RESOLVED:
            assert c.resolved_at and c.resolved_at >= c.last_message_at
            assert (c.first_response_due, c.next_response_due, c.resolution_due) == (None,) * 3
            assert not c.sla_breached
        elif c.status == Status.OPEN:
            assert c.resolution_due is not None
            assert c.resolved_at is None
            dues = [d for d in (c.first_response_due, c.next_response_due, c.resolution_due) if d]
            if c.sla_breached:
                assert min(dues) <= timezone.now()
            else:
                assert min(dues) > generated
                assert c.sla_next_check_at is not None
        else:  # pending, snoozed: clocks paused, nothing due
            assert c.sla_clock["paused_since"]
            assert c.resolution_due is None and c.sla_next_check_at is None
            assert (c.snoozed_until is not None) == (c.status == Status.SNOOZED)
        if c.first_response_at is None:
            assert c.last_outbound_at is None
        assert c.created_at <= c.last_message_at
    for c in Conversation.objects.order_by("?")[:60]:
        messages = list(c.messages.order_by("created_at", "id"))
        assert len(messages) == c.message_count
        assert messages[0].direction == "in"
        assert messages[-1].created_at <= c.last_message_at
        assert c.snippet == messages[-1].text[:200]
        if c.status == Status.OPEN:
            assert messages[-1].direction == "in"  # waiting for us


def test_generated_conversations_are_found_by_full_text_search(generated):
    found = search.search(Conversation.objects.all(), "invoice")
    assert 0 < found.count() < N
    for c in found[:20]:
        text = " ".join([c.subject, *c.messages.values_list("text", flat=True)]).lower()
        assert "invoice" in text


def test_an_interrupted_run_continues_without_duplicates(db, monkeypatch):
    real = workers.write_batch
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(workers, "write_batch", flaky)
    with pytest.raises(SystemExit):
        generate(run="resume")
    assert Conversation.objects.count() == 400  # two whole batches, the third rolled back
    monkeypatch.setattr(workers, "write_batch", real)
    generate(run="resume")
    tokens = set(Conversation.objects.values_list("reply_token", flat=True))
    assert tokens == {runs.reply_token("resume", n) for n in range(N)}
    generate(run="resume")  # complete: nothing more
    assert Conversation.objects.count() == N
    generate(run="resume", conversations=N + 100)  # a larger total adds the difference
    assert Conversation.objects.count() == N + 100


def indexes() -> set:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            [runs.BULK_TABLES],
        )
        return set(cursor.fetchall())


@pytest.mark.postgres
def test_bulk_mode_rebuilds_every_index_and_leaves_consistent_rows(db):
    call_command("seed_demo", conversations=0, history_days=0)
    before = indexes()
    generate(defer_indexes=True, run="bulk")
    assert indexes() == before
    assert runs.deferred_count() == 0
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # every deferred foreign key, checked now
        cursor.execute(
            "SELECT count(*) FROM inbox_message m LEFT JOIN inbox_conversation c "
            "ON c.id = m.conversation_id WHERE c.id IS NULL"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM inbox_conversation WHERE search_vector IS NULL")
        assert cursor.fetchone()[0] == 0
    assert Conversation.objects.count() == N


def test_bad_arguments_are_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        generate(run="Bad Name!")
    with pytest.raises(CommandError):
        generate(conversations=-1)


def test_conversation_times_are_in_the_past_or_near_future(generated):
    soon = timezone.now() + dt.timedelta(days=8)
    assert not Conversation.objects.filter(created_at__gt=timezone.now()).exists()
    assert not Conversation.objects.filter(resolution_due__gt=soon).exists()


@pytest.mark.postgres
def test_search_vectors_are_what_inbox_search_builds(generated):
    """The vector written in text form equals the one inbox.search builds message by message."""
    for c in Conversation.objects.order_by("?")[:60]:
        written = c.search_vector
        Conversation.objects.filter(pk=c.pk).update(search_vector=None)
        for i, text in enumerate(
            c.messages.order_by("created_at", "id").values_list("text", flat=True)
        ):
            search.index_text(conversation_id=c.pk, text=text, subject=c.subject if i == 0 else "")
        assert written == Conversation.objects.values_list("search_vector", flat=True).get(pk=c.pk)
        assert written  # every generated conversation has words to find


def test_batches_written_out_of_order_are_resumed_by_what_is_missing(db):
    call_command("seed_demo", conversations=0, history_days=0)
    job = runs.Job(runs.World.load("gaps"), run="gaps", seed=1, messages_per=2)
    specs = runs.pending("gaps", 500, 100)
    assert specs == [(b, b * 100, 100) for b in range(5)]
    runs.generate(job, [specs[1], specs[3]])  # as two workers may have left it
    assert runs.pending("gaps", 500, 100) == [specs[0], specs[2], specs[4]]
    runs.generate(job, runs.pending("gaps", 550, 100))
    assert runs.pending("gaps", 550, 100) == []
    assert runs.pending("gaps", 580, 100) == [(5, 550, 30)]  # the rest of a cut batch
    tokens = set(Conversation.objects.values_list("reply_token", flat=True))
    assert tokens == {runs.reply_token("gaps", n) for n in range(550)}


def snapshot() -> dict:
    """What a run wrote, by conversation, without the ids and times that differ between runs."""
    return {
        c.reply_token: (
            c.subject,
            c.status,
            c.severity,
            c.team_id,
            c.assignee_id,
            c.channel_id,
            c.contact.email,
            c.message_count,
            c.search_vector,
            c.sla_breached,
            tuple(c.messages.order_by("id").values_list("direction", "text")),
            tuple(sorted(c.tag_links.values_list("tag__slug", flat=True))),
        )
        for c in Conversation.objects.select_related("contact")
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_processes_write_what_one_process_writes_and_resume_after_a_failure(monkeypatch):
    generate(run="same", workers=1)
    serial = snapshot()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE inbox_contact, inbox_conversation CASCADE")
    before = indexes()
    real = workers.write_batch
    lost = runs.reply_token("same", 400)

    def failing(batch, **kwargs):
        if batch.conversations[0]["reply_token"] == lost:
            raise RuntimeError("a worker lost its connection")
        return real(batch, **kwargs)

    monkeypatch.setattr(workers, "write_batch", failing)
    with pytest.raises(RuntimeError):
        generate(run="same", workers=2, defer_indexes=True)
    assert not Conversation.objects.filter(reply_token=lost).exists()  # that batch rolled back
    assert runs.deferred_count() > 0  # the dropped indexes wait in the stash for the rerun
    monkeypatch.setattr(workers, "write_batch", real)
    generate(run="same", workers=2)
    assert runs.deferred_count() == 0
    assert indexes() == before
    assert snapshot() == serial
