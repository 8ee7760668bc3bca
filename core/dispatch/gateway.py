"""The port adapters and the web app depend on: the core of their process, as
`teddy.runtime.open_runtime` builds it (the adapters never import the wiring itself)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.chat.context import Services
    from core.db import Database
    from core.dispatch.dispatcher import Dispatcher
    from core.settings import Settings


class Gateway(Protocol):
    """Route incoming events and suggest completions (`dispatcher`), show and remember
    live messages and deliver the outbox (`db`, `services`), read the settings."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...

    @property
    def services(self) -> Services: ...

    @property
    def dispatcher(self) -> Dispatcher: ...

    @property
    def redis_url(self) -> str:
        """The Redis every process of this deployment shares."""
        ...

    @property
    def warm_up(self) -> asyncio.Future[None] | None:
        """Loading the local embedding model, or None when nothing loads."""
        ...
