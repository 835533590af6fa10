"""Messenger and Instagram contacts get their profile name from the Graph API (played by a local
HTTP server): looked up once after the first message, never during intake, through the SSRF
guard; a failure leaves the id and is retried with backoff; a known name is never refetched."""

import datetime as dt

import pytest
from django.utils import timezone

from inbox.intake import profiles
from inbox.intake.tasks import lookup_contact_profiles
from inbox.models import Contact, Message, ProfileLookup
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import post_meta, provider_client

pytestmark = pytest.mark.django_db

SECRET = "meta-app-secret"


@pytest.fixture
def channel(team, http_server, settings):
    settings.META_GRAPH_BASE_URL = http_server.url
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return ChannelFactory(
        slug="meta",
        kind="meta",
        secret=SECRET,
        default_team=team,
        config={
            "verify_token": "let-me-in",
            "access_token": "EAAG-page-token",
            "instagram_access_token": "IGQ-token",
        },
    )


@pytest.fixture
def customer_writes(channel, django_capture_on_commit_callbacks):
    """A customer's message through the signed webhook, processed as after commit."""

    def write(mid, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            post_message(mid, **kwargs)
        return Message.objects.get(external_id=mid)

    return write


def post_message(mid, *, sender="PSID-7", platform="messenger", text="Hello"):
    body = {
        "object": "page" if platform == "messenger" else "instagram",
        "entry": [
            {
                "id": "PAGE-1",
                "time": 1700000000000,
                "messaging": [
                    {
                        "sender": {"id": sender},
                        "recipient": {"id": "PAGE-1"},
                        "timestamp": 1700000000000,
                        "message": {"mid": mid, "text": text},
                    }
                ],
            }
        ],
    }
    response = post_meta(provider_client(), "meta", body, secret=SECRET)
    assert response.status_code == 200


def test_a_messenger_contact_gets_its_name_once_after_the_first_message(
    customer_writes, http_server
):
    message = customer_writes("m_1")
    contact = message.sender_contact
    assert contact.name == ""  # stored at once, by its id
    assert not http_server.requests  # nothing fetched during intake
    lookup = ProfileLookup.objects.get(contact=contact)
    assert (lookup.platform, lookup.external_id) == ("messenger", "PSID-7")

    http_server.respond(200, {"name": "Dana Customer", "id": "PSID-7"})
    assert lookup_contact_profiles.delay().get() == 1

    [request] = http_server.requests
    assert (request.method, request.path) == ("GET", "/v21.0/PSID-7?fields=name")
    assert request.headers["authorization"] == "Bearer EAAG-page-token"
    contact.refresh_from_db()
    assert contact.name == "Dana Customer"
    lookup.refresh_from_db()
    assert lookup.next_attempt_at is None and lookup.fetched_at and lookup.attempts == 1

    # Known now: the next message asks Meta nothing, and the sweep finds nothing due.
    customer_writes("m_2")
    assert profiles.run_due_lookups() == 0
    assert len(http_server.requests) == 1
    assert ProfileLookup.objects.count() == 1


def test_an_instagram_contact_gets_name_and_username(customer_writes, http_server):
    message = customer_writes("ig_1", sender="IGSID-3", platform="instagram")
    http_server.respond(200, {"name": "Rui Costa", "username": "rui.costa", "id": "IGSID-3"})
    profiles.run_due_lookups()
    [request] = http_server.requests
    assert request.path == "/v21.0/IGSID-3?fields=name,username"
    assert request.headers["authorization"] == "Bearer IGQ-token"
    contact = Contact.objects.get(pk=message.sender_contact_id)
    assert contact.name == "Rui Costa"
    assert contact.attributes["instagram_username"] == "rui.costa"


def test_an_instagram_profile_without_a_name_is_shown_by_its_username(customer_writes, http_server):
    message = customer_writes("ig_2", sender="IGSID-4", platform="instagram")
    http_server.respond(200, {"username": "quiet.one", "id": "IGSID-4"})
    profiles.run_due_lookups()
    assert Contact.objects.get(pk=message.sender_contact_id).name == "@quiet.one"


def test_a_failed_lookup_leaves_the_id_and_is_retried_later(customer_writes, http_server):
    message = customer_writes("m_1")
    http_server.respond(500, {"error": {"message": "An unexpected error has occurred."}})

    assert profiles.run_due_lookups() == 1

    contact = Contact.objects.get(pk=message.sender_contact_id)
    assert contact.name == ""
    lookup = ProfileLookup.objects.get(contact=contact)
    assert lookup.attempts == 1
    assert "Meta answered 500: An unexpected error has occurred." in lookup.last_error
    wait = (lookup.next_attempt_at - timezone.now()).total_seconds()
    assert 50 < wait <= 60
    assert profiles.run_due_lookups() == 0  # not yet due
    assert len(http_server.requests) == 1

    ProfileLookup.objects.filter(pk=lookup.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    http_server.respond(200, {"name": "Dana Customer"})
    assert profiles.run_due_lookups() == 1
    contact.refresh_from_db()
    assert contact.name == "Dana Customer"
    lookup.refresh_from_db()
    assert (lookup.attempts, lookup.last_error, lookup.next_attempt_at) == (2, "", None)


def test_a_lookup_that_keeps_failing_is_given_up_with_its_reason(customer_writes, http_server):
    message = customer_writes("m_1")
    lookup = ProfileLookup.objects.get(contact_id=message.sender_contact_id)
    ProfileLookup.objects.filter(pk=lookup.pk).update(attempts=len(profiles.BACKOFF))
    http_server.respond(400, {"error": {"message": "(#100) No profile available", "code": 100}})
    lookup = profiles.look_up(lookup_id=lookup.pk)
    assert lookup.next_attempt_at is None and lookup.fetched_at is None
    assert "No profile available" in lookup.last_error
    customer_writes("m_2")  # not queued again: given up is given up
    assert profiles.run_due_lookups() == 0


def test_the_lookup_goes_through_the_ssrf_guard(customer_writes, http_server, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = []  # the local server is an internal address
    message = customer_writes("m_1")
    profiles.run_due_lookups()
    assert not http_server.requests
    lookup = ProfileLookup.objects.get(contact_id=message.sender_contact_id)
    assert "internal address" in lookup.last_error and lookup.next_attempt_at is not None


def test_a_name_given_meanwhile_is_kept_and_named_contacts_are_not_looked_up(
    customer_writes, http_server
):
    message = customer_writes("m_1")
    Contact.objects.filter(pk=message.sender_contact_id).update(name="Dana (VIP)")
    http_server.respond(200, {"name": "Dana Customer"})
    profiles.run_due_lookups()
    assert Contact.objects.get(pk=message.sender_contact_id).name == "Dana (VIP)"

    named = Contact.objects.create(name="Known Person")
    named.identities.create(kind="messenger", external_id="PSID-9")
    customer_writes("m_9", sender="PSID-9")
    assert not ProfileLookup.objects.filter(contact=named).exists()


def test_a_bad_id_is_never_put_in_the_graph_url(channel, http_server):
    contact = Contact.objects.create()
    lookup = ProfileLookup.objects.create(
        contact=contact,
        channel=channel,
        platform="messenger",
        external_id="../me/accounts",
        next_attempt_at=timezone.now(),
    )
    lookup = profiles.look_up(lookup_id=lookup.pk)
    assert "is not a valid id" in lookup.last_error
    assert not http_server.requests


def test_a_drained_backlog_queues_one_lookup_per_unnamed_contact(channel, http_server):
    """The set-wise path (a drain of many events, inbox.intake.receive_many) queues them too."""
    import json

    from inbox.intake import processing
    from inbox.models import InboundEvent

    def body(mid, sender):
        return json.dumps(
            {
                "object": "page",
                "entry": [
                    {
                        "id": "PAGE-1",
                        "time": 1700000000000,
                        "messaging": [
                            {
                                "sender": {"id": sender},
                                "recipient": {"id": "PAGE-1"},
                                "timestamp": 1700000000000,
                                "message": {"mid": mid, "text": "hi"},
                            }
                        ],
                    }
                ],
            }
        ).encode()

    for n, sender in enumerate(["PSID-1", "PSID-2", "PSID-1", "PSID-3"]):
        InboundEvent.objects.create(
            channel=channel,
            provider="meta",
            body=body(f"m_{n}", sender),
            received_at=timezone.now(),
        )
    assert processing.drain() == 4
    assert not http_server.requests
    assert sorted(ProfileLookup.objects.values_list("external_id", flat=True)) == [
        "PSID-1",
        "PSID-2",
        "PSID-3",
    ]
    for name in ("One", "Two", "Three"):
        http_server.respond(200, {"name": name})
    assert profiles.run_due_lookups() == 3
    assert sorted(Contact.objects.values_list("name", flat=True)) == ["One", "Three", "Two"]
