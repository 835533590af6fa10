"""The website live chat: visitor sessions, the checks at the chat door, visitor messages into the
pipeline, and what one session may see.

A visitor holds a signed session token (django.core.signing) naming the channel and a random
session id of 128 bits; the id is the visitor's identity (ContactIdentity kind "chat") and the
thread key of their conversations, so a session only ever reads its own conversations' messages.
Visitor messages are stored raw as an InboundEvent (provider "chat") and processed at once by the
ordinary pipeline (adapter -> receive_message); the re-queue sweep retries any left unprocessed.
Typing signals and presence are transient: the channel layer and the cache, never an Event row.
"""

import json
import math
import secrets
import time
import uuid
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from core import languages
from inbox import groups
from inbox import languages as customer_languages
from inbox.intake.queue import store_inbound
from inbox.models import Channel, Conversation, Message

TOKEN_SALT = "switchboard.chat.session"
SESSION_BYTES = 16  # 128 bits


class ChatError(Exception):
    """A visitor request the chat door refuses; `status` and `code` say how to answer it."""

    status = 400
    code = "bad_request"


class BadToken(ChatError):
    status = 401
    code = "bad_token"


class ForeignOrigin(ChatError):
    status = 403
    code = "origin_not_allowed"


class TooLong(ChatError):
    status = 413
    code = "too_long"


class RateLimited(ChatError):
    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: int):
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class ChatSession:
    channel: Channel
    id: str
    name: str = ""
    email: str = ""
    language: str = ""  # the visitor's browser language, one we serve; "" when not known

    @property
    def token(self) -> str:
        return signing.dumps(
            {"c": self.channel.slug, "s": self.id, "n": self.name, "e": self.email}
            | ({"l": self.language} if self.language else {}),
            salt=TOKEN_SALT,
            compress=True,
        )


# --- Channels and origins ------------------------------------------------------------------------


def chat_channel_by_key(public_key: str) -> Channel | None:
    return Channel.objects.filter(
        public_key=public_key, kind=Channel.Kind.CHAT, is_active=True
    ).first()


def chat_channel_by_slug(slug: str) -> Channel | None:
    return Channel.objects.filter(slug=slug, kind=Channel.Kind.CHAT, is_active=True).first()


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(channel: Channel, *, origin: str | None, own_host: str) -> None:
    """Refuse (ForeignOrigin) a browser on a site the channel does not list.

    Allowed: the channel's `config["allowed_origins"]` and our own site (the demo page). A request
    without an Origin header is not a cross-site browser request (browsers send Origin on every
    websocket and cross-origin request); the session token still authenticates it.
    """
    if not origin:
        return
    origin = _origin_of(origin)
    allowed = {
        _origin_of(o) for o in channel.config.get("allowed_origins", []) if isinstance(o, str)
    }
    if origin and (origin in allowed or urlsplit(origin).netloc == own_host.lower()):
        return
    raise ForeignOrigin(_("This website may not use this chat channel."))


# --- Sessions ------------------------------------------------------------------------------------


def _clean_profile(name: str, email: str) -> tuple[str, str]:
    name = " ".join((name or "").split())[:120]
    email = (email or "").strip()[:254]
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ChatError(_("That email address does not look right.")) from exc
    return name, email


def read_token(channel: Channel, token: str) -> ChatSession:
    """The session a token names, if it is genuine and for this channel; BadToken otherwise."""
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT)
    except signing.BadSignature as exc:
        raise BadToken(_("The chat session token is not valid.")) from exc
    if not isinstance(data, dict) or data.get("c") != channel.slug or not data.get("s"):
        raise BadToken(_("The chat session token is for another channel."))
    return ChatSession(
        channel=channel,
        id=str(data["s"]),
        name=data.get("n", ""),
        email=data.get("e", ""),
        language=languages.supported(data.get("l")),
    )


def start_session(
    *, channel: Channel, token: str = "", name=None, email=None, language: str = ""
) -> ChatSession:
    """Resume the session a valid token names, or start a new one; `name` and `email` (the
    optional pre-chat form) replace the ones the token carries when given, and so does the
    visitor's `language` when we serve it (it becomes their contact's). Writes nothing."""
    try:
        session = read_token(channel, token) if token else None
    except BadToken:
        session = None  # a stale token from another channel or key: start afresh
    if session is None:
        session = ChatSession(channel=channel, id=secrets.token_urlsafe(SESSION_BYTES))
    if name is not None or email is not None:
        new_name, new_email = _clean_profile(
            session.name if name is None else name, session.email if email is None else email
        )
        session = replace(session, name=new_name, email=new_email)
    if languages.supported(language):
        session = replace(session, language=languages.supported(language))
    return session


