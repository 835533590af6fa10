"""The robustness rows, for every social and SMS provider endpoint: authenticity, malformed and
oversized bodies, unknown channels, redeliveries and payload shapes we do not know."""

import io
import json
from pathlib import Path

import pytest

from inbox.models import InboundEvent, Message
from tests.inbox.factories import ChannelFactory
from tests.inbox.social import post_meta, post_telegram, post_twilio, post_x, provider_client

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks"


def whatsapp_text():
    return json.loads((FIXTURES / "whatsapp" / "SH-W-009.json").read_text())["text"]


def twilio_json(client, slug, body, *, secret):
    return post_twilio(client, slug, body, secret=secret, content_type="application/json")


X_DM = {
    "for_user_id": "1",
    "direct_message_events": [
        {
            "type": "message_create",
            "id": "dm-1",
            "created_timestamp": "1515446554565",
            "message_create": {
                "target": {"recipient_id": "1"},
                "sender_id": "2",
                "message_data": {"text": "hello"},
            },
        }
    ],
}
SMS = {"MessageSid": "SM1", "From": "+15551230000", "To": "+15005550006", "Body": "hello"}

# kind, post(client, slug, body, secret=), a good body, a malformed one (and how it is sent),
# a well-formed body of a shape we do not know.
PROVIDERS = {
    "meta": ("meta", post_meta, whatsapp_text, (post_meta, b"{not json"), {"object": "mystery"}),
    "telegram": (
        "telegram",
        post_telegram,
        lambda: (FIXTURES / "telegram" / "SH-W-014.json").read_bytes(),
        (post_telegram, b"[1, 2]"),
        {"hello": "world"},
    ),
    "twilio": (
        "twilio",
        post_twilio,
        lambda: SMS,
        (twilio_json, b'{"MessageSid": "SM1"}'),
        {"Foo": "bar"},
    ),
    "x": ("x", post_x, lambda: X_DM, (post_x, b"not json"), {"something": "else"}),
}
SECRET = "the-right-secret"


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request, team):
    kind, post, good, malformed, unknown = PROVIDERS[request.param]
    channel = ChannelFactory(slug="door", kind=kind, secret=SECRET, default_team=team)
    return channel, post, good, malformed, unknown


def test_a_signed_delivery_is_acknowledged_and_makes_one_message(
    provider, django_capture_on_commit_callbacks
):
    channel, post, good, _, _ = provider
    with django_capture_on_commit_callbacks(execute=True):
        first = post(provider_client(), "door", good(), secret=SECRET)
        again = post(provider_client(), "door", good(), secret=SECRET)
    assert first.status_code == again.status_code == 200
    assert Message.objects.filter(channel=channel).count() == 1
    assert sorted(InboundEvent.objects.values_list("status", flat=True)) == [
        "duplicate",
        "processed",
    ]


@pytest.mark.parametrize("secret", ["wrong-secret", None, ""])
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(provider, secret):
    _, post, good, _, _ = provider
    response = post(provider_client(), "door", good(), secret=secret)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert not InboundEvent.objects.exists() and not Message.objects.exists()


def test_another_channels_secret_is_401(provider, team):
    channel, post, good, _, _ = provider
    ChannelFactory(slug="other", kind=channel.kind, secret="other-secret", default_team=team)
    response = post(provider_client(), "door", good(), secret="other-secret")
    assert response.status_code == 401
    assert not InboundEvent.objects.exists()


def test_a_malformed_body_is_400_and_stores_nothing(provider):
    _, _, _, (post, body), _ = provider
    response = post(provider_client(), "door", body, secret=SECRET)
    if post is twilio_json:  # JSON sent to a form door: the wrong content type
        assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    else:
        assert (response.status_code, response.json()["code"]) == (400, "malformed")
    assert not InboundEvent.objects.exists()


def test_an_oversized_body_is_413(provider, settings):
    _, post, good, _, _ = provider
    settings.INBOUND_MAX_BYTES = 40
    response = post(provider_client(), "door", good(), secret=SECRET)
    assert response.status_code == 413
    assert not InboundEvent.objects.exists()


def test_an_unknown_channel_is_404(provider):
    _, post, good, _, _ = provider
    response = post(provider_client(), "nope", good(), secret=SECRET)
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_channel"


def test_a_shape_we_do_not_know_is_stored_acknowledged_and_shown_to_admins_as_failed(
    provider, admin_user, client_for, django_capture_on_commit_callbacks
):
    _, post, _, _, unknown = provider
    with django_capture_on_commit_callbacks(execute=True):
        response = post(provider_client(), "door", unknown, secret=SECRET)
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == "failed" and event.error.startswith("UnknownPayload")
    listed = client_for(admin_user).get("/api/v1/inbound-events/?status=failed").json()
    assert [row["id"] for row in listed["results"]] == [event.pk]
    assert not Message.objects.exists()


def test_the_generic_api_channel_needs_no_csrf_token_either(team):
    # CSRF middleware looks at the view the URL resolves to, not at the door it calls.
    from inbox.intake.adapters.api import sign

    ChannelFactory(slug="partner", kind="api", secret=SECRET, default_team=team)
    body = json.dumps({"id": "1", "sender": {"id": "u"}, "text": "hi"}).encode()
    response = provider_client().post(
        "/webhooks/api/partner/",
        data=body,
        content_type="application/json",
        HTTP_X_SIGNATURE=sign(SECRET, body),
    )
    assert response.status_code == 202


def test_the_demo_meta_channel_answers_verification_and_keeps_an_admins_config():
    from django.core.management import call_command

    from inbox.models import Channel

    call_command("seed_demo", history_days=0, stdout=io.StringIO())
    response = provider_client().get(
        "/webhooks/meta/meta/",
        {
            "hub.mode": "subscribe",
            "hub.verify_token": "demo-meta-verify-token",
            "hub.challenge": "42",
        },
    )
    assert response.content == b"42"
    Channel.objects.filter(slug="telegram").update(config={"bot_token": "1:real"})
    call_command("seed_demo", history_days=0, stdout=io.StringIO())
    assert Channel.objects.get(slug="telegram").config == {"bot_token": "1:real"}
