from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox.chat import service as chat
from inbox.chat.consumer import CHAT_PROTOCOL, token_protocol
from inbox.consumers import AgentFeedConsumer
from inbox.models import ContactIdentity, Event, InboundEvent, Message
from inbox.outbound.replies import send_reply
from inbox.services import add_note
from tests.inbox.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "https://shop.example.com"


@pytest.fixture
def channel(team):
    return ChannelFactory(
        kind="chat", slug="chat", default_team=team, config={"allowed_origins": [SHOP]}
    )


async def open_widget(session, *, origin=SHOP, token=None, path_session=None, query=""):
    """The widget's socket, its token offered as a subprotocol as widget.js does."""
    token = session.token if token is None else token
    path = f"/ws/chat/{session.channel.slug}/{path_session or session.id}/{query}"
    widget = WebsocketCommunicator(
        application,
        path,
        headers=[(b"origin", origin.encode()), (b"host", b"support.example")],
        subprotocols=[CHAT_PROTOCOL, token_protocol(token)] if token else [CHAT_PROTOCOL],
    )
    connected, code = await widget.connect()
    if connected:
        assert code == CHAT_PROTOCOL  # the protocol the browser requires to be echoed
        assert (await widget.receive_json_from(timeout=2))["type"] == "hello"
    else:
        # As a server does once it has sent the refusal: the socket is gone, the consumer ends
        # here and not when the test's event loop is torn down around it.
        await widget.send_input({"type": "websocket.disconnect", "code": code})
        await widget.wait(timeout=5)
    return widget, connected, code


async def open_feed(user):
    feed = WebsocketCommunicator(AgentFeedConsumer.as_asgi(), "/ws/agent/")
    feed.scope["user"] = user
    connected, _ = await feed.connect()
    assert connected
    return feed


async def frames_until_quiet(communicator, quiet=0.3):
    got = []
    while not await communicator.receive_nothing(timeout=quiet):
        got.append(await communicator.receive_json_from())
    return got


def test_a_visitor_message_becomes_a_message_in_a_conversation(channel, agent):
    session = chat.start_session(channel=channel, name="Ada Lovelace", email="ada@example.org")

    async def scenario():
        widget, connected, _ = await open_widget(session)
        assert connected
        await widget.send_json_to({"type": "message", "text": "Do you ship to Norway?", "id": "m1"})
        frames = await frames_until_quiet(widget)
        await widget.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    message = Message.objects.select_related("conversation__contact").get()
    conversation = message.conversation
    assert (message.direction, message.text) == ("in", "Do you ship to Norway?")
    assert conversation.channel == channel and conversation.thread_key == session.id
    assert conversation.team == channel.default_team
    assert (conversation.contact.name, conversation.contact.email) == (
        "Ada Lovelace",
        "ada@example.org",
    )
    # The pre-chat email is not verified: it is no identity that could link another contact.
    assert list(ContactIdentity.objects.values_list("kind", "external_id")) == [
        ("chat", session.id)
    ]
    event = InboundEvent.objects.get()
    assert (event.provider, event.status) == ("chat", "processed")
    assert set(Event.objects.values_list("type", flat=True)) >= {
        "conversation.created",
        "message.created",
    }
    shown = [f for f in frames if f["type"] == "message"]
    assert [(f["id"], f["from"], f["text"]) for f in shown] == [
        (message.pk, "visitor", "Do you ship to Norway?")
    ]
    assert [f["message"]["id"] for f in frames if f["type"] == "ack"] == [message.pk]


def test_the_visitor_keeps_the_conversation_across_page_loads(channel, agent):
    session = chat.start_session(channel=channel)
    chat.post_visitor_message(session=session, text="First page")
    resumed = chat.start_session(channel=channel, token=session.token)

    async def scenario():
        widget, _, _ = await open_widget(resumed)
        await widget.send_json_to({"type": "message", "text": "Second page"})
        await frames_until_quiet(widget)
        await widget.disconnect()

    async_to_sync(scenario)()
    assert resumed.id == session.id
    texts = [m["text"] for m in chat.session_snapshot(resumed)["messages"]]
    assert texts == ["First page", "Second page"]
    assert Message.objects.values("conversation").distinct().count() == 1


