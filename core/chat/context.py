"""What a handler gets: the session, the acting user and room, the event and the ports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.messages import Incoming, Reply
from core.clock import Clock, SystemClock
from core.jobs import InlineJobQueue, JobQueue
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from core.chat.router import Router
    from core.identity.models import Room, User

Emit = Callable[[Reply], Awaitable[None]]


async def _discard(reply: Reply) -> None:
    return None


@dataclass
class Services:
    """The ports the outer layers provide. Capabilities may keep their own port objects in
    `extra` under their package name until they earn a field here."""

    settings: Settings = field(default_factory=get_settings)
    clock: Clock = field(default_factory=SystemClock)
    jobs: JobQueue = field(default_factory=InlineJobQueue)
    extra: dict[str, Any] = field(default_factory=dict)


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
