"""Live room events fanned out over Redis pub/sub, one channel per room, so every adapter
process (not only the one that handled the button press) can update the live message.

Each bot process subscribes to every room (`RoomEvents.subscribe`) and edits the live
message of an event for a chat on its own platform at once. The outbox stays the reliable
path; pub/sub is the fast one, so a publish that fails is logged and dropped rather than
failing the user's action, and an event missed while a subscriber was away is not replayed."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from core.chat.messages import Reply

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "teddy:room:"


@dataclass(frozen=True)
class RoomEvent:
    """One thing that happened in a room, with the live message as it should now read."""

    type: str  # focus.started | focus.joined | focus.left | focus.phase | focus.ended | focus.tick
    room_id: int
    platform: str
    chat_id: str
    live_id: str
    text: str
    buttons: list[dict[str, str]]

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str | bytes) -> RoomEvent:
        raw: dict[str, Any] = json.loads(data)
        return cls(**raw)

    def reply(self) -> Reply:
        """The live message as a reply, exactly as its outbox row renders."""
        # Imported here: core.chat's context imports this module for its room-events port.
        from core.chat.messages import Button, Reply

        buttons = [Button(b["label"], b["action"]) for b in self.buttons]
        return Reply.text(self.text, buttons, live_id=self.live_id)


def channel(room_id: int) -> str:
    return f"{CHANNEL_PREFIX}{room_id}"


class RoomFeed(Protocol):
    """The events of the rooms a process subscribed to, in the order they were published."""

    async def next(self, timeout: float) -> RoomEvent | None:
        """The next event, or None when none arrives within `timeout` seconds."""
        ...

    async def close(self) -> None: ...


class RoomEvents(Protocol):
    async def publish(self, event: RoomEvent) -> None:
        """Send the event to every process listening on the room's channel."""
        ...

    async def subscribe(self, room_ids: Iterable[int] | None = None) -> RoomFeed:
        """Listen to some rooms, or every room when `room_ids` is None. The subscription is
        active when this returns, so nothing published afterwards is missed."""
        ...


class NullRoomEvents:
    """For processes with no Redis (and unit tests): events go nowhere."""

    async def publish(self, event: RoomEvent) -> None:
        return None

    async def subscribe(self, room_ids: Iterable[int] | None = None) -> RoomFeed:
        return NullFeed()


class NullFeed:
    """A subscription where nothing ever arrives."""

    async def next(self, timeout: float) -> RoomEvent | None:
        await asyncio.sleep(timeout)
        return None

    async def close(self) -> None:
        return None


class RedisRoomEvents:
    """The Redis implementation: PUBLISH to `teddy:room:<id>`; bot processes read them with
    `subscribe()` (all rooms, or some)."""

    def __init__(self, url: str) -> None:
        self.redis: aioredis.Redis = aioredis.from_url(url)

    async def publish(self, event: RoomEvent) -> None:
        try:
            await self.redis.publish(channel(event.room_id), event.to_json())
        except RedisError:
            log.warning("room event for room %s not published", event.room_id, exc_info=True)

    async def subscribe(self, room_ids: Iterable[int] | None = None) -> RoomSubscription:
        """See `RoomEvents.subscribe`."""
        pubsub = self.redis.pubsub()
        ids = list(room_ids) if room_ids is not None else None
        if ids is None:
            await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
        else:
            await pubsub.subscribe(*(channel(i) for i in ids))
        return RoomSubscription(pubsub)

    async def close(self) -> None:
        await self.redis.aclose()


class RoomSubscription:
    """A `RoomFeed` on Redis pub/sub: what a bot process reads live room events from."""

    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def next(self, timeout: float) -> RoomEvent | None:
        """The next event, or None when none arrives within `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (remaining := deadline - loop.time()) > 0:
            message = await self._pubsub.get_message(
                ignore_subscribe_messages=True, timeout=remaining
            )
            if message is not None and message.get("type") in ("message", "pmessage"):
                return RoomEvent.from_json(message["data"])
        return None

    def __aiter__(self) -> AsyncIterator[RoomEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[RoomEvent]:
        while True:
            event = await self.next(timeout=30.0)
            if event is not None:
                yield event

    async def close(self) -> None:
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
