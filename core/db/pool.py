"""Checking pooled connections cheaply: what `pool_pre_ping` did, without its cost.

`pool_pre_ping` sends BEGIN, a ping and ROLLBACK (three round trips, and a transaction the
server counts) every time a connection leaves the pool: more than the whole of a simple
command. A connection in steady use needs none of that; one that sat idle might have been
closed behind our back, and the check below finds it."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

# A connection back in the pool for longer than this is pinged before reuse. Under load a
# connection is idle for milliseconds; a worker between jobs or a quiet bot is idle longer.
PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "teddy_idle_since"


def guard_pool(engine: AsyncEngine, ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Replace a pooled connection the server closed before handing it out. A closed socket
    the event loop has already seen costs nothing to detect; a connection idle longer than
    `ping_after_idle` seconds (the loop may not have run meanwhile, as in a worker between
    jobs) is pinged first."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since <= ping_after_idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("an idle connection no longer answers") from error

    event.listen(pool, "checkin", on_checkin)
    event.listen(pool, "checkout", on_checkout)
