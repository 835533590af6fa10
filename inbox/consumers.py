from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

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


class AgentFeedConsumer(AsyncJsonWebsocketConsumer):
    """An agent's live feed. Transport only: authenticate, join groups, forward.

    A client that reconnects sends {"type": "resync", "after": LAST_EVENT_ID} and gets every
    event it missed, in order, or {"type": "resync.required"} when too many to replay.
    """

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.user = user
        self.seen: list[int] = []
        self.joined = await feed_groups_for(user)
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "resync":
            try:
                after = int(content.get("after", 0))
            except (TypeError, ValueError):
                after = 0
            missed, capped = await events_since(self.user, after)
            if capped:
                await self.send_json({"type": "resync.required"})
                return
            for event in missed:
                await self._forward(event)

    async def feed_event(self, message):
        await self._forward(message["event"])

    async def feed_events(self, message):
        for event in message["events"]:
            await self._forward(event)

    async def _forward(self, event: dict):
        # A user in several groups (team and assignee) hears an event more than once.
        if event["id"] in self.seen:
            return
        self.seen = [*self.seen[-999:], event["id"]]
        await self.send_json({"type": "event", "event": event})
