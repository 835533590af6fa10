"""A visitor's chat token never reaches a log line: real requests to the real ASGI server
(uvicorn, its access log on), the widget's own way (session start, poll and post with the
X-Chat-Token header, the socket with the token offered as a subprotocol) and an old client's
(the token in the socket's URL), with every line the server and Django log captured."""

import json

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from inbox.chat.consumer import CHAT_PROTOCOL, token_protocol
from tests.inbox.factories import ChannelFactory
from tests.support.asgi import LiveASGIServer, LogLines

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

SHOP = "https://shop.example.com"


def test_a_visitors_token_appears_in_no_log_line(team):
    channel = ChannelFactory(
        kind="chat", slug="chat", default_team=team, config={"allowed_origins": [SHOP]}
    )
    with LiveASGIServer(log_level="info") as server, LogLines() as log:
        base = f"{server.url}/chat/{channel.public_key}"
        http = httpx.Client(headers={"Origin": SHOP}, timeout=10)
        snapshot = http.post(f"{base}/session/", json={"name": "Ada"}).json()
        token = snapshot["token"]
        header = {"X-Chat-Token": token}
        assert http.get(f"{base}/messages/?after=0", headers=header).status_code == 200
        posted = http.post(f"{base}/messages/", json={"text": "By HTTP"}, headers=header)
        assert posted.status_code == 201

        socket_url = server.url.replace("http", "ws") + snapshot["socket"]
        frames, chosen = opened(socket_url, [CHAT_PROTOCOL, token_protocol(token)])
        # An old widget puts the token in the URL: refused, and its line scrubbed.
        old_widget, _ = opened(f"{socket_url}?token={token}", [])
        http.close()

    lines = "\n".join(log.lines)
    assert "/messages/" in lines and snapshot["socket"] in lines  # the requests were logged
    assert token not in lines
    assert "?token=[redacted]" in lines
    assert chosen == CHAT_PROTOCOL and frames == ["hello", "ack"]
    assert old_widget is None


def opened(url: str, subprotocols: list[str]) -> tuple[list[str] | None, str | None]:
    """Open a socket as a browser on the shop's site would, say hello and post one message:
    the frame types received and the chosen subprotocol, or (None, None) if it was refused."""
    try:
        socket = connect(url, origin=SHOP, subprotocols=subprotocols or None, open_timeout=10)
    except InvalidStatus:
        return None, None
    with socket:
        frames = [json.loads(socket.recv(timeout=10))["type"]]
        socket.send(json.dumps({"type": "message", "text": "By socket", "id": "m1"}))
        frames.append(json.loads(socket.recv(timeout=10))["type"])
    return frames, socket.subprotocol
