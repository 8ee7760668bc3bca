"""What a handler gets: the session, the acting user and room, the event and the ports."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.messages import Incoming, Reply
from core.clock import Clock, SystemClock
from core.jobs import InlineJobQueue, JobQueue
from core.rooms.pubsub import NullRoomEvents, RoomEvents
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from core.accounts.mail import Mailer
    from core.chat.router import Router
    from core.documents.embeddings import Embedder
    from core.documents.summary import Summarizer
    from core.identity.models import Room, User
    from core.tutor.limits import RedisLike
    from core.tutor.service import TutorPorts

Emit = Callable[[Reply], Awaitable[None]]
Close = Callable[[], Awaitable[None]]


class Unbuilt(enum.Enum):
    """A port made from the settings on first use (None would mean "there is none")."""

    UNBUILT = enum.auto()


UNBUILT = Unbuilt.UNBUILT


async def _discard(reply: Reply) -> None:
    return None


@dataclass
class Services:
    """The ports the outer layers provide, built once per process by `teddy.bootstrap`
    (every process kind gets the same ones). Defaults suit unit tests: no Redis, room
    events go nowhere, ports that depend on settings are made from them on first use."""

    settings: Settings = field(default_factory=get_settings)
    clock: Clock = field(default_factory=SystemClock)
    jobs: JobQueue = field(default_factory=InlineJobQueue)
    # The shared async Redis client (tutor rate limits); None without Redis.
    redis: RedisLike | None = None
    room_events: RoomEvents = field(default_factory=NullRoomEvents)
    # Document embeddings; None: keyword search only (see core.documents.embeddings).
    embedder: Embedder | Unbuilt | None = UNBUILT
    # Document summaries; None: the extractive one (see core.documents.summary).
    summarizer: Summarizer | None = None
    # The tutor's model and Redis; made from the settings on first use.
    tutor: TutorPorts | None = None
    # Mail (SMTP) for jobs that write to verified addresses; None: no mail is sent.
    mailer: Mailer | None = None
    # Run by `aclose()`: the clients the bootstrap opened for these services.
    closers: list[Close] = field(default_factory=list)

    async def aclose(self) -> None:
        closers, self.closers = self.closers, []
        for close in reversed(closers):
            await close()


@dataclass
class Ctx:
    session: AsyncSession
    user: User
    room: Room | None
    incoming: Incoming
    services: Services
    emit: Emit = _discard
    router: Router | None = None

    @property
    def clock(self) -> Clock:
        return self.services.clock
