"""Count what a piece of work sends to PostgreSQL: the statement budget of a command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class StatementCount:
    """Statements are every SQL text sent (SAVEPOINT and RELEASE included); transactions
    are every BEGIN; checkouts are connections taken from the pool (each costs a ping
    round trip with `pool_pre_ping`). BEGIN and COMMIT themselves are not statements."""

    statements: int = 0
    transactions: int = 0
    checkouts: int = 0
    texts: list[str] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        """Statements plus each transaction's BEGIN and COMMIT."""
        return self.statements + 2 * self.transactions


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[StatementCount]:
    """Count what `engine` sends while the block runs (from every task using it)."""
    count = StatementCount()
    sync_engine = engine.sync_engine

    def on_execute(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        count.statements += 1
        count.texts.append(statement)

    def on_begin(conn: Any) -> None:
        count.transactions += 1

    def on_checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        count.checkouts += 1

    event.listen(sync_engine, "before_cursor_execute", on_execute)
    event.listen(sync_engine, "begin", on_begin)
    event.listen(sync_engine.pool, "checkout", on_checkout)
    try:
        yield count
    finally:
        event.remove(sync_engine, "before_cursor_execute", on_execute)
        event.remove(sync_engine, "begin", on_begin)
        event.remove(sync_engine.pool, "checkout", on_checkout)
