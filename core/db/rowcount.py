"""How many rows an UPDATE or DELETE touched."""

from __future__ import annotations

from sqlalchemy import CursorResult, Result


def rows_affected(result: Result[*tuple[object, ...]]) -> int:
    """The driver's row count of an UPDATE or DELETE. `AsyncSession.execute` is typed to
    return a `Result`; for these statements it is a `CursorResult`, which carries the count."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} carries no row count")
    return int(result.rowcount)
