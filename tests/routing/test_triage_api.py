"""Triage through the REST API: every write, its audit row, its event, and who may do it."""

import csv
import datetime as dt
import io
import itertools

import pytest
from django.utils import timezone

from inbox.models import Activity, Conversation, Event
from tagging.models import ConversationTag
from tests.accounts.factories import AgentFactory, LeadFactory
from tests.inbox.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
)
from tests.tagging.factories import ConversationTagFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/conversations/"


@pytest.fixture
def support(team):
    return team


@pytest.fixture
def sales(other_team):
    return other_team


@pytest.fixture
def people(support, sales, admin_user, viewer):
    return {
        "admin": admin_user,
        "viewer": viewer,
        "lead": LeadFactory(username="lead", teams=[support]),
        "agent": AgentFactory(username="alice", teams=[support]),
        "colleague": AgentFactory(username="bob", teams=[support]),
        "seller": AgentFactory(username="carol", teams=[sales]),
    }


def conversation_in(team, **kw):
    return ConversationFactory(team=team, channel=ChannelFactory(default_team=team), **kw)


# --- the matrix: role x action x own/other team ----------------------------------------------

ACTIONS = {
    "tag": lambda c, conv, ctx: c.post(
        f"{URL}{conv.pk}/tags/", {"tags": ["incident"]}, format="json"
    ),
    "untag": lambda c, conv, ctx: c.delete(f"{URL}{conv.pk}/tags/feature-request/"),
    "severity": lambda c, conv, ctx: c.patch(
        f"{URL}{conv.pk}/", {"severity": "high"}, format="json"
    ),
    "status": lambda c, conv, ctx: c.patch(
        f"{URL}{conv.pk}/", {"status": "resolved"}, format="json"
    ),
    "note": lambda c, conv, ctx: c.post(
        f"{URL}{conv.pk}/messages/", {"text": "fyi", "kind": "note"}, format="json"
    ),
    "take": lambda c, conv, ctx: c.post(
        f"{URL}{conv.pk}/assign/", {"assignee": ctx["me"].username}, format="json"
    ),
    "hand_to_colleague": lambda c, conv, ctx: c.post(
        f"{URL}{conv.pk}/assign/", {"team": "support", "assignee": "bob"}, format="json"
    ),
    "move_to_sales_queue": lambda c, conv, ctx: c.post(
        f"{URL}{conv.pk}/assign/", {"team": "sales", "assignee": None}, format="json"
    ),
    "give_to_sales_agent": lambda c, conv, ctx: c.post(
        f"{URL}{conv.pk}/assign/", {"team": "sales", "assignee": "carol"}, format="json"
    ),
    "bulk_severity": lambda c, conv, ctx: c.post(
        f"{URL}bulk/",
        {"ids": [conv.pk], "action": "severity", "severity": "critical"},
        format="json",
    ),
    "read": lambda c, conv, ctx: c.get(f"{URL}{conv.pk}/"),
    "export": lambda c, conv, ctx: c.get(f"{URL}export.csv"),
}

# Expected outcome per (role, action) on a conversation of the support team ("own") and of the
# sales team ("other"). 2xx = allowed; 404 = not visible; 403 = visible but not theirs to do.
OWN = {
    # An admin is in no team, so cannot be the agent of a team's conversation.
    "admin": {**dict.fromkeys(ACTIONS, 200), "take": 403},
    "lead": {**dict.fromkeys(ACTIONS, 200), "give_to_sales_agent": 403},
    "agent": {
        **dict.fromkeys(ACTIONS, 200),
        "move_to_sales_queue": 403,
        "give_to_sales_agent": 403,
        "bulk_severity": 403,
    },
    "viewer": {**dict.fromkeys(ACTIONS, 403), "read": 200, "export": 200},
}
OTHER = {
    "admin": {**dict.fromkeys(ACTIONS, 200), "take": 403, "hand_to_colleague": 200},
    "lead": {**dict.fromkeys(ACTIONS, 404), "export": 200, "bulk_severity": 200},
    "agent": {**dict.fromkeys(ACTIONS, 404), "export": 200, "bulk_severity": 403},
    "viewer": {**dict.fromkeys(ACTIONS, 403), "read": 200, "export": 200},
}


