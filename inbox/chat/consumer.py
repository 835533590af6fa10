"""The website visitor's chat socket: /ws/chat/{channel}/{session}/.

The session token never travels in the URL (URLs end up in access logs, proxies' logs and
browser history): a browser cannot set headers on a websocket, so the widget offers it as a
subprotocol, `switchboard.token.<base64url of the token>`, beside `switchboard.chat`, the one
the server picks (Sec-WebSocket-Protocol, a header nobody logs)."""

import base64
import binascii

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core import metrics, safejson

CHAT_PROTOCOL = "switchboard.chat"
TOKEN_PROTOCOL = "switchboard.token."


def token_protocol(token: str) -> str:
    """The subprotocol that carries `token` (what the widget offers)."""
    return TOKEN_PROTOCOL + base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def offered_token(subprotocols) -> str:
    """The session token a client offered as a subprotocol, or "" (a token in the query string
    is ignored: it would have been logged on its way in)."""
    for protocol in subprotocols or []:
        if isinstance(protocol, str) and protocol.startswith(TOKEN_PROTOCOL):
            encoded = protocol[len(TOKEN_PROTOCOL) :]
            try:
                return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return ""
    return ""


@database_sync_to_async
def chat_session_for(scope):
    """The visitor session a websocket opens, after the origin and token checks (ChatError)."""
    from inbox.chat import service as chat

    kwargs = scope["url_route"]["kwargs"]
    headers = dict(scope.get("headers") or [])
    channel = chat.chat_channel_by_slug(kwargs["channel"])
    if channel is None:
        raise chat.BadToken("No such chat channel.")
    chat.check_origin(
        channel,
        origin=headers.get(b"origin", b"").decode("latin-1"),
        own_host=headers.get(b"host", b"").decode("latin-1"),
    )
    session = chat.read_token(channel, offered_token(scope.get("subprotocols")))
    if session.id != kwargs["session"]:
        raise chat.BadToken("The token is for another chat session.")
    chat.mark_seen(session)
    return session, chat.agents_online(channel)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """A website visitor's chat session. Transport only: check origin and token (offered as a
    subprotocol, see the module's docstring), join the
    session's group, hand frames to inbox.chat, forward what the group sends.

    Client frames: {"type": "message", "text", "id"?}, {"type": "typing"}, {"type": "ping"},
    {"type": "session", "token"} (the same session with a new pre-chat name and email).
    Server frames: hello, message, typing, ack, pong, error {"code", "detail", "retry_after"?}.
    """

    CLOSE_CODES = {"origin_not_allowed": 4403, "bad_token": 4401}

    async def connect(self):
        from inbox.chat import service as chat

        self.session = None
        try:
            self.session, online = await chat_session_for(self.scope)
        except chat.ChatError as exc:
            await self.close(code=self.CLOSE_CODES.get(exc.code, 4400))
            return
        self.group = chat.session_group(self.session)
        await self.channel_layer.group_add(self.group, self.channel_name)
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=CHAT_PROTOCOL if CHAT_PROTOCOL in offered else None)
        self.counted = metrics.websocket_opened("chat")
        await self.send_json({"type": "hello", "online": online})

    async def disconnect(self, code):
        from inbox.chat import service as chat

        metrics.websocket_closed("chat", getattr(self, "counted", False))
        self.counted = False
        if self.session is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await database_sync_to_async(chat.mark_gone)(self.session)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        from django.conf import settings

        if not text_data or len(text_data) > settings.CHAT_MAX_CHARS * 6 + 1024:
            return await self._error("too_long", "That frame is too large.")
        try:
            content = safejson.loads(text_data)
        except safejson.UnsafeJson:
            return await self._error("bad_request", "Frames are JSON objects.")
        if not isinstance(content, dict):
            return await self._error("bad_request", "Frames are JSON objects.")
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        from inbox.chat import service as chat

        kind = content.get("type")
        try:
            if kind == "message":
                shown = await database_sync_to_async(chat.post_visitor_message)(
                    session=self.session,
                    text=str(content.get("text") or ""),
                    client_id=str(content.get("id") or ""),
                )
                await self.send_json({"type": "ack", "id": content.get("id"), "message": shown})
            elif kind == "session":
                self.session = await database_sync_to_async(chat.renew_session)(
                    session=self.session, token=str(content.get("token") or "")
                )
            elif kind == "typing":
                await database_sync_to_async(chat.signal_visitor_typing)(session=self.session)
            elif kind == "ping":
                await database_sync_to_async(chat.mark_seen)(self.session)
                await self.send_json({"type": "pong"})
            else:
                await self._error("bad_request", "Unknown frame type.")
        except chat.RateLimited as exc:
            await self._error(exc.code, str(exc), retry_after=exc.retry_after)
        except chat.ChatError as exc:
            await self._error(exc.code, str(exc))

    async def chat_frame(self, message):
        await self.send_json(message["frame"])

    async def _error(self, code: str, detail: str, **extra):
        await self.send_json({"type": "error", "code": code, "detail": detail, **extra})
