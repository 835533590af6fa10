import io

import pytest
from django.core.management import call_command

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
    assert 24 <= counts[3] <= 60


def test_alice_sees_demo_conversations_through_the_api(client):
    run("seed_demo")
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
