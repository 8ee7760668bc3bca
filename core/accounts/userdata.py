"""Operations over *all* of a user's data, whichever capability owns it.

Nothing here names another capability's tables: the schema is read from `Base.metadata`
(after `core.app.load_models()`). A table belongs to a user when it has a foreign key to
`users.id`; a table without one belongs to the user through a parent row it references
(cards of the user's deck). So capabilities added later are merged, exported and deleted
without changes here. The export leaves out the tables a capability declares `private`
(see `core.app.capabilities()`); a test keeps every table of a user declared by its
capability as exported or private, so that choice is made when a table is added."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.app import capabilities, load_models, private_tables
from core.capability import UserDataHooks
from core.db import Base, rows_affected

# Never exported, whatever a capability declares: a column is private when its name
# holds a marker, or names a token or a code ("token", "bot_token_sealed", "link_code"),
# so a capability's future secret column stays out of exports by being named for what
# it is. ("tokens_in", a count of LLM tokens, is not one.)
PRIVATE_COLUMN_MARKERS = ("password", "hash", "secret", "csrf", "sealed")
PRIVATE_COLUMN_NAME = re.compile(r"(^|_)(token|code)(_|$)")
MAX_MERGE_DEPTH = 6


def _hooks() -> list[tuple[str, UserDataHooks]]:
    """Each capability's declared user-data hooks, by capability name."""
    return [(c.name, c.userdata) for c in capabilities() if c.userdata is not None]


def users_table() -> Table:
    load_models()
    return Base.metadata.tables["users"]


def user_columns(table: Table, *, include_set_null: bool = True) -> list[Column[Any]]:
    """The columns of `table` that reference users.id."""
    users = users_table()
    found: list[Column[Any]] = []
    for fk in table.foreign_keys:
        if fk.column.table is users and fk.parent.table is table:
            if not include_set_null and (fk.ondelete or "").upper() in ("SET NULL", "SET DEFAULT"):
                continue
            found.append(fk.parent)
    return found


def owned_clauses(user_id: int, *, for_delete: bool = False) -> dict[Table, ColumnElement[bool]]:
    """For every table holding some of the user's rows, a WHERE clause selecting them."""
    users = users_table()
    clauses: dict[Table, ColumnElement[bool]] = {}
    for table in Base.metadata.sorted_tables:
        if table is users:
            continue
        direct = user_columns(table, include_set_null=not for_delete)
        if direct:
            clauses[table] = or_(*(col == user_id for col in direct))
            continue
        if user_columns(table):
            continue  # only nullable author links: the row belongs to someone else (a room)
        via_parent = [
            fk.parent.in_(select(fk.column).where(clauses[fk.column.table]))
            for fk in table.foreign_keys
            if fk.column.table in clauses
        ]
        if via_parent:
            clauses[table] = or_(*via_parent)
    return clauses


# Export ------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    tolist = getattr(value, "tolist", None)  # pgvector values arrive as numpy arrays
    if callable(tolist):
        return tolist()
    return str(value)


def is_private_column(name: str) -> bool:
    lowered = name.lower()
    return (
        any(marker in lowered for marker in PRIVATE_COLUMN_MARKERS)
        or PRIVATE_COLUMN_NAME.search(lowered) is not None
    )


def _public_columns(table: Table) -> list[Column[Any]]:
    return [col for col in table.columns if not is_private_column(col.name)]


