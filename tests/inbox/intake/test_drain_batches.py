"""A drain applies a backlog in claims of many events (one transaction, one outbox INSERT); the
rows it leaves must be those that processing the same events one at a time leaves."""

import json
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from inbox import events
from inbox.intake import processing
from inbox.models import Activity, Contact, Conversation, Event, InboundEvent, Message
from routing.models import TeamPolicy
from tagging.models import ClassificationRule, Tag
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import ChannelFactory
from tests.routing.factories import SLAPolicyFactory

pytestmark = pytest.mark.django_db

EMAILS = Path(__file__).resolve().parents[2] / "fixtures" / "emails"


class Rollback(Exception):
    pass


def api_body(n: int, **fields) -> bytes:
    return json.dumps(
        {
            "id": f"batch-{n}",
            "sender": {"id": f"customer-{n % 4}", "name": f"Customer {n % 4}"},
            "text": f"Message {n}: the invoice export fails" if n % 3 else f"Hello {n}",
            "thread": f"thread-{n % 5}" if n % 2 else None,
            **fields,
        }
    ).encode()


def store_corpus(api, email) -> list[InboundEvent]:
    """API messages (threads, repeat senders, a redelivery, an unreadable body) and every
    fixture mail, as a backlog: received a minute ago, in this order."""
    bodies = [(api, "api", api_body(n)) for n in range(12)]
    bodies.append((api, "api", api_body(3)))  # the same provider message delivered again
    bodies.append((api, "api", b"{not json"))
    bodies += [(email, "email", path.read_bytes()) for path in sorted(EMAILS.glob("*.eml"))]
    bodies += [(api, "api", api_body(n)) for n in range(12, 20)]
    before = timezone.now() - timezone.timedelta(minutes=1)
    return [
        InboundEvent.objects.create(
            channel=channel,
            provider=provider,
            body=body,
            received_at=before + timezone.timedelta(milliseconds=n),
        )
        for n, (channel, provider, body) in enumerate(bodies)
    ]


def snapshot() -> dict:
    """Every row processing writes, with database ids replaced by what identifies the row to a
    person (ids differ between two runs; nothing else may)."""
    conversation_key = {
        c.pk: (c.channel.slug, c.messages.order_by("created_at", "pk").first().external_id)
        for c in Conversation.objects.select_related("channel")
    }
    contact_key = {
        c.pk: sorted(c.identities.values_list("kind", "external_id")) for c in Contact.objects.all()
    }
    message_key = {m.pk: m.external_id for m in Message.objects.all()}

    def ids_to_keys(payload: dict) -> dict:
        out = dict(payload)
        if "conversation" in out:
            out["conversation"] = conversation_key.get(out["conversation"])
        if "message" in out:
            out["message"] = message_key.get(out["message"])
        if "contact" in out:
            out["contact"] = contact_key.get(out["contact"])
        return out

    return {
        "inbound": [
            (e.body[:40], e.status, e.error.split(":")[0], e.attempts)
            for e in InboundEvent.objects.order_by("received_at", "pk")
        ],
        "messages": sorted(
            (
                m.channel.slug,
                m.external_id,
                conversation_key[m.conversation_id],
                contact_key[m.sender_contact_id],
                m.text,
                m.html,
                m.auto_kind,
                m.attachments.count(),
            )
            for m in Message.objects.select_related("channel")
        ),
        "conversations": sorted(
            (
                conversation_key[c.pk],
                contact_key[c.contact_id],
                c.status,
                c.subject,
                c.snippet,
                c.message_count,
                c.severity,
                getattr(c.team, "slug", None),
                getattr(c.assignee, "username", None),
                c.arrived_outside_hours,
                sorted(c.tags.values_list("slug", flat=True)),
                sorted((c.sla_clock or {}).get("targets", {})),
                [getattr(c, f) is None for f in ("first_response_due", "resolution_due")],
                str(c.search_vector),
            )
            for c in Conversation.objects.select_related("team", "assignee")
        ),
        "activity": sorted(
            (conversation_key[a.conversation_id], a.verb, str(a.from_value), str(a.to_value))
            for a in Activity.objects.all()
        ),
        # A conversation's events in the order they were written (a claim may interleave
        # conversations: their order between each other is no promise).
        "outbox": sorted(
            (
                (e.type, conversation_key.get(e.conversation_id), ids_to_keys(e.payload))
                for e in Event.objects.order_by("pk")
            ),
            key=lambda row: str(row[1]),
        ),
    }


