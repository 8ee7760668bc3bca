"""The clean-up between tests: every test starts on empty tables, ids from 1."""

from __future__ import annotations

from sqlalchemy import text

from core.app import load_models
from core.db import Base
from teddy.runtime import Runtime


async def empty_every_table(core: Runtime) -> None:
    """Empty every table and restart every id, as TRUNCATE of all of them would, at a
    third of its cost: only the tables the tests before touched (rows left, or an id
    sequence used: an insert rolled back still advances it) are emptied, by DELETE,
    children before parents; TRUNCATE makes new files for each table and, with CASCADE,
    for every table that refers to it, whether or not it holds a row."""
    touched = await _touched_tables(core)
    if not touched:
        return
    async with core.db.transaction() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in touched:
                await session.execute(text(f'DELETE FROM "{table.name}"'))
        await session.execute(text(_RESTART_USED_SEQUENCES))


async def _touched_tables(core: Runtime) -> set[str]:
    load_models()
    names = [t.name for t in Base.metadata.sorted_tables]
    with_rows = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT FROM \"{name}\")" for name in names
    )
    async with core.db.transaction() as session:
        rows = await session.execute(text(f"{with_rows} UNION {_WITH_USED_SEQUENCE}"))
        return {name for (name,) in rows} & set(names)


# Tables owning a sequence (serial or identity column) that was read since its restart.
_WITH_USED_SEQUENCE = """
SELECT DISTINCT t.relname::text FROM pg_sequences s
JOIN pg_class sc ON sc.relname = s.sequencename
JOIN pg_namespace n ON n.oid = sc.relnamespace AND n.nspname = s.schemaname
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = sc.oid
    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE s.schemaname = current_schema() AND s.last_value IS NOT NULL
"""

_RESTART_USED_SEQUENCES = """
SELECT setval(format('%I.%I', s.schemaname, s.sequencename), 1, false) FROM pg_sequences s
WHERE s.schemaname = current_schema() AND s.last_value IS NOT NULL
"""
