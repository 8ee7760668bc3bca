"""Migrations under an advisory lock: replicas starting at once on a fresh database; a
start on a database at the heads learns so without Alembic."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from core.db.engine import async_url
from teddy import migrate
from teddy.servers import Servers


def plain(url: str) -> str:
    return async_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def fresh_database(servers: Servers) -> AsyncIterator[str]:
    name = f"teddy_fresh_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain(servers.database_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base, _, _query = servers.database_url.partition("?")
        root, _, _old = base.rpartition("/")
        query = f"?{_query}" if _query else ""
        yield f"{root}/{name}{query}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_two_processes_upgrading_a_fresh_database_at_once_both_succeed(
    fresh_database: str,
) -> None:
    await asyncio.gather(
        asyncio.to_thread(migrate.upgrade, fresh_database),
        asyncio.to_thread(migrate.upgrade, fresh_database),
    )
    connection = await asyncpg.connect(plain(fresh_database))
    try:
        heads = await connection.fetch("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()
    assert "0072_pending_jobs" in {row[0] for row in heads}


def test_the_heads_read_from_the_scripts_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    alembic_heads = ScriptDirectory.from_config(migrate.alembic_config("postgresql://x/y"))
    assert migrate.script_heads() == frozenset(alembic_heads.get_heads())


async def test_a_start_on_a_database_at_the_heads_skips_alembic_and_a_fresh_one_upgrades(
    fresh_database: str,
) -> None:
    assert await migrate.applied_revisions(fresh_database) is None
    assert await migrate.upgrade_if_behind(fresh_database) is True
    assert await migrate.applied_revisions(fresh_database) == migrate.script_heads()
    assert await migrate.upgrade_if_behind(fresh_database) is False

    await migrate.downgrade_async(fresh_database, "maintenance@-1")  # one branch behind
    assert await migrate.applied_revisions(fresh_database) != migrate.script_heads()
    assert await migrate.upgrade_if_behind(fresh_database) is True
    assert await migrate.applied_revisions(fresh_database) == migrate.script_heads()