def processed(process) -> dict:
    """The rows `process` leaves for the corpus, then rolled back for the next run."""
    team = TeamFactory(slug="support")
    TeamPolicy.objects.create(team=team, assignment=TeamPolicy.Assignment.ROUND_ROBIN)
    for n in range(3):
        AgentFactory(username=f"agent{n}", teams=[team], capacity=4)
    rule = ClassificationRule.objects.create(name="Billing", keywords=["invoice"], position=1)
    rule.tags.set([Tag.objects.create(slug="billing", name="Billing")])
    api = ChannelFactory(slug="partner", kind="api", default_team=team)
    email = ChannelFactory(slug="mail", kind="email", default_team=team)
    stored = store_corpus(api, email)
    process(stored)
    return snapshot()


def run(process, corpus=None) -> dict:
    try:
        with transaction.atomic():
            rows = (corpus or processed)(process)
            raise Rollback
    except Rollback:
        return rows


def two_teams(process, *, routing_rules: bool) -> dict:
    """Two teams sharing an agent, each with its own channel and policy; a suggesting rule; a
    sender who gives a name only later; with `routing_rules`, rules that assign and tag."""
    from routing.models import RoutingRule

    support, sales = TeamFactory(slug="support"), TeamFactory(slug="sales")
    TeamPolicy.objects.create(team=support, assignment=TeamPolicy.Assignment.ROUND_ROBIN)
    TeamPolicy.objects.create(team=sales, assignment=TeamPolicy.Assignment.LEAST_LOAD)
    AgentFactory(username="both", teams=[support, sales], capacity=4)
    AgentFactory(username="agent1", teams=[support], capacity=2)
    AgentFactory(username="agent2", teams=[sales], capacity=2)
    rule = ClassificationRule.objects.create(name="Billing", keywords=["invoice"], position=1)
    rule.tags.set([Tag.objects.create(slug="billing", name="Billing")])
    suggest = ClassificationRule.objects.create(
        name="Ideas", keywords=["export"], position=2, mode=ClassificationRule.Mode.SUGGEST
    )
    suggest.tags.set(
        [Tag.objects.get_or_create(slug="feature-request", defaults={"name": "Feature"})[0]]
    )
    if routing_rules:
        Tag.objects.get_or_create(slug="finance", defaults={"name": "Finance"})
        RoutingRule.objects.create(
            name="Urgent to sales",
            position=1,
            conditions={"keywords": ["urgent"]},
            actions={"assign_team": "sales", "assign_agent": "agent2"},
        )
        RoutingRule.objects.create(
            name="Billing is finance",
            position=2,
            conditions={"tags_any": ["billing"]},
            actions={"add_tags": ["finance", "feature-request"]},
        )
    channels = [
        ChannelFactory(slug="partner", kind="api", default_team=support),
        ChannelFactory(slug="partner2", kind="api", default_team=sales),
    ]
    before = timezone.now() - timezone.timedelta(minutes=1)
    stored = []
    for n in range(40):
        body = json.loads(api_body(n))
        body["sender"]["name"] = "" if n < 8 else body["sender"]["name"]
        if n % 7 == 0:
            body["text"] += " urgent, and the export too"
        stored.append(
            InboundEvent.objects.create(
                channel=channels[n % 3 == 0],
                provider="api",
                body=json.dumps(body).encode(),
                received_at=before + timezone.timedelta(milliseconds=n),
            )
        )
    process(stored)
    rows = snapshot()
    rows["suggestions"] = sorted(
        (c.messages.order_by("created_at", "pk").first().external_id, slug)
        for c in Conversation.objects.all()
        for slug in c.tag_suggestions.values_list("tag__slug", flat=True)
    )
    rows["contacts"] = sorted(Contact.objects.values_list("name", flat=True))
    return rows


