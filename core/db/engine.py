from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


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


def _replace_if_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Instead of `pool_pre_ping`, which costs three round trips (BEGIN, a ping, ROLLBACK)
    on every checkout: a connection the server closed while it sat in the pool (a restart,
    an idle timeout, a terminated backend) was already noticed by the event loop, and the
    pool replaces it here without asking the server."""
    if record.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


class Database:
    """One engine and its session factory; `transaction()` is the unit of work."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = async_url(url)
        self.engine: AsyncEngine = create_async_engine(
            self.url, pool_size=pool_size, max_overflow=pool_size, echo=echo
        )
        event.listen(self.engine.sync_engine.pool, "checkout", _replace_if_closed)
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