@pytest.mark.parametrize(
    ("role", "where", "action"), list(itertools.product(OWN, ["own", "other"], ACTIONS))
)
def test_role_action_team_matrix(role, where, action, people, support, sales, client_for):
    me = people[role]
    conv = conversation_in(support if where == "own" else sales)
    ConversationTagFactory(conversation=conv, tag__slug="feature-request")
    expected = (OWN if where == "own" else OTHER)[role][action]
    before = (
        Activity.objects.count(),
        Event.objects.count(),
        Conversation.objects.values().get(pk=conv.pk),
    )

    response = ACTIONS[action](client_for(me), conv, {"me": me})

    status = 200 if 200 <= response.status_code < 300 else response.status_code
    assert status == expected, (response.status_code, getattr(response, "data", None))
    if action == "bulk_severity" and status == 200 and where == "other" and role == "lead":
        assert response.json()["not_found"] == [conv.pk]  # reported, not touched
    if expected != 200 or (action == "bulk_severity" and role == "lead" and where == "other"):
        # Refused: nothing moved, nothing audited, nothing published.
        assert (
            Activity.objects.count(),
            Event.objects.count(),
            Conversation.objects.values().get(pk=conv.pk),
        ) == before
        if status != 200:
            assert "detail" in response.json()


def test_export_covers_only_what_the_user_may_see(people, support, sales, client_for):
    own = conversation_in(support, subject="Ours")
    conversation_in(sales, subject="Theirs")
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    client_for(people["agent"]).get(f"{URL}export.csv").streaming_content
                ).decode()
            )
        )
    )
    assert [int(r["id"]) for r in rows] == [own.pk]
    viewer_rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(
                    client_for(people["viewer"]).get(f"{URL}export.csv").streaming_content
                ).decode()
            )
        )
    )
    assert len(viewer_rows) == 2


# --- each write: effect, audit, event ------------------------------------------------------------


def test_tagging_is_audited_published_and_idempotent(
    people, support, client_for, django_capture_on_commit_callbacks, published
):
    conv = conversation_in(support)
    client = client_for(people["agent"])
    with django_capture_on_commit_callbacks(execute=True):
        body = client.post(
            f"{URL}{conv.pk}/tags/", {"tags": ["incident", "ugc"]}, format="json"
        ).json()
        again = client.post(f"{URL}{conv.pk}/tags/", {"tags": ["incident"]}, format="json").json()
    assert body["tags"] == ["incident", "ugc"] == again["tags"]
    assert [e.type for e in published] == ["conversation.tagged"]
    assert published[0].payload["tags"] == ["incident", "ugc"]
    link = ConversationTag.objects.get(conversation=conv, tag__slug="incident")
    assert link.added_by == people["agent"]
    assert list(conv.activities.values_list("verb", "to_value", "actor__username")) == [
        ("tagged", "incident", "alice"),
        ("tagged", "ugc", "alice"),
    ]


def test_untag_and_unknown_tags(people, support, client_for):
    conv = conversation_in(support)
    ConversationTagFactory(conversation=conv, tag__slug="feature-request")
    client = client_for(people["agent"])
    assert client.delete(f"{URL}{conv.pk}/tags/feature-request/").json()["tags"] == []
    assert conv.activities.get(verb="untagged").from_value == "feature-request"
    bad = client.post(f"{URL}{conv.pk}/tags/", {"tags": ["nope"]}, format="json")
    assert bad.status_code == 400 and "nope" in str(bad.json()["tags"])
    assert client.delete(f"{URL}{conv.pk}/tags/nope/").status_code == 400