SET_WISE = [False, pytest.param(True, marks=pytest.mark.postgres)]


@pytest.fixture(params=SET_WISE, ids=["one-by-one", "set-wise"])
def claims(request, settings, monkeypatch):
    """How a drain applies its claims: each event alone, or runs of them set-wise
    (INBOUND_SET_WISE, PostgreSQL). Yields the number of set-wise runs stored, so a test of the
    twin can see that it ran."""
    from inbox.intake import receive_many

    settings.INBOUND_SET_WISE = request.param
    # One apply partition: the twin is held to one-at-a-time in one arrival order. With several,
    # each partition keeps its own order and what spans senders (round robin, an agent's load)
    # follows the order the partitions' claims happen to apply in (tests/inbox/intake/
    # test_partitions.py).
    settings.INBOUND_PARTITIONS = 1
    runs = []
    real = receive_many.receive_many

    def counted(entries):
        stored = real(entries)
        runs.append(len(stored))
        return stored

    monkeypatch.setattr(receive_many, "receive_many", counted)
    yield runs
    assert bool(runs) == request.param, "the set-wise twin ran exactly when it was chosen"


@pytest.mark.parametrize("routing_rules", [False, True], ids=["no-rules", "routing-rules"])
def test_claims_across_teams_and_rules_leave_the_rows_of_one_at_a_time(
    monkeypatch, routing_rules, claims
):
    """An agent in two teams is counted across both, in arrival order; routing rules that
    assign see each arrival after the one before; suggestions skip tags rules added."""
    from functools import partial

    monkeypatch.setattr(processing, "CLAIM_BATCH", 13)
    corpus = partial(two_teams, routing_rules=routing_rules)
    alone, together = run(one_at_a_time, corpus), run(in_claims, corpus)
    assigned = {c[8] for c in together["conversations"]}
    assert {"both", "agent1", "agent2"} <= assigned
    assert together["suggestions"] or routing_rules
    for table in alone:
        assert together[table] == alone[table], table


def one_at_a_time(stored):
    for event in stored:
        processing.process_inbound_event(event_id=event.pk)


def in_claims(stored):
    assert processing.drain() == len(stored)


def test_a_backlog_drained_in_claims_leaves_the_rows_of_one_at_a_time(monkeypatch, claims):
    monkeypatch.setattr(processing, "CLAIM_BATCH", 7)  # several claims, one with a failure
    alone, together = run(one_at_a_time), run(in_claims)
    assert len(together["messages"]) > 30
    assert {status for _, status, _, _ in together["inbound"]} == {
        "processed",
        "duplicate",
        "failed",
    }
    assert any(c[8] for c in together["conversations"])  # auto-assigned
    assert any(c[8] is None for c in together["conversations"])  # the team was full
    assert any(c[10] for c in together["conversations"])  # tagged by the rule
    for table in alone:
        assert together[table] == alone[table], table


def test_events_published_in_a_rolled_back_savepoint_are_not_written():
    with transaction.atomic(), events.held_back():
        events.publish("contact.created", data={"contact": 1})
        try:
            with transaction.atomic():
                events.publish("contact.created", data={"contact": 2})
                raise Rollback
        except Rollback:
            pass
        events.publish("contact.created", data={"contact": 3})
        assert not Event.objects.exists()  # held until the block ends
    written = Event.objects.order_by("pk").values_list("payload", flat=True)
    assert [p["contact"] for p in written] == [1, 3]


def test_a_message_delivered_twice_in_one_claim_is_stored_once():
    channel = ChannelFactory(slug="partner", kind="api")
    before = timezone.now() - timezone.timedelta(minutes=1)
    # A drain's first claim takes one event; the backlog's second takes the other two together.
    lead, first, again = (
        InboundEvent.objects.create(
            channel=channel, provider="api", body=api_body(n), received_at=before
        )
        for n in (2, 1, 1)
    )
    assert processing.drain() == 3
    assert Message.objects.filter(channel=channel, external_id="batch-1").count() == 1
    statuses = dict(InboundEvent.objects.values_list("pk", "status"))
    assert [statuses[e.pk] for e in (lead, first, again)] == ["processed", "processed", "duplicate"]
    assert Event.objects.filter(type="message.created").count() == 2