def test_an_agent_reply_reaches_the_open_widget(channel, agent):
    session = chat.start_session(channel=channel, email="ada@example.org")
    conversation_id = chat.post_visitor_message(session=session, text="Hello?")["id"]
    conversation_id = Message.objects.get(pk=conversation_id).conversation_id

    async def scenario():
        widget, _, _ = await open_widget(session)
        reply = await sync_to_async(send_reply)(
            conversation_id=conversation_id, actor=agent, text="Hi Ada, yes we do."
        )
        frame = await widget.receive_json_from(timeout=3)
        assert await widget.receive_nothing(timeout=0.2)
        await widget.disconnect()
        return reply, frame

    reply, frame = async_to_sync(scenario)()
    reply.refresh_from_db()
    assert frame["type"] == "message"
    assert (frame["id"], frame["from"], frame["author"], frame["text"]) == (
        reply.pk,
        "agent",
        "Alice",
        "Hi Ada, yes we do.",
    )
    assert reply.delivery_status == "sent"
    assert reply.external_id == f"chat-reply-{reply.pk}"


def test_typing_reaches_the_agents_feed_and_the_visitor_without_storing_events(
    channel, agent, client_for
):
    session = chat.start_session(channel=channel)
    message_id = chat.post_visitor_message(session=session, text="Hello?")["id"]
    conversation_id = Message.objects.get(pk=message_id).conversation_id
    events_before = Event.objects.count()
    api = client_for(agent)

    async def scenario():
        feed = await open_feed(agent)
        widget, _, _ = await open_widget(session)
        await widget.send_json_to({"type": "typing"})
        seen_by_agent = await feed.receive_json_from(timeout=2)
        response = await sync_to_async(api.post)(f"/api/v1/conversations/{conversation_id}/typing/")
        seen_by_visitor = await widget.receive_json_from(timeout=2)
        await widget.disconnect()
        await feed.disconnect()
        return seen_by_agent, response.status_code, seen_by_visitor

    seen_by_agent, status, seen_by_visitor = async_to_sync(scenario)()
    assert seen_by_agent == {"type": "typing", "who": "visitor", "conversation": conversation_id}
    assert status == 204
    assert seen_by_visitor == {"type": "typing", "who": "agent", "author": "Alice"}
    assert Event.objects.count() == events_before


def test_private_notes_never_reach_the_visitor(channel, agent):
    session = chat.start_session(channel=channel)
    message_id = chat.post_visitor_message(session=session, text="Refund please")["id"]
    conversation_id = Message.objects.get(pk=message_id).conversation_id

    async def scenario():
        widget, _, _ = await open_widget(session)
        await sync_to_async(add_note)(
            conversation_id=conversation_id, actor=agent, text="Secret: customer owes us money"
        )
        await sync_to_async(send_reply)(
            conversation_id=conversation_id, actor=agent, text="Refund on its way"
        )
        frames = await frames_until_quiet(widget)
        await widget.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert [f["text"] for f in frames] == ["Refund on its way"]
    history = chat.session_snapshot(chat.read_token(channel, session.token))["messages"]
    assert [m["text"] for m in history] == ["Refund please", "Refund on its way"]


def test_another_sessions_messages_never_reach_this_one(channel, agent):
    mine = chat.start_session(channel=channel)
    theirs = chat.start_session(channel=channel)
    their_id = chat.post_visitor_message(session=theirs, text="Theirs", client_id="same-id")["id"]
    their_conversation = Message.objects.get(pk=their_id).conversation_id

    async def scenario():
        widget, _, _ = await open_widget(mine)
        await sync_to_async(send_reply)(
            conversation_id=their_conversation, actor=agent, text="For the other visitor"
        )
        quiet = await widget.receive_nothing(timeout=0.3)
        # Reusing another session's message id never returns that session's message.
        await widget.send_json_to({"type": "message", "text": "Hi", "id": "same-id"})
        frames = await frames_until_quiet(widget)
        await widget.disconnect()
        return quiet, frames

    quiet, frames = async_to_sync(scenario)()
    assert quiet
    assert {f["text"] for f in frames if f["type"] == "message"} == {"Hi"}
    history = [m["text"] for m in chat.session_snapshot(theirs)["messages"]]
    assert history == ["Theirs", "For the other visitor"]
    assert "Hi" not in history


def test_a_foreign_origin_is_refused(channel):
    session = chat.start_session(channel=channel)

    async def scenario():
        _, connected, code = await open_widget(session, origin="https://evil.example")
        return connected, code

    assert async_to_sync(scenario)() == (False, 4403)


@pytest.mark.parametrize("problem", ["other channel", "forged", "other session"])
def test_a_token_that_is_not_this_sessions_is_refused(channel, problem):
    session = chat.start_session(channel=channel)
    other_channel = ChannelFactory(kind="chat", config={"allowed_origins": [SHOP]})
    token, path_session = session.token, None
    if problem == "other channel":
        elsewhere = chat.start_session(channel=other_channel)
        token, path_session = elsewhere.token, elsewhere.id
    elif problem == "forged":
        token = session.token[:-4] + ("AAAA" if not session.token.endswith("AAAA") else "BBBB")
    else:
        path_session = chat.start_session(channel=channel).id

    async def scenario():
        _, connected, code = await open_widget(session, token=token, path_session=path_session)
        return connected, code

    assert async_to_sync(scenario)() == (False, 4401)


