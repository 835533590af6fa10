"""The bell in the top bar of every page, its panel, and marking notifications read."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from routing.models import Notification
from tests.accounts.factories import AgentFactory, TeamFactory
from tests.inbox.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db

BELL = re.compile(r'<span class="bell-count" data-bell-count>([^<]*)</span>')


@pytest.fixture
def people():
    team = TeamFactory(slug="support")
    alice = AgentFactory(username="alice", first_name="Alice", last_name="Ames", teams=[team])
    bob = AgentFactory(username="bob", teams=[team])
    conversation = ConversationFactory(
        team=team, channel=ChannelFactory(default_team=team), subject="Printer on fire"
    )
    return {"alice": alice, "bob": bob, "conversation": conversation}


def notify(people, n=1, kind=Notification.Kind.MENTION, **kw):
    return [
        Notification.objects.create(
            recipient=people["bob"],
            kind=kind,
            conversation=people["conversation"],
            actor=people["alice"],
            text=f"@bob look at this {i}",
            created_at=timezone.now(),
            **kw,
        )
        for i in range(n)
    ]


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bell(body: str) -> str:
    [count] = BELL.findall(body)
    return count


def test_every_workspace_page_has_the_bell_with_the_unread_count(people):
    notify(people, 2)
    notify(people, 1, read_at=timezone.now())
    client = as_user(people["bob"])
    conversation = people["conversation"]
    for path in ("/inbox/", f"/inbox/conversations/{conversation.pk}/", "/inbox/product/"):
        body = client.get(path).content.decode()
        assert bell(body) == "2", path
        assert '<span class="visually-hidden">Notifications</span>' in body
    assert bell(as_user(people["alice"]).get("/inbox/").content.decode()) == "0"
    assert "data-bell" not in Client().get("/login/").content.decode()


def test_the_bell_says_99_plus_past_ninety_nine(people):
    notify(people, 101)
    assert bell(as_user(people["bob"]).get("/inbox/").content.decode()) == "99+"


def test_the_panel_lists_each_notification_linking_to_its_conversation(people):
    notify(people, 1)
    notify(people, 1, kind=Notification.Kind.SLA_BREACHED, read_at=timezone.now())
    response = as_user(people["bob"]).get("/inbox/notifications/", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    pk = people["conversation"].pk
    assert body.count(f'href="/inbox/conversations/{pk}/"') == 2
    assert "Alice Ames · Mentioned you" in body and "SLA breached" in body
    assert f"#{pk} Printer on fire" in body
    assert body.count(">Mark read</button>") == 1  # only the unread one
    assert "Mark all read" in body
    # Someone else's notifications are not in it.
    other = as_user(people["alice"]).get("/inbox/notifications/", HTTP_HX_REQUEST="true")
    assert "Printer on fire" not in other.content.decode()
    assert "Nothing yet" in other.content.decode()
    # Without the script, the same list is a page of its own.
    page = as_user(people["bob"]).get("/inbox/notifications/").content.decode()
    assert "<html" in page and "Alice Ames · Mentioned you" in page


def test_mark_read_and_mark_all_read_from_the_panel(people):
    first, second, _third = notify(people, 3)
    client = as_user(people["bob"])
    response = client.post(f"/inbox/notifications/{first.pk}/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-panel-unread="2"' in response.content.decode()
    first.refresh_from_db()
    assert first.read_at is not None
    assert bell(client.get("/inbox/").content.decode()) == "2"
    # Not hers: a 404, and nothing changes.
    refused = as_user(people["alice"]).post(f"/inbox/notifications/{second.pk}/read/")
    assert refused.status_code == 404
    second.refresh_from_db()
    assert second.read_at is None
    response = client.post("/inbox/notifications/read-all/", {"next": "/inbox/"})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert Notification.objects.filter(recipient=people["bob"], read_at=None).count() == 0
    assert bell(client.get("/inbox/").content.decode()) == "0"


def test_reading_the_panel_needs_a_login_and_marking_needs_a_post(people):
    assert Client().get("/inbox/notifications/").status_code == 302
    [one] = notify(people, 1)
    client = as_user(people["bob"])
    assert client.get(f"/inbox/notifications/{one.pk}/read/").status_code == 405
    assert client.get("/inbox/notifications/read-all/").status_code == 405


def test_the_panel_costs_the_same_queries_for_five_or_thirty(people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    other = ConversationFactory(
        team=people["conversation"].team, channel=people["conversation"].channel, subject=""
    )
    client = as_user(people["bob"])
    notify(people, 5)
    client.get("/inbox/notifications/", HTTP_HX_REQUEST="true")  # warm the session
    with CaptureQueriesContext(connection) as five:
        client.get("/inbox/notifications/", HTTP_HX_REQUEST="true")
    notify(people, 20)
    notify({**people, "conversation": other}, 5)  # untitled: the title from its first message
    with CaptureQueriesContext(connection) as thirty:
        body = client.get("/inbox/notifications/", HTTP_HX_REQUEST="true").content.decode()
    assert body.count("<li class=") == 30
    assert len(thirty) <= len(five) + 1  # + the untitled conversations' first messages