def backlog_statements(channel, start: int, count: int) -> int:
    """Statements a drain runs to store `count` waiting messages of new senders in one claim."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    before = timezone.now() - timezone.timedelta(minutes=1)
    for n in range(start, start + count):
        body = json.dumps(
            {
                "id": f"backlog-{n}",
                "sender": {"id": f"sender-{n}", "name": f"Sender {n}"},
                "text": f"Message {n}: the invoice export fails",
                "thread": f"backlog-thread-{n}",
            }
        ).encode()
        InboundEvent.objects.create(channel=channel, provider="api", body=body, received_at=before)
    with CaptureQueriesContext(connection) as queries:
        assert processing.drain() == count
    return len(queries)


@pytest.mark.postgres  # the set-wise twin's SQL
@pytest.mark.django_db(transaction=True)  # committed set-up: reference rows come from cache
def test_a_backlog_claim_costs_the_same_statements_for_ten_messages_as_for_forty(
    settings, monkeypatch
):
    """Through a backlog, messages are stored set-wise: a claim of forty new conversations,
    tagged, auto-assigned and on the SLA clock, costs what a claim of ten costs, give or take
    the few statements that do not depend on the claim (a full run of the suite once measured
    133 against 142): one statement per message would add thirty."""
    from core import refcache

    # This process's reference copies stay as loaded: a generation check that finds another
    # process's edit reloads them (5 statements) in whichever claim it falls.
    monkeypatch.setattr(refcache, "CHECK_SECONDS", 3600.0)
    settings.INBOUND_SET_WISE = True
    team = TeamFactory(slug="support")
    TeamPolicy.objects.create(team=team, assignment=TeamPolicy.Assignment.ROUND_ROBIN)
    AgentFactory(username="agent0", teams=[team], capacity=100)
    rule = ClassificationRule.objects.create(name="Billing", keywords=["invoice"], position=1)
    rule.tags.set([Tag.objects.create(slug="billing", name="Billing")])
    channel = ChannelFactory(slug="partner", kind="api", default_team=team)
    SLAPolicyFactory()  # conversations open at normal severity

    backlog_statements(channel, 0, 1)  # a running worker has its copies of the rules loaded
    ten, forty = backlog_statements(channel, 1, 10), backlog_statements(channel, 11, 40)
    assert forty - ten < 15, (ten, forty)
    stored = Conversation.objects.filter(channel=channel)
    assert stored.count() == 51
    assert not stored.filter(assignee__isnull=True).exists()
    assert not stored.filter(first_response_due__isnull=True).exists()
    assert stored.filter(tags__slug="billing").count() == 51


def screened_backlog(process) -> dict:
    """The corpus with one sender blocked and one marked as spam (issue 21): their messages are
    filed apart (blocked: held, nothing run; spam: in spam, no hooks), whichever path stores them."""
    for handle, fields in (
        ("customer-1", {"blocked_at": timezone.now()}),
        ("customer-2", {"spam": True}),
    ):
        contact = Contact.objects.create(name=handle, **fields)
        contact.identities.create(kind="api", external_id=handle, verified=True)
    return processed(process)


def test_blocked_and_spam_senders_in_a_backlog_leave_the_rows_of_one_at_a_time(monkeypatch, claims):
    monkeypatch.setattr(processing, "CLAIM_BATCH", 7)
    alone, together = run(one_at_a_time, screened_backlog), run(in_claims, screened_backlog)
    statuses = {c[2] for c in together["conversations"]}
    assert {"blocked", "spam", "open"} <= statuses
    held = [c for c in together["conversations"] if c[2] in ("blocked", "spam")]
    assert all(c[8] is None and c[10] == [] and c[11] == [] for c in held)
    for table in alone:
        assert together[table] == alone[table], table
