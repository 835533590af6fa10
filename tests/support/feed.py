"""A browser's view of the live feed without a browser: a channel of the real channel layer added
to one feed group, and the event ids the fan-out sent to it."""

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer


class FeedListener:
    def __init__(self, group: str):
        self.layer = get_channel_layer()
        self.group = group
        self.name = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(group, self.name)

    def frames(self, quiet: float = 0.5) -> list[dict]:
        """Every frame received until none arrives for `quiet` seconds."""

        async def drain():
            got = []
            while True:
                try:
                    got.append(await asyncio.wait_for(self.layer.receive(self.name), quiet))
                except TimeoutError:
                    return got

        return async_to_sync(drain)()

    def event_ids(self) -> list[int]:
        ids = []
        for frame in self.frames():
            events = frame.get("events") or [frame.get("event")]
            ids += [e["id"] for e in events if e]
        return ids
