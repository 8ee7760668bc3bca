"""Which failures are worth retrying: lost connections to PostgreSQL or Redis."""

from __future__ import annotations

import asyncpg
import redis.exceptions
import sqlalchemy.exc

TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectionError,
    # A restarting PostgreSQL removes its Unix socket for a moment; asyncpg's connect then
    # raises the bare OSError (SQLAlchemy does not wrap errors from opening a connection).
    FileNotFoundError,
    TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.AdminShutdownError,
    sqlalchemy.exc.DisconnectionError,
)


def is_transient(exc: BaseException) -> bool:
    """True for errors that a retry a little later can fix (the server was restarting)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TRANSIENT):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.orig is not None:
            current = current.orig
            continue
        current = current.__cause__ or current.__context__
    return False
