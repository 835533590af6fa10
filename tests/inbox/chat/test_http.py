"""The widget's HTTP door: session start, the fallback post and poll, CORS and origins, limits."""

import json

import pytest
from django.test import Client

from accounts.models import User
from inbox.chat import service as chat
from inbox.models import InboundEvent, Message
from inbox.outbound.replies import send_reply
from inbox.services import add_note
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.com"


@pytest.fixture
def channel(team):
    return ChannelFactory(
        kind="chat", slug="chat", default_team=team, config={"allowed_origins": [SHOP]}
    )


@pytest.fixture
def widget():
    """A browser on the shop's website talking to us cross-origin."""
    return Client(headers={"Origin": SHOP})


def post(client, url, data, token=""):
    headers = {"X-Chat-Token": token} if token else {}
    return client.post(url, json.dumps(data), content_type="application/json", headers=headers)


def start(client, channel, **data):
    response = post(client, f"/chat/{channel.public_key}/session/", data)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_fallback_post_and_poll_carry_a_conversation(
    channel, agent, widget, django_capture_on_commit_callbacks
):
    session = start(widget, channel, name="Ada", email="ada@example.org")
    url = f"/chat/{channel.public_key}/messages/"

    posted = post(widget, url, {"text": "Is my order shipped?", "id": "c1"}, session["token"])
    again = post(widget, url, {"text": "Is my order shipped?", "id": "c1"}, session["token"])
    first = widget.get(url, {"after": 0}, headers={"X-Chat-Token": session["token"]})

    assert posted.status_code == 201 and again.status_code == 201
    assert posted.json()["message"]["id"] == again.json()["message"]["id"]  # a retried POST
    assert posted["Access-Control-Allow-Origin"] == SHOP
    mine = posted.json()["message"]
    assert [(m["id"], m["from"], m["text"]) for m in first.json()["messages"]] == [
        (mine["id"], "visitor", "Is my order shipped?")
    ]
    conversation = Message.objects.get(pk=mine["id"]).conversation
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation_id=conversation.pk, actor=agent, text="Yes, this morning.")
        add_note(conversation_id=conversation.pk, actor=agent, text="internal only")

    later = widget.get(url, {"after": mine["id"]}, headers={"X-Chat-Token": session["token"]})
    assert later.status_code == 200
    assert [(m["id"], m["from"], m["author"], m["text"]) for m in later.json()["messages"]] == [
        (reply.pk, "agent", "Alice", "Yes, this morning.")
    ]
    assert later.json()["online"] is True


def test_a_preflight_from_an_allowed_origin_is_answered(channel, widget):
    response = widget.options(
        f"/chat/{channel.public_key}/messages/",
        headers={"Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "X-Chat-Token" in response["Access-Control-Allow-Headers"]


def test_a_foreign_origin_gets_403_and_no_cors_grant(channel):
    evil = Client(headers={"Origin": "https://evil.example"})
    response = post(evil, f"/chat/{channel.public_key}/session/", {})
    assert response.status_code == 403
    assert response.json()["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response


def test_our_own_site_may_use_any_chat_channel(team):
    unconfigured = ChannelFactory(kind="chat", default_team=team)
    own = Client(headers={"Origin": "http://testserver"})
    assert post(own, f"/chat/{unconfigured.public_key}/session/", {}).status_code == 200
    shop = Client(headers={"Origin": SHOP})
    assert post(shop, f"/chat/{unconfigured.public_key}/session/", {}).status_code == 403


def test_when_no_agent_is_online_the_widget_says_so_and_still_takes_the_message(
    channel, agent, widget
):
    User.objects.filter(pk=agent.pk).update(availability=User.Availability.AWAY)
    session = start(widget, channel)
    posted = post(
        widget, f"/chat/{channel.public_key}/messages/", {"text": "Anyone?"}, session["token"]
    )
    assert session["online"] is False
    assert posted.status_code == 201
    assert Message.objects.get().text == "Anyone?"


def test_a_forged_or_foreign_token_gets_401(channel, widget):
    other = ChannelFactory(kind="chat", config={"allowed_origins": [SHOP]})
    foreign = start(widget, other)["token"]
    genuine = start(widget, channel)["token"]
    url = f"/chat/{channel.public_key}/messages/"
    for token in (foreign, genuine[:-3] + "xyz", ""):
        response = post(widget, url, {"text": "hi"}, token)
        assert response.status_code == 401
        assert response.json()["code"] == "bad_token"
    assert not InboundEvent.objects.exists()


def test_a_stale_token_starts_a_new_session(channel, widget):
    other = ChannelFactory(kind="chat", config={"allowed_origins": [SHOP]})
    foreign = start(widget, other)
    fresh = start(widget, channel, token=foreign["token"])
    assert fresh["session"] != foreign["session"]
    assert chat.read_token(channel, fresh["token"]).id == fresh["session"]


def test_over_the_rate_limit_the_post_gets_429_with_retry_after(channel, widget, settings):
    settings.CHAT_RATE_LIMIT = 2
    token = start(widget, channel)["token"]
    url = f"/chat/{channel.public_key}/messages/"
    statuses = [post(widget, url, {"text": f"m{n}"}, token).status_code for n in range(2)]
    refused = post(widget, url, {"text": "m2"}, token)
    assert statuses == [201, 201]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "rate_limited"
    assert Message.objects.count() == 2


def test_an_oversized_message_gets_413_and_is_not_stored(channel, widget, settings):
    token = start(widget, channel)["token"]
    response = post(
        widget,
        f"/chat/{channel.public_key}/messages/",
        {"text": "x" * (settings.CHAT_MAX_CHARS + 1)},
        token,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_long"
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    "body, expected",
    [("not json", "The body must be JSON."), ('{"text": 5}', "text: required string")],
)
def test_a_malformed_post_gets_400(channel, widget, body, expected):
    token = start(widget, channel)["token"]
    response = widget.post(
        f"/chat/{channel.public_key}/messages/",
        body,
        content_type="application/json",
        headers={"X-Chat-Token": token},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == expected


def test_a_bad_prechat_email_gets_400(channel, widget):
    response = post(widget, f"/chat/{channel.public_key}/session/", {"email": "not an address"})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_an_unknown_public_key_gets_404(widget):
    response = post(widget, "/chat/no-such-key/session/", {})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_channel"


def test_only_agents_who_may_reply_can_signal_typing(channel, client_for, viewer, agent):
    token_session = chat.start_session(channel=channel)
    message = chat.post_visitor_message(session=token_session, text="hello")
    conversation_id = Message.objects.get(pk=message["id"]).conversation_id
    url = f"/api/v1/conversations/{conversation_id}/typing/"
    assert client_for(viewer).post(url).status_code == 403
    assert client_for(agent).post(url).status_code == 204


def test_the_demo_page_embeds_the_widget_of_the_chat_channel(channel, client):
    page = client.get("/demo/chat/")
    script = client.get("/static/chat/widget.js")
    assert page.status_code == 200
    assert f'data-channel="{channel.public_key}"' in page.content.decode()
    assert script.status_code == 200
    assert b"textContent" in b"".join(script.streaming_content)


def test_typing_over_http_needs_a_genuine_token(channel, widget):
    token = start(widget, channel)["token"]
    url = f"/chat/{channel.public_key}/typing/"
    assert post(widget, url, {}, token).status_code == 204
    assert post(widget, url, {}, token[:-2] + "zz").status_code == 401
