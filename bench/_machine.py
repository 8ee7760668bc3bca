"""Print, as one JSON line, the versions of the PostgreSQL and Redis the benchmarks use
(the embedded ones in a temporary directory, or DATABASE_URL/REDIS_URL when set)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

import asyncpg
import redis

from core.settings import Settings
from teddy.servers import start_servers


async def postgres_versions(url: str) -> tuple[str, str | None]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        version = await conn.fetchval("SHOW server_version")
        vector = await conn.fetchval(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
        )
        return str(version), vector
    finally:
        await conn.close()


def main() -> None:
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    with (
        tempfile.TemporaryDirectory(prefix="teddy-bench-") as tmp,
        start_servers(Settings(teddy_home=Path(tmp))) as servers,
    ):
        postgres, pgvector = asyncio.run(postgres_versions(servers.database_url))
        client = redis.Redis.from_url(servers.redis_url)
        redis_version = client.info("server")["redis_version"]
        client.close()
    print(
        json.dumps(
            {
                "postgresql": postgres,
                "pgvector": pgvector,
                "redis": redis_version,
                "servers": "configured" if os.environ.get("DATABASE_URL") else "embedded",
            }
        )
    )


if __name__ == "__main__":
    main()
