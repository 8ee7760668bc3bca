"""Live messages, shared by every adapter: what this process knows of them (their message
ids and what each shows now), and the room events that edit them at once.

A room event (`core.rooms.pubsub`) carries the live message as it should now read. The bot
process of the event's platform edits the message it already sent; it never sends a new one
(the reply or the outbox does that, so a live message is never sent twice), and it skips an
edit to the text the message already shows. The outbox stays the reliable path: an event
this process misses is still delivered from there, a moment later."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from redis.exceptions import RedisError

from core.rooms.pubsub import RoomEvent, RoomEvents

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

LiveKey = tuple[str, str]  # (chat id, live id)
ShowEvent = Callable[[RoomEvent], Awaitable[None]]
RESUBSCRIBE_SECONDS = 1.0


class Bounded(Generic[K, V]):
    """A dict that forgets its least recently written entries beyond `limit`."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self.items.get(key)

    def put(self, key: K, value: V) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.limit:
            self.items.popitem(last=False)


class LiveMemory:
    """What this process has put in live messages: their ids and what each shows. Another
    process may have edited a message since, so "shown" only ever saves an edit."""

    def __init__(self, limit: int = 10_000) -> None:
        self.ids: Bounded[LiveKey, str] = Bounded(limit)
        self.shown: Bounded[LiveKey, Hashable] = Bounded(limit)

    def showing(self, key: LiveKey, look: Hashable) -> bool:
        return self.shown.get(key) == look

    def showed(self, key: LiveKey, message_id: str, look: Hashable) -> None:
        self.ids.put(key, message_id)
        self.shown.put(key, look)


async def follow_room_events(
    events: RoomEvents, platform: str, show: ShowEvent, stop: asyncio.Event
) -> None:
    """Hand every room event for a chat on `platform` to `show` until `stop` is set. A
    failing `show` is logged; a lost Redis connection is subscribed again."""
    while not stop.is_set():
        try:
            feed = await events.subscribe()
        except (RedisError, OSError):
            log.warning("subscribing to room events failed; trying again", exc_info=True)
            await _pause(stop, RESUBSCRIBE_SECONDS)
            continue
        try:
            await _read(feed.next, platform, show, stop)
        except (RedisError, OSError):
            log.warning("room events connection lost; subscribing again", exc_info=True)
            await _pause(stop, RESUBSCRIBE_SECONDS)
        finally:
            with contextlib.suppress(RedisError, OSError):
                await feed.close()


async def _read(
    next_event: Callable[[float], Awaitable[RoomEvent | None]],
    platform: str,
    show: ShowEvent,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        try:
            event = await next_event(0.5)
        except (ValueError, TypeError):  # not an event of ours: someone else's publish
            log.warning("an unreadable room event was skipped", exc_info=True)
            continue
        if event is None or event.platform != platform:
            continue
        try:
            await show(event)
        except Exception:
            log.exception("showing room event %s in %s failed", event.type, event.chat_id)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