def renew_session(*, session: ChatSession, token: str) -> ChatSession:
    """Adopt a newer token of the same session (new pre-chat name or email); BadToken if it
    names another session or channel."""
    renewed = read_token(session.channel, token)
    if renewed.id != session.id:
        raise BadToken(_("The token is for another chat session."))
    return renewed


def session_group(session: ChatSession | str, channel_id: int | None = None) -> str:
    """The Channels group of one visitor session (all their open tabs)."""
    if isinstance(session, ChatSession):
        channel_id, session = session.channel.pk, session.id
    return f"chat.{channel_id}.{session}"


# --- Presence ------------------------------------------------------------------------------------


def _presence_key(channel_id: int, session_id: str) -> str:
    return f"chat:seen:{channel_id}:{session_id}"


def mark_seen(session: ChatSession) -> None:
    """The visitor's widget is open (a websocket frame or an HTTP poll just arrived)."""
    cache.set(_presence_key(session.channel.pk, session.id), 1, settings.CHAT_PRESENCE_SECONDS)


def mark_gone(session: ChatSession) -> None:
    cache.delete(_presence_key(session.channel.pk, session.id))


def visitor_connected(conversation: Conversation) -> bool:
    if not conversation.thread_key:
        return False
    return bool(cache.get(_presence_key(conversation.channel_id, conversation.thread_key)))


def agents_online(channel: Channel) -> bool:
    """Whether someone who answers this channel (its default team) is online now."""
    from accounts.models import User

    online = User.objects.filter(is_active=True, availability=User.Availability.ONLINE).exclude(
        role=User.Role.VIEWER
    )
    if channel.default_team_id:
        online = online.filter(memberships__team_id=channel.default_team_id)
    return online.exists()


# --- Limits --------------------------------------------------------------------------------------