def test_severity_and_status_changes(
    people, support, client_for, django_capture_on_commit_callbacks, published
):
    conv = conversation_in(support)
    client = client_for(people["agent"])
    with django_capture_on_commit_callbacks(execute=True):
        body = client.patch(
            f"{URL}{conv.pk}/",
            {"severity": "critical", "status": "pending", "reason": "VIP"},
            format="json",
        ).json()
    assert (body["severity"], body["status"]) == ("critical", "pending")
    assert [(e.type, e.payload["changes"]) for e in published] == [
        ("conversation.updated", {"severity": ["normal", "critical"]}),
        ("conversation.updated", {"status": ["open", "pending"]}),
    ]
    assert list(conv.activities.values_list("verb", "from_value", "to_value", "reason")) == [
        ("severity", "normal", "critical", "VIP"),
        ("status", "open", "pending", "VIP"),
    ]


def test_snooze_needs_a_future_time_and_wakes_up(people, support, client_for):
    from inbox.services import wake_snoozed

    conv = conversation_in(support)
    client = client_for(people["agent"])
    assert client.patch(f"{URL}{conv.pk}/", {"status": "snoozed"}, format="json").status_code == 400
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    assert (
        client.patch(
            f"{URL}{conv.pk}/", {"status": "snoozed", "snoozed_until": past}, format="json"
        ).status_code
        == 400
    )
    until = timezone.now() + dt.timedelta(hours=2)
    body = client.patch(
        f"{URL}{conv.pk}/", {"status": "snoozed", "snoozed_until": until.isoformat()}, format="json"
    ).json()
    assert body["status"] == "snoozed"
    assert wake_snoozed() == 0
    Conversation.objects.filter(pk=conv.pk).update(
        snoozed_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert wake_snoozed() == 1
    conv.refresh_from_db()
    assert conv.status == "open" and conv.snoozed_until is None


def test_resolving_then_reopening_counts_the_reopen(people, support, client_for):
    conv = conversation_in(support)
    client = client_for(people["agent"])
    assert client.patch(f"{URL}{conv.pk}/", {"status": "resolved"}, format="json").json()[
        "resolved_at"
    ]
    body = client.patch(f"{URL}{conv.pk}/", {"status": "open"}, format="json").json()
    assert body["resolved_at"] is None
    conv.refresh_from_db()
    assert conv.reopened_count == 1


@pytest.mark.parametrize(
    "field", ["channel", "created_at", "assignee", "team", "contact", "sla_breached", "id"]
)
def test_fields_that_are_not_the_users_are_refused_and_nothing_moves(
    people, support, client_for, field
):
    conv = conversation_in(support)
    before = Conversation.objects.values().get(pk=conv.pk)
    response = client_for(people["agent"]).patch(
        f"{URL}{conv.pk}/", {field: "x", "severity": "high"}, format="json"
    )
    assert response.status_code == 400 and field in str(response.json()["detail"])
    assert Conversation.objects.values().get(pk=conv.pk) == before


def test_invalid_values_are_400_naming_the_field(people, support, client_for):
    conv = conversation_in(support)
    client = client_for(people["agent"])
    assert (
        "severity" in client.patch(f"{URL}{conv.pk}/", {"severity": "urgent"}, format="json").json()
    )
    assert "status" in client.patch(f"{URL}{conv.pk}/", {"status": "closed"}, format="json").json()
    assert "team" in client.post(f"{URL}{conv.pk}/assign/", {"team": "nope"}, format="json").json()
    assert (
        "assignee"
        in client.post(f"{URL}{conv.pk}/assign/", {"assignee": "nobody"}, format="json").json()
    )
    assert "text" in client.post(f"{URL}{conv.pk}/messages/", {"text": "  "}, format="json").json()
    assert (
        "kind"
        in client.post(
            f"{URL}{conv.pk}/messages/", {"text": "x", "kind": "fax"}, format="json"
        ).json()
    )


def test_assignment_records_before_and_after(
    people, support, client_for, django_capture_on_commit_callbacks, published
):
    conv = conversation_in(support)
    client = client_for(people["lead"])
    with django_capture_on_commit_callbacks(execute=True):
        body = client.post(
            f"{URL}{conv.pk}/assign/",
            {"assignee": "bob", "reason": "billing expert"},
            format="json",
        ).json()
        client.post(
            f"{URL}{conv.pk}/assign/", {"assignee": "bob"}, format="json"
        )  # repeat: nothing
    assert (body["team"], body["assignee"]) == ("support", "bob")
    assert [e.type for e in published] == ["conversation.assigned"]
    row = conv.activities.get(verb="assigned")
    assert (row.from_value, row.to_value, row.reason, row.actor.username) == (
        {"team": "support", "assignee": None},
        {"team": "support", "assignee": "bob"},
        "billing expert",
        "lead",
    )
    activity = client.get(f"{URL}{conv.pk}/activity/").json()
    assert activity[-1]["verb"] == "assigned" and activity[-1]["actor"] == "lead"


def test_assignee_must_be_in_the_team(people, support, client_for):
    conv = conversation_in(support)
    response = client_for(people["admin"]).post(
        f"{URL}{conv.pk}/assign/", {"team": "support", "assignee": "carol"}, format="json"
    )
    assert response.status_code == 403
    assert "carol is not a member of support" in response.json()["detail"]


def test_a_reply_via_the_api_is_stored_and_queued(
    people, support, client_for, http_server, settings
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the integration's local stand-in
    channel = ChannelFactory(
        kind="api", default_team=support, config={"callback_url": f"{http_server.url}/cb"}
    )
    conv = ConversationFactory(channel=channel, team=support)
    response = client_for(people["agent"]).post(
        f"{URL}{conv.pk}/messages/", {"text": "On it"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["direction"], body["kind"], body["sender"]["username"]) == (
        "out",
        "message",
        "alice",
    )


def test_bulk_actions(people, support, sales, client_for):
    convs = [conversation_in(support) for _ in range(3)]
    foreign = conversation_in(sales)
    client = client_for(people["lead"])
    ids = [c.pk for c in convs] + [foreign.pk, 999999]
    tagged = client.post(
        f"{URL}bulk/", {"ids": ids, "action": "tag", "tags": ["incident"]}, format="json"
    ).json()
    assert tagged == {
        "updated": [c.pk for c in convs],
        "unchanged": [],
        "not_found": [foreign.pk, 999999],
    }
    again = client.post(
        f"{URL}bulk/", {"ids": ids, "action": "tag", "tags": ["incident"]}, format="json"
    ).json()
    assert again["unchanged"] == [c.pk for c in convs]
    resolved = client.post(
        f"{URL}bulk/", {"ids": ids[:2], "action": "status", "status": "resolved"}, format="json"
    ).json()
    assert resolved["updated"] == ids[:2]
    assigned = client.post(
        f"{URL}bulk/",
        {
            "ids": ids,
            "action": "assign",
            "team": "support",
            "assignee": "bob",
            "reason": "overnight",
        },
        format="json",
    ).json()
    assert assigned["updated"] == [c.pk for c in convs]
    assert set(
        Conversation.objects.filter(pk__in=ids[:3]).values_list("assignee__username", flat=True)
    ) == {"bob"}
    assert Activity.objects.filter(verb="assigned", reason="overnight").count() == 3
    assert Event.objects.filter(type="conversation.assigned").count() == 3
    missing = client.post(f"{URL}bulk/", {"ids": ids, "action": "severity"}, format="json")
    assert missing.status_code == 400 and "severity" in missing.json()


def test_a_lead_spreads_overnight_conversations_across_online_agents(people, support, client_for):
    from accounts.models import User

    User.objects.filter(username="lead").update(availability="offline")
    overnight = [conversation_in(support, arrived_outside_hours=True) for _ in range(6)]
    client = client_for(people["lead"])
    listed = client.get(f"{URL}?overnight=true&page_size=50").json()["results"]
    assert {row["id"] for row in listed} == {c.pk for c in overnight}
    response = client.post(
        f"{URL}bulk/",
        {
            "ids": [c.pk for c in overnight],
            "action": "assign",
            "team": "support",
            "spread": True,
            "reason": "morning handover",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    counts = {}
    for name in Conversation.objects.filter(pk__in=[c.pk for c in overnight]).values_list(
        "assignee__username", flat=True
    ):
        counts[name] = counts.get(name, 0) + 1
    assert counts == {"alice": 3, "bob": 3}
    assert client.get(f"{URL}?overnight=true").json()["results"] == []


def test_saved_views_with_live_counts(people, support, client_for):
    client = client_for(people["agent"])
    conv = conversation_in(support)
    ConversationTagFactory(conversation=conv, tag__slug="incident")
    conversation_in(support)
    created = client.post(
        "/api/v1/views/",
        {"name": "Incidents", "filters": {"tag": ["incident"]}, "team": "support"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["count"] == 1
    bad = client.post(
        "/api/v1/views/", {"name": "Bad", "filters": {"tag": ["nope"]}}, format="json"
    )
    assert bad.status_code == 400
    unknown = client.post(
        "/api/v1/views/", {"name": "Bad", "filters": {"colour": ["red"]}}, format="json"
    )
    assert unknown.status_code == 400 and "colour" in str(unknown.json())
    foreign = client.post(
        "/api/v1/views/", {"name": "Spy", "filters": {}, "team": "sales"}, format="json"
    )
    assert foreign.status_code == 400
    # bob sees the shared view, with the count of what *he* may see
    listed = client_for(people["colleague"]).get("/api/v1/views/").json()
    assert [(v["name"], v["count"], v["owner"]) for v in listed] == [("Incidents", 1, "alice")]
    assert client_for(people["seller"]).get("/api/v1/views/").json() == []
    assert (
        client_for(people["colleague"]).delete(f"/api/v1/views/{listed[0]['id']}/").status_code
        == 403
    )
    assert client.delete(f"/api/v1/views/{listed[0]['id']}/").status_code == 204


def test_tags_are_added_by_admins_with_unique_names(people, client_for):
    admin = client_for(people["admin"])
    created = admin.post("/api/v1/tags/", {"name": "Billing", "color": "#123456"}, format="json")
    assert created.status_code == 201 and created.json()["slug"] == "billing"
    clash = admin.post("/api/v1/tags/", {"name": "BILLING"}, format="json")
    assert clash.status_code == 400 and "exists" in str(clash.json()["name"])
    assert (
        admin.post("/api/v1/tags/", {"name": "x", "color": "red"}, format="json").status_code == 400
    )
    assert (
        client_for(people["agent"])
        .post("/api/v1/tags/", {"name": "Mine"}, format="json")
        .status_code
        == 403
    )


def test_agents_set_their_own_availability(people, client_for):
    client = client_for(people["agent"])
    assert (
        client.patch("/api/v1/users/me/", {"availability": "away"}, format="json").json()[
            "availability"
        ]
        == "away"
    )
    assert (
        client.patch("/api/v1/users/me/", {"availability": "asleep"}, format="json").status_code
        == 400
    )


def test_message_thread_and_notes_visibility_for_contacts(people, support, client_for):
    conv = conversation_in(support, contact=ContactFactory())
    MessageFactory(conversation=conv)
    note = (
        client_for(people["agent"])
        .post(f"{URL}{conv.pk}/messages/", {"text": "internal", "kind": "note"}, format="json")
        .json()
    )
    assert note["kind"] == "note"
    thread = client_for(people["colleague"]).get(f"{URL}{conv.pk}/messages/").json()
    assert [m["kind"] for m in thread] == ["message", "note"]


def test_export_streams_page_by_page_without_losing_or_repeating_rows(
    people, support, client_for, monkeypatch
):
    from inbox import api

    monkeypatch.setattr(api, "EXPORT_CHUNK", 2)
    same_time = timezone.now()
    made = {
        conversation_in(support, last_message_at=same_time, subject=f"=HYPERLINK({i})").pk
        for i in range(5)
    }
    response = client_for(people["viewer"]).get(f"{URL}export.csv?status=open")
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(int(r["id"]) for r in rows) == sorted(made)
    assert all(r["subject"].startswith("'=") for r in rows)  # no spreadsheet formulas
    assert set(rows[0]) >= {
        "id",
        "status",
        "severity",
        "channel",
        "team",
        "assignee",
        "tags",
        "subject",
    }
