"""Each test starts on empty tables with ids from 1 (tests/conftest.py): the clean-up
between tests truncates only the tables the tests before touched, so it must see each."""

from __future__ import annotations

from sqlalchemy import func, select, text

from core.app import load_models
from core.db import Base
from core.identity.models import User
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver
from tests.support.clean_tables import empty_every_table

ROOM = "(platform, external_id, title, timezone) VALUES ('test', 'x', '', 'UTC')"


async def test_the_clean_up_empties_every_table_and_restarts_every_id(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/start")
    await chat.say("/task Read chapter 3 tomorrow")
    await _insert_rolled_back(core)  # advances the sequence of `rooms`, leaves no row
    assert await _rows(core, "tasks") == 1

    await empty_every_table(core)

    load_models()
    for table in Base.metadata.sorted_tables:
        assert await _rows(core, table.name) == 0, table.name
    await chat.say("/start")
    await _insert_rolled_back(core)
    async with core.db.transaction() as session:
        assert await session.scalar(select(func.min(User.id))) == 1
        room_id = await session.scalar(
            text("SELECT nextval(pg_get_serial_sequence('rooms', 'id'))")
        )
    assert room_id == 2  # 1 went to the rolled-back insert after the clean-up


async def test_a_clean_up_with_nothing_touched_leaves_the_tables_empty(core: Runtime) -> None:
    await empty_every_table(core)
    load_models()
    for table in Base.metadata.sorted_tables:
        assert await _rows(core, table.name) == 0, table.name


async def _insert_rolled_back(core: Runtime) -> None:
    async with core.db.sessions() as session:
        await session.execute(text(f"INSERT INTO rooms {ROOM}"))
        await session.rollback()


async def _rows(core: Runtime, table: str) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)
