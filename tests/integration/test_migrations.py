from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.engine import async_url
from teddy import migrate
from teddy.servers import Servers


async def tables(url: str) -> set[str]:
    engine = create_async_engine(async_url(url))
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        names = {r[0] for r in rows}
    await engine.dispose()
    return names


async def test_migrations_downgrade_to_empty_and_upgrade_again(servers: Servers, core) -> None:  # type: ignore[no-untyped-def]
    url = servers.database_url
    assert {"users", "identities", "rooms", "outbox"} <= await tables(url)
    await core.db.engine.dispose()
    await migrate.downgrade_async(url, "base")
    assert await tables(url) <= {"alembic_version"}
    await migrate.upgrade_async(url, "heads")
    assert {"users", "identities", "rooms", "outbox"} <= await tables(url)
