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
        pool_size: int = 10,  # connections kept open in a quiet process; twice that under load
        echo: bool = False,
        ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
    ) -> None:
        self.url = async_url(url)
        # Up to 2 × pool_size connections, as before, but every one opened stays open: with
        # the second half as SQLAlchemy "overflow", 20 concurrent commands closed and reopened
        # a connection (a PostgreSQL backend, its caches and prepared statements) every ~15
        # commands. No pool_pre_ping: see core.db.pool for the cheaper check used instead.
        self.engine: AsyncEngine = create_async_engine(
            self.url, pool_size=2 * pool_size, max_overflow=0, echo=echo
        )
        guard_pool(self.engine, ping_after_idle)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on any error.
        Callbacks registered with `core.jobs.after_commit` run after the commit."""
        session = self.sessions()
        try:
            async with session.begin():
                yield session
            callbacks = session.info.pop("after_commit", [])
        finally:
            await _close(session)
        for callback in callbacks:
            await callback()

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _close(session: AsyncSession) -> None:
    """Close `session` as `async with session` does, minus a task per event: after a commit
    or a rollback it holds no connection, and closing is only forgetting its objects."""
    if session.in_transaction():
        async with session:  # a connection to give back: shielded from cancellation
            return
    session.sync_session.close()
