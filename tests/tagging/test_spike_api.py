"""GET /api/v1/alerts/ and the watch words: leads and admins only; a spike's conversations through
GET /api/v1/conversations/?alert=ID."""

import datetime as dt

import pytest
from django.utils import timezone

from tagging.models import SpikeAlert, SpikeAlertConversation, WatchWord
from tests.inbox.factories import ChannelFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def spike(*, conversations=(), closed=False, watch="incident", minutes_ago=5):
    opened = timezone.now() - dt.timedelta(minutes=minutes_ago)
    alert = SpikeAlert.objects.create(
        kind="tag",
        watch=watch,
        count=8,
        peak=9,
        baseline=0.5,
        threshold=5.0,
        window_minutes=60,
        samples=[c.pk for c in conversations][:10],
        opened_at=opened,
        closed_at=opened + dt.timedelta(hours=1) if closed else None,
    )
    for c in conversations:
        SpikeAlertConversation.objects.create(alert=alert, conversation=c)
    return alert


def test_leads_and_admins_list_alerts_newest_first(client_for, lead, admin_user):
    old = spike(closed=True, minutes_ago=600)
    new = spike(watch="outage")
    for user in (lead, admin_user):
        response = client_for(user).get("/api/v1/alerts/")
        assert response.status_code == 200
        rows = response.json()
        assert [r["id"] for r in rows] == [new.pk, old.pk]
        assert rows[0] | {"opened_at": None} == {
            "id": new.pk,
            "kind": "tag",
            "watch": "outage",
            "count": 8,
            "peak": 9,
            "baseline": 0.5,
            "threshold": 5.0,
            "window_minutes": 60,
            "conversations": [],
            "opened_at": None,
            "closed_at": None,
            "is_open": True,
        }
    open_only = client_for(lead).get("/api/v1/alerts/", {"open": "true"}).json()
    assert [r["id"] for r in open_only] == [new.pk]
    closed = client_for(lead).get("/api/v1/alerts/", {"open": "false"}).json()
    assert [r["id"] for r in closed] == [old.pk]


def test_agents_and_viewers_are_refused_in_words(client_for, agent, viewer, api_client):
    spike()
    for user in (agent, viewer):
        response = client_for(user).get("/api/v1/alerts/")
        assert response.status_code == 403
        assert "leads and admins" in response.json()["detail"]
    assert api_client.get("/api/v1/alerts/").status_code in (401, 403)


def test_bad_filters_are_a_400_naming_them(client_for, lead):
    response = client_for(lead).get("/api/v1/alerts/", {"open": "maybe"})
    assert response.status_code == 400 and "open" in response.json()
    response = client_for(lead).get("/api/v1/alerts/", {"opened": "true"})
    assert response.status_code == 400 and "opened" in response.json()


def test_a_spikes_conversations_are_a_filter_of_the_conversation_list(client_for, admin_user):
    channel = ChannelFactory()
    members = [ConversationFactory(channel=channel) for _ in range(3)]
    ConversationFactory(channel=channel)  # not in the spike
    alert = spike(conversations=members)
    response = client_for(admin_user).get("/api/v1/conversations/", {"alert": alert.pk})
    assert response.status_code == 200
    assert {r["id"] for r in response.json()["results"]} == {c.pk for c in members}
    bad = client_for(admin_user).get("/api/v1/conversations/", {"alert": "x"})
    assert bad.status_code == 400 and "alert" in bad.json()


def test_admins_add_and_remove_watch_words_leads_read_them(client_for, admin_user, lead, agent):
    admin = client_for(admin_user)
    response = admin.post("/api/v1/alerts/watch-words/", {"word": "  Total   OUTAGE "})
    assert response.status_code == 201 and response.json()["word"] == "total outage"
    assert client_for(lead).get("/api/v1/alerts/watch-words/").json()[0]["word"] == "total outage"
    refused = client_for(lead).post("/api/v1/alerts/watch-words/", {"word": "down"})
    assert refused.status_code == 403
    assert client_for(agent).get("/api/v1/alerts/watch-words/").status_code == 403
    blank = admin.post("/api/v1/alerts/watch-words/", {"word": "!!!"})
    assert blank.status_code == 400 and "word" in blank.json()
    pk = response.json()["id"]
    assert admin.delete(f"/api/v1/alerts/watch-words/{pk}/").status_code == 204
    assert admin.delete(f"/api/v1/alerts/watch-words/{pk}/").status_code == 404
    assert not WatchWord.objects.exists()


def test_the_alerts_and_the_event_are_documented(client, client_for, agent):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert {"/api/v1/alerts/", "/api/v1/alerts/watch-words/"} <= set(schema["paths"])
    events = client_for(agent).get("/api/v1/webhook-events/").json()
    assert "alert.spike" in {e["type"] for e in events}
