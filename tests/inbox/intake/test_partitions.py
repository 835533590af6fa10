"""Apply partitions (inbox.intake.partitions): drains of different partitions apply at the same
moment, each in its own transaction on its own connection, and one partition's messages still
apply in arrival order when eight drains run at once."""

import json
import threading

import pytest
from django.db import connection
from django.utils import timezone

from inbox import hooks
from inbox.intake import partitions, processing
from inbox.intake.adapters import get_adapter
from inbox.models import ContactIdentity, InboundEvent, Message
from tests.inbox.factories import ChannelFactory, ContactFactory
from tests.support.faultstack import wait_for
from tests.support.pglock import direct_connection

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(90)]


def body(sender: str, n: int) -> bytes:
    return json.dumps({"id": f"{sender}-{n}", "sender": {"id": sender}, "text": f"#{n}"}).encode()


def stored(channel, sender: str, n: int) -> InboundEvent:
    return InboundEvent.objects.create(
        channel=channel, provider="api", body=body(sender, n), received_at=timezone.now()
    )


def partition_of(sender: str) -> int:
    """Where parsing puts a sender's messages."""
    event = InboundEvent(provider="api", body=body(sender, 0), received_at=timezone.now())
    return partitions.of(get_adapter("api").parse(event))


def in_threads(*calls) -> list[BaseException]:
    """Run each call in its own thread (its own database connection); the errors raised."""
    errors: list[BaseException] = []

    def run(call):
        try:
            call()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def apply_locks_held(observer) -> set[tuple[int, int]]:
    """(backend pid, partition) of every apply lock granted in this database, read live."""
    rows = observer.execute(
        "SELECT pid, objid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = %s AND database = (SELECT oid FROM pg_database"
        " WHERE datname = current_database())",
        [partitions.APPLY_LOCK],
    ).fetchall()
    return {(pid, int(objid)) for pid, objid in rows}


@pytest.mark.django_db(transaction=True)
def test_drains_of_two_partitions_apply_at_the_same_moment(settings):
    settings.INBOUND_PARTITIONS = 4
    channel = ChannelFactory(slug="partner", kind="api")
    ann = "ann"
    bob = next(f"bob{n}" for n in range(50) if partition_of(f"bob{n}") != partition_of(ann))
    stored(channel, ann, 1)
    stored(channel, bob, 1)
    inside = threading.Barrier(2, timeout=15)  # both drains are in their apply transactions
    observed = threading.Event()

    def hold(arrivals):
        inside.wait()
        observed.wait(timeout=15)

    def both_held():
        held = apply_locks_held(observer)
        return held if len(held) >= 2 else None

    hooks.register("messages_received", hold, order=1)
    observer = direct_connection()
    drains = threading.Thread(
        target=in_threads,
        args=(
            lambda: processing.drain(first=partition_of(ann)),
            lambda: processing.drain(first=partition_of(bob)),
        ),
    )
    try:
        drains.start()
        held = wait_for(
            both_held, timeout=20, message="the two drains never held their apply locks together"
        )
    finally:
        observed.set()
        drains.join(timeout=60)
        hooks.unregister("messages_received", hold)
        observer.close()

    # Two backends, each holding its own partition's lock at the same instant.
    assert {partition for _, partition in held} == {partition_of(ann), partition_of(bob)}
    assert len({pid for pid, _ in held}) == 2
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert Message.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_one_partitions_messages_stay_in_arrival_order_under_eight_drains(settings):
    settings.INBOUND_PARTITIONS = 4
    channel = ChannelFactory(slug="partner", kind="api")
    senders = [f"customer-{n}" for n in range(12)]
    for n in range(20):  # interleaved: each sender's 20 messages spread over the whole queue
        for sender in senders:
            stored(channel, sender, n)

    errors = in_threads(*[lambda: processing.drain(limit=5) for _ in range(8)])

    assert errors == []
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"processed"}
    for sender in senders:
        applied = list(
            Message.objects.filter(sender_contact__identities__external_id=sender)
            .order_by("pk")
            .values_list("external_id", flat=True)
        )
        assert applied == [f"{sender}-{n}" for n in range(20)], sender
    assert len({partition_of(sender) for sender in senders}) > 1  # more than one partition ran


