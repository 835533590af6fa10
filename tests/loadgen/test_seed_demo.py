import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Membership, Team, User
from inbox.models import Channel, Conversation

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_what_the_contract_names_and_is_idempotent():
    run("seed_demo")
    counts = (
        User.objects.count(),
        Team.objects.count(),
        Channel.objects.count(),
        Conversation.objects.count(),
    )
    run("seed_demo")
    assert (
        User.objects.count(),
        Team.objects.count(),
        Channel.objects.count(),
        Conversation.objects.count(),
    ) == counts

    assert set(Team.objects.values_list("slug", flat=True)) == {"support", "sales", "engineering"}
    roles = dict(User.objects.values_list("username", "role"))
    assert roles == {
        "admin": "admin",
        "lead": "lead",
        "alice": "agent",
        "bob": "agent",
        "carol": "agent",
        "erin": "agent",
        "pat": "viewer",
    }
    assert Membership.objects.get(user__username="lead", team__slug="support").role == "lead"
    assert set(
        Membership.objects.filter(team__slug="support").values_list("user__username", flat=True)
    ) == {"lead", "alice", "bob"}
    assert Membership.objects.get(user__username="carol").team.slug == "sales"
    assert not Membership.objects.filter(user__username="pat").exists()
    assert all(User.objects.get(username=u).check_password("demo") for u in roles)
    assert set(Channel.objects.values_list("kind", flat=True)) == {k.value for k in Channel.Kind}
    open_now = Conversation.objects.exclude(status="resolved").count()
    assert 24 <= open_now <= 60  # a few dozen to answer; the rest is resolved history


def test_ninety_days_of_history_give_every_report_a_shape(client):
    from reports.models import SatisfactionSurvey

    run("seed_demo")
    now = timezone.now()
    resolved = Conversation.objects.filter(status="resolved")
    created = list(resolved.values_list("created_at", flat=True))
    assert len(created) >= 1000
    assert min(created) >= now - dt.timedelta(days=91)
    assert len({c.isocalendar()[:2] for c in created}) >= 13  # every week of the 90 days
    weekday = sum(1 for c in created if c.weekday() < 5) / 5
    weekend = sum(1 for c in created if c.weekday() >= 5) / 2
    assert weekday > 1.5 * weekend  # customers write on weekdays, as in life
    office = sum(1 for c in created if 8 <= c.hour < 18)
    assert office > len(created) / 2
    # Answered, tagged and resolved by the demo people, with satisfaction answers.
    assert not resolved.filter(first_response_at__isnull=True, message_count__gt=1).exists()
    assert resolved.filter(assignee__username="erin").exists()
    assert resolved.filter(tags__slug="feature-request").distinct().count() > 50
    scores = list(SatisfactionSurvey.objects.filter(kind="csat").values_list("score", flat=True))
    assert len(scores) > 200 and set(scores) == {1, 2, 3, 4, 5}
    assert sum(s >= 4 for s in scores) / len(scores) > 0.6
    # Sales asks NPS and engineering CES, so those reports have a shape too.
    nps = SatisfactionSurvey.objects.filter(kind="nps")
    assert nps.count() > 30 and not nps.exclude(conversation__team__slug="sales").exists()
    assert set(nps.values_list("score", flat=True)) >= {6, 9, 10}  # detractors and promoters
    assert (
        SatisfactionSurvey.objects.filter(
            kind="ces", conversation__team__slug="engineering"
        ).count()
        > 30
    )

    assert client.login(username="admin", password="demo")
    since = (now - dt.timedelta(days=89)).date().isoformat()
    volume = client.get("/api/v1/reports/volume/", {"from": since}).json()
    assert volume["totals"]["resolved"] >= 1000
    csat = client.get("/api/v1/reports/csat/", {"from": since}).json()
    assert csat["totals"]["answered"] > 200
    nps_report = client.get("/api/v1/reports/nps/", {"from": since})
    assert nps_report.status_code == 200 and nps.count() > 30

    # Rerunning writes nothing twice, history included.
    counts = (Conversation.objects.count(), SatisfactionSurvey.objects.count())
    run("seed_demo")
    assert (Conversation.objects.count(), SatisfactionSurvey.objects.count()) == counts


def test_every_open_demo_conversation_can_be_answered_and_every_team_has_an_agent():
    from inbox.outbound.senders import get_sender

    run("seed_demo", "--history-days", "0")
    for conversation in Conversation.objects.select_related("channel", "contact"):
        sender = get_sender(conversation.channel.kind)
        refusal = sender.can_send(conversation) if hasattr(sender, "can_send") else None
        assert refusal is None, (conversation.channel.kind, refusal)
        if conversation.channel.kind == "chat":
            assert conversation.thread_key  # a widget session the reply goes to
    for channel in Channel.objects.all():
        assert Membership.objects.filter(
            team=channel.default_team, user__role__in=["agent", "lead"]
        ).exists()
    assert Membership.objects.filter(team__slug="engineering", user__username="erin").exists()


@pytest.mark.django_db(transaction=True)
def test_a_reply_on_the_demo_api_channel_reaches_the_demo_partner(live_server, settings):
    from inbox.models import Message
    from inbox.outbound.delivery import deliver
    from loadgen.partner import RECEIVED

    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # as `make run` allows it
    base = live_server.url.replace("localhost", "127.0.0.1")
    run("seed_demo", "--history-days", "0", "--base-url", base)
    conversation = Conversation.objects.filter(channel__slug="api", status="open").first()
    RECEIVED.clear()
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(User.objects.get(username="carol"))  # the sales agent
    response = api.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"text": "Thanks, a quote is on its way."},
        format="json",
    )
    assert response.status_code == 201, response.content
    message = deliver(message_id=response.json()["id"])
    assert message.delivery_status == Message.DeliveryStatus.SENT, message.delivery_error
    assert [r["text"] for r in RECEIVED] == ["Thanks, a quote is on its way."]
    assert RECEIVED[0]["conversation"] == conversation.pk


def test_the_demo_partner_refuses_an_unsigned_callback(client):
    run("seed_demo", "--history-days", "0")
    response = client.post("/demo/partner-callback/", b"{}", content_type="application/json")
    assert response.status_code == 401
    assert "Signature refused" in response.json()["detail"]


def test_alice_sees_demo_conversations_through_the_api(client):
    run("seed_demo", "--history-days", "0")
    assert client.login(username="alice", password="demo")
    body = client.get("/api/v1/conversations/").json()
    assert len(body["results"]) > 0
    assert {row["team"] for row in body["results"]} == {"support"}


def test_drf_create_token_prints_a_working_token(client):
    run("seed_demo")
    out = run("drf_create_token", "alice")
    assert out.startswith("Generated token ") and out.strip().endswith(" for user alice")
    key = out.split()[2]
    response = client.get("/api/v1/conversations/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    from accounts.models import ApiToken

    assert not ApiToken.objects.filter(key_hash=key).exists()  # only the hash is stored


def test_the_demo_fills_the_ugc_library_with_photos():
    from tagging import ugc

    run("seed_demo")
    pat = User.objects.get(username="pat")  # the viewer: marketing's role
    items = ugc.attach_items(list(ugc.ugc_conversations_for(user=pat)))
    assert items and all(c.media and c.media[0].is_image for c in items)
    thumb = ugc.thumbnail(items[0].media[0].attachment)
    assert thumb and thumb[:2] == b"\xff\xd8"  # a JPEG