def test_a_token_in_the_url_opens_nothing(channel):
    # URLs are logged (access logs, proxies): a socket authenticated by its URL would make a
    # logged line a key to the visitor's session.
    session = chat.start_session(channel=channel)

    async def scenario():
        _, connected, code = await open_widget(
            session, token="", query=f"?token={quote(session.token)}"
        )
        return connected, code

    assert async_to_sync(scenario)() == (False, 4401)


@pytest.mark.parametrize(
    "garbage", ["switchboard.token.", "switchboard.token.%%%", "switchboard.token.AA"]
)
def test_a_garbled_token_protocol_is_refused(channel, garbage):
    session = chat.start_session(channel=channel)

    async def scenario():
        widget = WebsocketCommunicator(
            application,
            f"/ws/chat/{channel.slug}/{session.id}/",
            headers=[(b"origin", SHOP.encode()), (b"host", b"support.example")],
            subprotocols=[CHAT_PROTOCOL, garbage],
        )
        refused = await widget.connect()
        await widget.send_input({"type": "websocket.disconnect", "code": refused[1]})
        await widget.wait(timeout=5)
        return refused

    assert async_to_sync(scenario)() == (False, 4401)


def test_over_the_rate_limit_the_visitor_gets_an_error_frame(channel, settings):
    settings.CHAT_RATE_LIMIT = 3
    session = chat.start_session(channel=channel)

    async def scenario():
        widget, _, _ = await open_widget(session)
        for n in range(4):
            await widget.send_json_to({"type": "message", "text": f"Message {n}"})
        frames = await frames_until_quiet(widget)
        await widget.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    errors = [f for f in frames if f["type"] == "error"]
    assert [e["code"] for e in errors] == ["rate_limited"]
    assert 1 <= errors[0]["retry_after"] <= 60
    assert sorted(Message.objects.values_list("text", flat=True)) == [
        "Message 0",
        "Message 1",
        "Message 2",
    ]


def test_an_oversized_message_gets_an_error_frame_and_is_not_stored(channel, settings):
    session = chat.start_session(channel=channel)

    async def scenario():
        widget, _, _ = await open_widget(session)
        await widget.send_json_to({"type": "message", "text": "x" * (settings.CHAT_MAX_CHARS + 1)})
        frames = await frames_until_quiet(widget)
        await widget.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    assert [(f["type"], f["code"]) for f in frames] == [("error", "too_long")]
    assert not InboundEvent.objects.exists() and not Message.objects.exists()


def test_a_frame_that_is_not_json_gets_an_error_frame(channel):
    session = chat.start_session(channel=channel)

    async def scenario():
        widget, _, _ = await open_widget(session)
        await widget.send_to(text_data="<script>")
        frame = await widget.receive_json_from(timeout=2)
        await widget.disconnect()
        return frame

    assert async_to_sync(scenario)()["code"] == "bad_request"


def test_an_open_widget_adopts_a_pre_chat_email_given_later(channel):
    session = chat.start_session(channel=channel)
    with_email = chat.start_session(channel=channel, token=session.token, email="ada@example.org")
    stranger = chat.start_session(channel=channel, email="mallory@example.org")

    async def scenario():
        widget, _, _ = await open_widget(session)
        await widget.send_json_to({"type": "session", "token": stranger.token})
        refused = await widget.receive_json_from(timeout=2)
        await widget.send_json_to({"type": "session", "token": with_email.token})
        await widget.send_json_to({"type": "message", "text": "Here is my email"})
        await frames_until_quiet(widget)
        await widget.disconnect()
        return refused

    refused = async_to_sync(scenario)()
    assert (refused["type"], refused["code"]) == ("error", "bad_token")
    assert Message.objects.get().conversation.contact.email == "ada@example.org"


@pytest.mark.parametrize(
    "frame", ["[" * 5000 + "]" * 5000, '{"type": "message", "id": 1' + "9" * 5000 + "}"]
)
def test_a_hostile_json_frame_gets_an_error_frame_and_the_socket_stays_open(channel, frame):
    """Nesting past the parser's recursion limit, or an integer over 4,300 digits (issue 21)."""
    session = chat.start_session(channel=channel)

    async def scenario():
        widget, _, _ = await open_widget(session)
        await widget.send_to(text_data=frame)
        error = await widget.receive_json_from(timeout=2)
        await widget.send_json_to({"type": "ping"})
        pong = await widget.receive_json_from(timeout=2)
        await widget.disconnect()
        return error, pong

    error, pong = async_to_sync(scenario)()
    assert error["code"] == "bad_request" and pong["type"] == "pong"
