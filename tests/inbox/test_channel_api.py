"""POST /api/v1/channels/: admins add a channel whose webhook door works at once."""

import json
import time

import pytest

from inbox.intake.adapters.api import sign
from inbox.models import Channel, Event, Message
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/channels/"


def test_an_admin_adds_an_api_channel_that_takes_signed_webhooks_at_once(
    client_for, admin_user, team, client, django_capture_on_commit_callbacks
):
    response = client_for(admin_user).post(
        URL,
        {
            "kind": "api",
            "slug": "partner",
            "name": "Partner",
            "secret": "s3cret-partner",
            "team": "support",
            "config": {"note": "crm"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert response.json()["generated_secrets"] == {}  # the secret was given
    assert body["slug"] == "partner" and body["team"] == "support" and body["kind"] == "api"
    assert "secret" not in body and "config" not in body
    assert Event.objects.filter(type="channel.created", payload__slug="partner").count() == 1

    raw = json.dumps({"id": "e1", "sender": {"id": "u1", "name": "Ann"}, "text": "hello"}).encode()
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(
            "/webhooks/api/partner/",
            data=raw,
            content_type="application/json",
            HTTP_X_SIGNATURE=sign("s3cret-partner", raw, timestamp=int(time.time())),
        )
    assert posted.status_code == 202, posted.content
    message = Message.objects.get(external_id="e1")
    assert message.text == "hello" and message.conversation.team.slug == "support"


def test_the_list_shows_the_new_channel_without_its_secret(client_for, admin_user, agent):
    client_for(admin_user).post(
        URL, {"kind": "chat", "slug": "site", "name": "Website"}, format="json"
    )
    listed = client_for(agent).get(URL).json()
    row = next(c for c in listed if c["slug"] == "site")
    assert row["public_key"] and "secret" not in row


@pytest.mark.parametrize("user", ["agent", "lead", "viewer"])
def test_only_admins_add_channels(client_for, request, user):
    response = client_for(request.getfixturevalue(user)).post(
        URL, {"kind": "chat", "slug": "site", "name": "Website"}, format="json"
    )
    assert response.status_code == 403
    assert not Channel.objects.filter(slug="site").exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "fax", "slug": "f", "name": "Fax"}, "kind"),
        ({"kind": "chat", "slug": "not a slug", "name": "Chat"}, "slug"),
        ({"kind": "meta", "slug": "p", "name": "Page", "config": {"access_token": "t"}}, "secret"),
        ({"kind": "api", "slug": "p", "name": "Partner", "secret": ""}, "secret"),
        ({"kind": "telegram", "slug": "t", "name": "Bot"}, "bot_token"),
        ({"kind": "chat", "slug": "c", "name": "Chat", "secret": "x"}, "secret"),
        ({"kind": "twilio", "slug": "t", "name": "SMS", "secret": "x"}, "account_sid"),
        (
            {
                "kind": "api",
                "slug": "p",
                "name": "P",
                "config": {"callback_url": "ftp://partner.example.com/replies"},
            },
            "callback_url",
        ),
        (
            {
                "kind": "api",
                "slug": "p",
                "name": "P",
                "config": {"callback_url": "https://no-such-host.invalid/replies"},
            },
            "callback_url",
        ),
        ({"kind": "telegram", "slug": "t", "name": "Bot", "secret": ""}, "secret"),
        ({"kind": "email", "slug": "m", "name": "Mail", "address": "not-an-address"}, "address"),
        ({"kind": "chat", "slug": "c", "name": "Chat", "team": "nope"}, "team"),
        ({"kind": "chat", "slug": "c", "name": "Chat", "config": ["x"]}, "config"),
        (
            {
                "kind": "api",
                "slug": "p",
                "name": "P",
                "secret": "abc",
                "config": {"callback_url": "http://127.0.0.1:8000/admin/"},
            },
            "config",
        ),
    ],
)
def test_bad_channels_are_refused_naming_the_field(client_for, admin_user, team, body, field):
    response = client_for(admin_user).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in json.dumps(response.json())
    assert Channel.objects.count() == 0


def test_a_taken_slug_or_mailbox_is_refused(client_for, admin_user):
    ChannelFactory(slug="support-mail", kind="email", address="help@example.com")
    client = client_for(admin_user)
    taken_slug = client.post(
        URL, {"kind": "chat", "slug": "support-mail", "name": "Chat"}, format="json"
    )
    taken_address = client.post(
        URL,
        {"kind": "email", "slug": "second", "name": "Mail", "address": "HELP@example.com"},
        format="json",
    )
    assert taken_slug.status_code == 400 and "slug" in json.dumps(taken_slug.json())
    assert taken_address.status_code == 400 and "address" in json.dumps(taken_address.json())
    assert Channel.objects.count() == 1
