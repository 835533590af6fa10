from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core import metrics, online
from inbox import groups

RESYNC_LIMIT = 500


@database_sync_to_async
def feed_groups_for(user) -> list[str]:
    from accounts.models import User
    from accounts.permissions import sees_everything

    if sees_everything(user):
        return [groups.ALL]
    names = [groups.user(user.pk)]
    names += [
        groups.team(team_id) for team_id in user.memberships.values_list("team_id", flat=True)
    ]
    if user.role == User.Role.LEAD:
        names.append(groups.NO_TEAM)
    return names


@database_sync_to_async
def still_visible(user, conversation_ids) -> set | None:
    """The ids among these the user may see now; None when the user was deactivated."""
    from accounts.models import User
    from inbox.models import Conversation

    fresh = User.objects.filter(pk=user.pk, is_active=True).first()
    if fresh is None:
        return None
    ids = [i for i in conversation_ids if i is not None]
    return set(
        Conversation.objects.visible_to(fresh).filter(pk__in=ids).values_list("pk", flat=True)
    )


@database_sync_to_async
def events_since(user, last_id: int) -> tuple[list[dict], bool]:
    """Events after `last_id` that this user may see, oldest first; True when capped."""
    from inbox.events import feed_message
    from inbox.models import Conversation, Event

    visible = Conversation.objects.visible_to(user).values("pk")
    rows = list(
        Event.objects.filter(pk__gt=last_id, conversation_id__in=visible).order_by("pk")[
            : RESYNC_LIMIT + 1
        ]
    )
    return [feed_message(e) for e in rows[:RESYNC_LIMIT]], len(rows) > RESYNC_LIMIT


PRESENCE_STATES = ("viewing", "replying", "left")


@database_sync_to_async
def may_see_conversation(user, conversation_id: int) -> bool:
    from inbox.models import Conversation

    return Conversation.objects.visible_to(user).filter(pk=conversation_id).exists()


class AgentFeedConsumer(AsyncJsonWebsocketConsumer):
    """An agent's live feed. Transport only: authenticate, join groups, forward.

    Every event frame carries the outbox Event id, increasing. A client that reconnects opens
    /ws/agent/?since=LAST_EVENT_ID and gets every event it missed, in order, before any live
    one (the replay runs before this consumer handles its first group frame; the ids it sent
    are not forwarded again), or {"type": "resync.required"} when more than RESYNC_LIMIT were
    missed: reload. The older {"type": "resync", "after": ID} frame still works the same way.

    Collision: a conversation page sends {"type": "presence", "conversation": ID, "state":
    "viewing" | "replying" | "left"}. If the user may see that conversation, the socket joins the
    conversation's group and the others there get {"type": "presence", "conversation", "state",
    "user": {"username", "name"}}; those already there answer the newcomer with their own state.
    Transient: no Event row, never replayed. Closing the socket counts as "left".

    Bell: every socket also joins its user's notifications group and hears {"type":
    "notifications", "unread": N, "label"} when that count changes (routing.notifications);
    sockets are counted per user (core.online) so that mentions are mailed only to the away.
    """

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.seen: list[int] = []
        self.presence: dict[int, str] = {}  # conversation id -> this socket's state there
        self.joined = [*await feed_groups_for(user), groups.notifications(user.pk)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.counted = metrics.websocket_opened("agent_feed")
        await online.socket_opened(user.pk)
        since = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("since")
        if since:
            # Joined first, then replayed: an event committed in between is in the replay or
            # queued for this channel (or both: `seen` drops the second copy). No gap.
            await self._replay(since[0])

    async def disconnect(self, code):
        if getattr(self, "counted", False):
            await online.socket_closed(self.user.pk)
        metrics.websocket_closed("agent_feed", getattr(self, "counted", False))
        self.counted = False
        for conversation_id in list(getattr(self, "presence", {})):
            await self._announce(conversation_id, "left")
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "presence":
            await self._presence(content)
        elif content.get("type") == "resync":
            await self._replay(content.get("after", 0))

    async def _replay(self, after) -> None:
        """Send the events after `after` this user may see, oldest first, or resync.required."""
        try:
            after = max(0, int(after))
        except (TypeError, ValueError):
            after = 0
        missed, capped = await events_since(self.user, after)
        if capped:
            await self.send_json({"type": "resync.required"})
            return
        for event in missed:
            await self._forward(event, checked=True)  # events_since is scoped

    async def feed_event(self, message):
        await self._forward(message["event"])

    async def feed_events(self, message):
        allowed = await still_visible(self.user, [e["conversation"] for e in message["events"]])
        if allowed is None:
            await self.close(code=4401)
            return
        for event in message["events"]:
            if event["conversation"] is None or event["conversation"] in allowed:
                await self._forward(event, checked=True)

    async def feed_session_ended(self, message):
        # The user logged out (inbox.groups.user): the sockets of that browser session close,
        # so the page shows it is signed out; other devices' sockets stay.
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if message.get("session_key") in (None, key):
            await self.close(code=4401)

    async def feed_transient(self, message):
        # Short-lived signals (a visitor typing): no Event row, no id, never replayed on resync.
        await self.send_json(message["signal"])

    async def _presence(self, content: dict):
        state = content.get("state")
        try:
            conversation_id = int(content.get("conversation"))
        except (TypeError, ValueError):
            return
        if state not in PRESENCE_STATES:
            return
        if state == "left":
            if conversation_id in self.presence:
                await self._announce(conversation_id, "left")
            return
        if conversation_id not in self.presence:
            if not await may_see_conversation(self.user, conversation_id):
                return
            await self.channel_layer.group_add(
                groups.conversation(conversation_id), self.channel_name
            )
        self.presence[conversation_id] = state
        await self._announce(conversation_id, state)

    def _presence_frame(self, conversation_id: int, state: str) -> dict:
        return {
            "type": "feed.presence",
            "origin": self.channel_name,
            "user_id": self.user.pk,
            "signal": {
                "type": "presence",
                "conversation": conversation_id,
                "state": state,
                "user": {"username": self.user.username, "name": self.user.display_name},
            },
        }

    async def _announce(self, conversation_id: int, state: str):
        group = groups.conversation(conversation_id)
        await self.channel_layer.group_send(group, self._presence_frame(conversation_id, state))
        if state == "left":
            self.presence.pop(conversation_id, None)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def feed_presence(self, message):
        if message["origin"] == self.channel_name or message["user_id"] == self.user.pk:
            return  # not our own echo, nor our other tabs
        signal = message["signal"]
        mine = self.presence.get(signal["conversation"])
        if mine is None:
            return  # this socket is in the group for events only, not looking at it
        await self.send_json(signal)
        if signal["state"] != "left" and not message.get("reply"):
            # Tell the newcomer who is already here (a reply is never answered).
            frame = self._presence_frame(signal["conversation"], mine)
            await self.channel_layer.send(message["origin"], {**frame, "reply": True})

    async def _forward(self, event: dict, checked: bool = False):
        # A user in several groups (team and assignee) hears an event more than once.
        if event["id"] in self.seen:
            return
        if not checked and event.get("conversation") is not None:
            # Groups were chosen at connect time; scope is checked again per event, so removing
            # someone from a team, or deactivating them, takes effect on open sockets at once.
            allowed = await still_visible(self.user, [event["conversation"]])
            if allowed is None:
                await self.close(code=4401)
                return
            if event["conversation"] not in allowed:
                return
        self.seen = [*self.seen[-999:], event["id"]]
        await self.send_json({"type": "event", "event": event})