def check_limits(session: ChatSession, text: str) -> None:
    if len(text) > settings.CHAT_MAX_CHARS:
        raise TooLong(
            _("A message can have at most %(n)s characters.") % {"n": settings.CHAT_MAX_CHARS}
        )
    window = settings.CHAT_RATE_WINDOW_SECONDS
    now = time.time()
    bucket = int(now // window)
    key = f"chat:rate:{session.channel.pk}:{session.id}:{bucket}"
    try:
        cache.add(key, 0, window + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window + 5)
            count = 1
    except (
        OSError,
        RedisError,
    ):  # the cache is unreachable: the limit fails open, the message is kept
        count = 0
    if count > settings.CHAT_RATE_LIMIT:
        retry_after = max(1, math.ceil((bucket + 1) * window - now))
        raise RateLimited(
            _("Slow down: at most %(n)s messages a minute.") % {"n": settings.CHAT_RATE_LIMIT},
            retry_after=retry_after,
        )


# --- What the visitor sees -----------------------------------------------------------------------


def widget_message(message: Message) -> dict:
    """One message as the widget shows it: plain text only, never notes, never html; its files
    as signed, expiring links (inbox.outbound.files.public_url)."""
    from inbox.outbound.files import public_url

    agent = message.sender_user if message.direction == Message.Direction.OUT else None
    return {
        "id": message.pk,
        "from": "agent" if message.direction == Message.Direction.OUT else "visitor",
        "author": (agent.first_name or agent.username) if agent else "",
        "text": message.text,
        "at": message.created_at.isoformat(),
        "files": [
            {
                "name": a.name,
                "url": public_url(a),
                "content_type": a.content_type,
                "size": a.size,
            }
            for a in message.attachments.all()
            if a.file
        ],
    }


def session_messages(session: ChatSession, *, after: int = 0, limit: int = 200) -> list[dict]:
    """This session's messages after id `after`, oldest first. Private notes, messages whose
    delivery failed, and other sessions' conversations are never included."""
    rows = (
        Message.objects.filter(
            channel=session.channel,
            conversation__channel=session.channel,
            conversation__thread_key=session.id,
            kind=Message.Kind.MESSAGE,
            pk__gt=after,
        )
        .exclude(delivery_status=Message.DeliveryStatus.FAILED)
        .select_related("sender_user")
        .prefetch_related("attachments")
        .order_by("pk")[:limit]
    )
    return [widget_message(m) for m in rows]


def session_snapshot(session: ChatSession) -> dict:
    """What the widget needs to (re)open: the token, where to connect, whether anyone is online,
    the history so far, and the language to speak: the visitor's, else the channel's ("" for
    neither: the widget stays in English)."""
    return {
        "token": session.token,
        "language": session.language or customer_languages.of_channel(session.channel),
        "session": session.id,
        "channel": session.channel.slug,
        "socket": f"/ws/chat/{session.channel.slug}/{session.id}/",
        "name": session.name,
        "email": session.email,
        "online": agents_online(session.channel),
        "messages": session_messages(session),
    }


def poll_session(session: ChatSession, *, after: int) -> dict:
    """The HTTP fallback's poll: the visitor is present; messages after `after`."""
    mark_seen(session)
    return {
        "messages": session_messages(session, after=after),
        "online": agents_online(session.channel),
    }


def push_to_session(*, channel_id: int, session_id: str, frame: dict) -> None:
    """Send one frame to every open widget of a session (no-op without a channel layer)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            session_group(session_id, channel_id), {"type": "chat.frame", "frame": frame}
        )


# --- Visitor messages ----------------------------------------------------------------------------


def post_visitor_message(*, session: ChatSession, text: str, client_id: str = "") -> dict:
    """Take one visitor message: limits checked (TooLong, RateLimited), stored raw as an
    InboundEvent (provider "chat"), processed at once through the chat adapter and
    receive_message (conversation found or opened, hooks, message.created), then pushed to the
    session's open widgets. Returns the stored message as the widget shows it. Sending the same
    `client_id` again (a retried POST) stores nothing new and returns the first one.
    """
    from inbox.intake.adapters import chat as adapter

    text = (text or "").strip()
    if not text:
        raise ChatError(_("A message needs some text."))
    check_limits(session, text)
    client_id = clean_client_id(client_id)
    body = adapter.encode(
        message_id=client_id or uuid.uuid4().hex,
        session=session.id,
        name=session.name,
        email=session.email,
        text=text,
        language=session.language,
    )
    shown = take_visitor_body(session=session, body=body)
    if shown is None:
        # Stored, not yet processed (the sweep retries it): the visitor's words are not lost.
        return {"id": None, "from": "visitor", "author": "", "text": text, "at": None, "files": []}
    return shown


def clean_client_id(client_id: str) -> str:
    return "".join(c for c in (client_id or "") if c.isalnum() or c in "-_")[:64]


def take_visitor_body(*, session: ChatSession, body: bytes) -> dict | None:
    """The intake path every visitor message takes (text or file): stored raw as an
    InboundEvent (provider "chat"), processed at once through the chat adapter and
    receive_message, then pushed to the session's open widgets. The stored message as the widget
    shows it, or None when it is stored but not yet processed (the sweep retries it)."""
    from inbox.intake.adapters import chat as adapter
    from inbox.intake.processing import process_inbound_event

    event = store_inbound(
        channel=session.channel,
        provider="chat",
        body=body,
        headers={"content-type": "application/json"},
        enqueue=False,  # processed right here
    )
    process_inbound_event(event_id=event.pk)
    external_id = adapter.external_id(json.loads(body))
    message = (
        Message.objects.select_related("sender_user")
        .prefetch_related("attachments")
        .filter(
            channel=session.channel,
            external_id=external_id,
            conversation__thread_key=session.id,
        )
        .first()
    )
    if message is None:
        return None
    shown = widget_message(message)
    push_to_session(
        channel_id=session.channel.pk, session_id=session.id, frame={"type": "message", **shown}
    )
    return shown


# --- Typing --------------------------------------------------------------------------------------


def signal_visitor_typing(*, session: ChatSession) -> bool:
    """Tell the agents watching this session's conversation that the visitor is typing.

    Transient: sent to the agents' feed groups, no Event row. At most one signal per session
    every CHAT_TYPING_SECONDS. Returns whether a signal went out."""
    if not cache.add(
        f"chat:typing:{session.channel.pk}:{session.id}", 1, settings.CHAT_TYPING_SECONDS
    ):
        return False
    conversation = (
        Conversation.objects.filter(channel=session.channel, thread_key=session.id)
        .order_by("-last_message_at")
        .first()
    )
    layer = get_channel_layer()
    if conversation is None or layer is None:
        return False
    signal = {
        "type": "feed.transient",
        "signal": {"type": "typing", "who": "visitor", "conversation": conversation.pk},
    }
    names = [groups.ALL, groups.team(conversation.team_id), groups.conversation(conversation.pk)]
    if conversation.assignee_id:
        names.append(groups.user(conversation.assignee_id))
    for name in names:
        async_to_sync(layer.group_send)(name, signal)
    return True


def signal_agent_typing(*, conversation_id: int, actor) -> None:
    """Show the visitor of a chat conversation that an agent is typing. Transient: nothing is
    written. PermissionDenied unless the agent may reply to the conversation."""
    from inbox.access import can_change_conversation

    conversation = Conversation.objects.select_related("channel").get(pk=conversation_id)
    if not can_change_conversation(actor, conversation):
        raise PermissionDenied("You may not reply to this conversation.")
    if conversation.channel.kind != Channel.Kind.CHAT or not conversation.thread_key:
        return
    push_to_session(
        channel_id=conversation.channel_id,
        session_id=conversation.thread_key,
        frame={"type": "typing", "who": "agent", "author": actor.first_name or actor.username},
    )