async def export_user(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Everything stored about the user, as JSON-ready data: their profile, every row of
    every table they own (and rows that hang off those), and what export hooks add."""
    users = users_table()
    profile = (
        (await session.execute(select(*_public_columns(users)).where(users.c.id == user_id)))
        .mappings()
        .first()
    )
    if profile is None:
        return {}
    tables: dict[str, list[dict[str, Any]]] = {}
    private = private_tables()
    for table, clause in owned_clauses(user_id).items():
        if table.name in private:
            continue
        columns = _public_columns(table)
        order = list(table.primary_key.columns) or columns[:1]
        result = await session.execute(select(*columns).where(clause).order_by(*order))
        rows = [{k: _jsonable(v) for k, v in row.items()} for row in result.mappings()]
        if rows:
            tables[table.name] = rows
    extra = {
        name: await hooks.export(session, user_id)
        for name, hooks in _hooks()
        if hooks.export is not None
    }
    return {
        "format": "study-teddy-export/1",
        "user": {k: _jsonable(v) for k, v in profile.items()},
        "tables": tables,
        "extra": extra,
    }


# Delete ------------------------------------------------------------------------------


async def delete_user(session: AsyncSession, user_id: int) -> dict[str, int]:
    """Remove the user and every row they own (children before parents). Rows of rooms
    that only name the user as author keep existing with the author cleared (SET NULL).
    Returns the number of rows deleted per table."""
    await session.flush()
    users = users_table()
    for _, hooks in _hooks():
        if hooks.delete is not None:
            await hooks.delete(session, user_id)
    clauses = owned_clauses(user_id, for_delete=True)
    counts: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        clause = clauses.get(table)
        if clause is None:
            continue
        result = await session.execute(delete(table).where(clause))
        count = rows_affected(result)
        if count:
            counts[table.name] = count
    await session.execute(delete(users).where(users.c.id == user_id))
    session.expunge_all()
    return counts


# Merge -------------------------------------------------------------------------------


def _unique_keys(table: Table) -> list[set[str]]:
    keys: list[set[str]] = []
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint) and constraint.columns:
            keys.append({c.name for c in constraint.columns})
    for index in table.indexes:
        if index.unique and index.dialect_options["postgresql"].get("where") is None:
            keys.append({c.name for c in index.columns if isinstance(c, Column)})
    return keys


async def _move_references(
    session: AsyncSession, column: Column[Any], old: Any, new: Any, depth: int = 0
) -> None:
    """Point every row whose `column` is `old` at `new`. Where that would break a unique
    key (both have a membership of the same room, a card state for the same card), the
    old row is folded into the new one: its own children move first, then it goes."""
    table = column.table
    assert isinstance(table, Table)
    pk = list(table.primary_key.columns)
    for key in _unique_keys(table):
        if column.name not in key:
            continue
        others = key - {column.name}
        mine, theirs = table.alias("mine"), table.alias("theirs")
        condition = and_(
            mine.c[column.name] == old,
            theirs.c[column.name] == new,
            *(mine.c[name] == theirs.c[name] for name in others),
        )
        pairs_from = mine.join(theirs, condition)
        # Numbering is per owner (task #3) only for the user's own rows; below that, the same
        # (note, ordinal) is the same card and folds.
        sequence = _sequence_column(table, others) if depth == 0 else None
        if sequence is not None:
            # A per-owner number (task #3): renumber the incoming rows after the kept ones.
            if await session.scalar(
                select(select(mine.c[column.name]).select_from(pairs_from).exists())
            ):
                top = await session.scalar(
                    select(func.max(theirs.c[sequence.name])).where(theirs.c[column.name] == new)
                )
                bottom = await session.scalar(
                    select(func.min(mine.c[sequence.name])).where(mine.c[column.name] == old)
                )
                offset = int(top or 0) - int(bottom or 0) + 1
                # One statement, so no row ever holds a number another row still has.
                await session.execute(
                    update(table)
                    .where(column == old)
                    .values({column.name: new, sequence.name: sequence + offset})
                )
            continue
        if len(pk) == 1 and depth < MAX_MERGE_DEPTH:
            pairs = (
                await session.execute(
                    select(mine.c[pk[0].name], theirs.c[pk[0].name]).select_from(pairs_from)
                )
            ).all()
            for old_row, new_row in pairs:
                await _fold_row(session, table, pk[0], old_row, new_row, depth + 1)
        else:
            theirs_row = (
                select(theirs.c[column.name])
                .where(theirs.c[column.name] == new, *(theirs.c[n] == table.c[n] for n in others))
                .exists()
            )
            await session.execute(delete(table).where(column == old, theirs_row))
    await session.execute(update(table).where(column == old).values({column.name: new}))


def _sequence_column(table: Table, others: set[str]) -> Column[Any] | None:
    """The one integer column (not a reference) that, with the owner, must be unique."""
    if len(others) != 1:
        return None
    column = table.c[next(iter(others))]
    if column.foreign_keys or not isinstance(column.type, Integer):
        return None
    return column


async def _fold_row(
    session: AsyncSession, table: Table, pk: Column[Any], old: Any, new: Any, depth: int
) -> None:
    for other in Base.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column is pk and fk.parent.table is other:
                await _move_references(session, fk.parent, old, new, depth)
    await session.execute(delete(table).where(pk == old))


async def merge_users(session: AsyncSession, *, source_id: int, target_id: int) -> None:
    """Fold the source user into the target: every row of every table that references the
    source now references the target, then the source user is deleted. The target keeps its
    profile; an email and password move over only if the target has none, and with them the
    name the student typed on the web."""
    if source_id == target_id:
        return
    await session.flush()
    users = users_table()
    for _, hooks in _hooks():
        if hooks.merge is not None:
            await hooks.merge(session, source_id, target_id)
    for table in Base.metadata.sorted_tables:
        for column in user_columns(table):
            await _move_references(session, column, source_id, target_id)
    source = (
        await session.execute(
            select(users.c.email, users.c.password_hash, users.c.display_name).where(
                users.c.id == source_id
            )
        )
    ).first()
    target = (await session.execute(select(users.c.email).where(users.c.id == target_id))).first()
    await session.execute(delete(users).where(users.c.id == source_id))
    if source is not None and target is not None and target.email is None and source.email:
        await session.execute(
            update(users)
            .where(users.c.id == target_id)
            # A web account's name was typed by the student; a chat account's came from
            # the platform: the typed one wins.
            .values(
                email=source.email,
                password_hash=source.password_hash,
                display_name=source.display_name,
            )
        )
    for _, hooks in _hooks():
        if hooks.merged is not None:
            await hooks.merged(session, target_id)
    session.expunge_all()