@pytest.mark.django_db(transaction=True)
def test_one_contacts_two_handles_in_two_partitions_apply_under_eight_drains(settings):
    """A contact known by two handles that hash to different partitions (merged contacts, a
    thread continued by another identity): drains of both partitions lock its contact and
    conversation. Nothing fails, a deadlock PostgreSQL breaks is taken again, each handle's
    messages stay in order and land in the contact's one conversation."""
    settings.INBOUND_PARTITIONS = 4
    channel = ChannelFactory(slug="partner", kind="api")
    handles, contacts = [], {}
    for k in range(3):
        first = f"merged{k}-a"
        second = next(
            f"merged{k}-b{n}"
            for n in range(50)
            if partition_of(f"merged{k}-b{n}") != partition_of(first)
        )
        contact = ContactFactory()
        for handle in (first, second):
            ContactIdentity.objects.create(contact=contact, kind="api", external_id=handle)
            contacts[handle] = contact.pk
        handles += [first, second]
    senders = handles + [f"customer-{n}" for n in range(6)]
    for n in range(15):
        for sender in senders:
            stored(channel, sender, n)

    errors = in_threads(*[lambda: processing.drain(limit=5) for _ in range(8)])
    processing.drain()  # what a drain gave up on after retries is the next drain's

    assert errors == []
    assert set(InboundEvent.objects.values_list("status", flat=True)) == {"processed"}
    for sender in senders:
        applied = list(
            Message.objects.filter(channel=channel, external_id__startswith=f"{sender}-")
            .order_by("pk")
            .values_list("external_id", flat=True)
        )
        assert applied == [f"{sender}-{n}" for n in range(15)], sender
    for handle, contact in contacts.items():
        conversations = set(
            Message.objects.filter(external_id__startswith=f"{handle}-").values_list(
                "conversation__contact_id", "conversation_id"
            )
        )
        assert len(conversations) == 1 and next(iter(conversations))[0] == contact, handle
    per_contact = {
        contact: set(
            Message.objects.filter(conversation__contact_id=contact).values_list(
                "conversation_id", flat=True
            )
        )
        for contact in contacts.values()
    }
    assert all(len(ids) == 1 for ids in per_contact.values())


@pytest.mark.django_db(transaction=True)
def test_a_claim_broken_out_of_a_deadlock_is_taken_again_whole(settings, caplog):
    """Two contacts, each known by a handle in partition A and one in partition B. A's claim
    reaches contact X then Y, B's reaches Y then X, both holding the first while the other takes
    its own: PostgreSQL fails one of them. That claim is rolled back whole and taken again once
    the other commits: every event processed on its first recorded attempt, in order."""
    settings.INBOUND_PARTITIONS = 4
    settings.INBOUND_SET_WISE = False  # one message at a time: the hook runs after each
    channel = ChannelFactory(slug="partner", kind="api")
    xa, ya = next(
        (f"x{n}-a", f"y{n}-a")
        for n in range(200)
        if partition_of(f"x{n}-a") == partition_of(f"y{n}-a")
    )
    a = partition_of(xa)
    xb, yb = next(
        (f"x{n}-b", f"y{n}-b")
        for n in range(200)
        if partition_of(f"x{n}-b") == partition_of(f"y{n}-b") != a
    )
    b = partition_of(xb)
    for handles in ((xa, xb), (ya, yb)):
        contact = ContactFactory()
        for handle in handles:
            ContactIdentity.objects.create(contact=contact, kind="api", external_id=handle)
    # A's claim reaches x then y; B's, y then x; then each handle's second message.
    for sender, n in ((xa, 1), (yb, 1), (ya, 1), (xb, 1), (ya, 2), (xb, 2)):
        stored(channel, sender, n)
    both_hold_one = threading.Barrier(2, timeout=15)
    local = threading.local()

    def hold_first(arrivals):
        if not getattr(local, "held", False):
            local.held = True
            both_hold_one.wait()

    hooks.register("messages_received", hold_first, order=1)
    try:
        errors = in_threads(lambda: processing.drain(first=a), lambda: processing.drain(first=b))
    finally:
        hooks.unregister("messages_received", hold_first)

    assert errors == []
    # Every event applied on its first recorded attempt: the deadlock cost no attempt towards
    # parking it as failed, and left no error on it.
    assert set(InboundEvent.objects.values_list("status", "attempts", "error")) == {
        ("processed", 1, "")
    }
    assert Message.objects.count() == 6
    for handle in (ya, xb):  # whichever claim PostgreSQL failed, its later message came after
        applied = Message.objects.filter(external_id__startswith=f"{handle}-").order_by("pk")
        assert list(applied.values_list("external_id", flat=True)) == [f"{handle}-1", f"{handle}-2"]
    assert "deadlocked with another partition's" in caplog.text  # it did happen, and was met


@pytest.mark.django_db
def test_an_event_without_a_sender_never_overtakes_an_older_event_of_another_partition(settings):
    """An edit or a delivery status names no sender, so it cannot follow the message it refers
    to into that message's partition: the fixed partition's drain takes it only once every older
    event is applied."""
    settings.INBOUND_PARTITIONS = 4
    channel = ChannelFactory(slug="partner", kind="api")
    sender = "customer-0"  # any partition, the fixed one too
    message = stored(channel, sender, 1)
    senderless = InboundEvent.objects.create(
        channel=channel, provider="api", body=b"{not json", received_at=timezone.now()
    )
    partitions.sort_waiting(processing._parse)
    message.refresh_from_db()
    senderless.refresh_from_db()
    assert message.partition == partition_of(sender)
    assert senderless.partition == partitions.SENDERLESS

    fixed = InboundEvent.objects.filter(partitions.waiting_in(partitions.FIXED))
    assert not fixed.filter(pk=senderless.pk).exists()
    InboundEvent.objects.filter(pk=message.pk).update(status=InboundEvent.Status.PROCESSED)
    assert fixed.filter(pk=senderless.pk).exists()
