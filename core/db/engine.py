from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.db.pool import PING_AFTER_IDLE_SECONDS, guard_pool


def async_url(url: str) -> str:
    """Turn any PostgreSQL URL into one for SQLAlchemy's asyncpg driver."""
    for prefix in (
        "postgresql+asyncpg://",
        "postgresql+psycopg://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]}")


class Database:
    """One engine and its session factory; `transaction()` is the unit of work."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        echo: bool = False,
        ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
    ) -> None:
        self.url = async_url(url)
        # No pool_pre_ping: see core.db.pool for the cheaper check used instead.
        self.engine: AsyncEngine = create_async_engine(
            self.url, pool_size=pool_size, max_overflow=pool_size, echo=echo
        )
        guard_pool(self.engine, ping_after_idle)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on any error.
        Callbacks registered with `core.jobs.after_commit` run after the commit."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            callbacks = session.info.pop("after_commit", [])
        for callback in callbacks:
            await callback()

    async def dispose(self) -> None:
        await self.engine.dispose()
