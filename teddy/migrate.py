"""Run Alembic migrations programmatically (`teddy db upgrade|downgrade|current`).

Each capability owns a branch of migrations rooted at the foundation revision, so
`upgrade` goes to `heads` (all branches) and `downgrade` defaults to `base`. Alembic's
env.py runs its own event loop: from async code use the `_async` variants."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config

from core.db.engine import async_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# pg_advisory_lock key of Study Teddy's migrations (any constant other apps do not use).
MIGRATION_LOCK = 0x7EDD_5C4E_3A11


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, target: str = "heads") -> None:
    """Upgrade under a PostgreSQL advisory lock: replicas that start at once migrate one
    after the other (the later ones find nothing left to do)."""
    with migration_lock(database_url):
        command.upgrade(alembic_config(database_url), target)


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """Hold the migrations' advisory lock on a connection of its own. Alembic's env.py runs
    its own event loop, so this one runs only while taking and releasing the lock."""
    loop = asyncio.new_event_loop()
    try:
        connection = loop.run_until_complete(_locked_connection(database_url))
        try:
            yield
        finally:
            loop.run_until_complete(connection.close())  # the lock ends with the session
    finally:
        loop.close()


async def _locked_connection(database_url: str) -> asyncpg.Connection:
    dsn = async_url(database_url).replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    except BaseException:
        await connection.close()
        raise
    return connection


def downgrade(database_url: str, target: str = "base") -> None:
    with migration_lock(database_url):
        command.downgrade(alembic_config(database_url), target)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=True)


async def upgrade_async(database_url: str, target: str = "heads") -> None:
    await asyncio.to_thread(upgrade, database_url, target)


async def downgrade_async(database_url: str, target: str = "base") -> None:
    await asyncio.to_thread(downgrade, database_url, target)
