"""What one command costs the database: statements, transactions and pool round trips.

A correctness budget, not a timing test: counted with the engine's own event hooks."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select, text, update

from core.chat.messages import Conversation, Incoming, Sender
from core.clock import FixedClock
from core.db import Database
from core.db.counting import StatementCount, counting
from core.identity.models import Identity, Membership, ProcessedEvent, Room
from teddy.runtime import Runtime
from teddy.servers import Servers
from tests.support.chat_driver import ChatDriver

SIMPLE_COMMAND_BUDGET = 4  # issue 22


async def _counted(core: Runtime, driver: ChatDriver, text: str, event_id: str) -> StatementCount:
    incoming = Incoming(driver.sender, driver.chat, text=text, mentioned=True, event_id=event_id)
    with counting(core.db.engine) as counted:
        replies = await core.dispatcher.handle(incoming)
    assert replies, "the command was answered"
    return counted


async def test_settings_stays_within_the_statement_budget_in_one_transaction(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/start")
    counted = await _counted(core, chat, "/settings", "ev-1")
    assert counted.statements <= SIMPLE_COMMAND_BUDGET, counted.texts
    assert counted.transactions == 1


async def test_a_known_member_in_a_room_is_found_and_deduplicated_in_one_statement(
    core: Runtime, make_chat: Any
) -> None:
    ann = make_chat("ann", room="bio")
    await ann.say("/start")
    counted = await _counted(core, ann, "/settings", "ev-room-1")
    assert counted.statements == 1, counted.texts
    assert counted.transactions == 1


async def test_someone_back_after_a_while_is_marked_seen_by_the_same_statement(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/start")
    clock.advance(timedelta(hours=3))
    counted = await _counted(core, chat, "/settings", "ev-later")
    assert counted.statements == 1, counted.texts
    async with core.db.transaction() as session:
        seen = await session.scalar(
            select(Identity.last_seen_at).where(Identity.external_id == chat.sender.external_id)
        )
    assert seen == clock.now()


async def test_a_new_name_and_direct_chat_are_recorded_by_one_more_statement(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/start")
    async with core.db.transaction() as session:
        await session.execute(update(Identity).values(unreachable=True))
    chat.sender = Sender("test", chat.sender.external_id, "Alice Renamed")
    chat.chat = Conversation("test", "dm-alice-new", True)
    counted = await _counted(core, chat, "/settings", "ev-renamed")
    assert counted.statements == 2, counted.texts
    async with core.db.transaction() as session:
        identity = await session.scalar(
            select(Identity).where(Identity.external_id == chat.sender.external_id)
        )
    assert identity is not None
    assert (identity.display_name, identity.dm_chat_id) == ("Alice Renamed", "dm-alice-new")
    assert identity.unreachable is False
    assert (await _counted(core, chat, "/settings", "ev-same")).statements == 1


async def test_a_writing_command_is_one_transaction(core: Runtime, chat: ChatDriver) -> None:
    await chat.say("/start")
    counted = await _counted(core, chat, "/task Lab report tomorrow", "ev-task")
    assert counted.transactions == 1
    assert "Lab report" in await chat.say("/tasks")


async def test_a_redelivered_event_in_a_room_is_skipped_and_creates_nothing_more(
    core: Runtime, make_chat: Any
) -> None:
    bob = make_chat("bob", room="chem")
    first = await bob.send("/settings tz Asia/Tokyo", event_id="upd-7")
    again = await bob.send("/settings tz Europe/Paris", event_id="upd-7")
    assert first and "Asia/Tokyo" in first[0].plain_text()
    assert again == []
    assert "Asia/Tokyo" in await bob.say("/settings")
    async with core.db.transaction() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (Room, Membership, ProcessedEvent)
        ]
    assert counts == [1, 1, 1]


async def test_taking_a_connection_from_the_pool_sends_nothing_to_the_server(
    servers: Servers,
) -> None:
    db = Database(servers.database_url, pool_size=1)
    sent: list[str] = []
    try:
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            raw.driver_connection.add_query_logger(lambda record: sent.append(record.query))
        async with db.engine.connect() as conn:
            await conn.get_raw_connection()
        await asyncio.sleep(0)  # query loggers are called soon after, not inline
        assert sent == []
    finally:
        await db.dispose()


async def test_connections_opened_under_load_stay_open_for_the_next_burst(
    servers: Servers,
) -> None:
    db = Database(servers.database_url, pool_size=1)  # up to two connections at once
    opened: list[object] = []
    event.listen(db.engine.sync_engine.pool, "connect", lambda *args: opened.append(args))

    async def burst() -> None:
        both_hold_one = asyncio.Barrier(2)

        async def command() -> None:
            async with db.transaction() as session:
                await session.execute(text("SELECT 1"))
                await both_hold_one.wait()

        await asyncio.gather(command(), command())

    try:
        await burst()
        assert len(opened) == 2
        await burst()
        assert len(opened) == 2, "the second burst reopened a connection"
    finally:
        await db.dispose()


async def test_a_connection_the_server_closed_is_replaced_before_the_next_command(
    core: Runtime, chat: ChatDriver, servers: Servers
) -> None:
    await chat.say("/settings tz Asia/Tokyo")  # leaves connections idle in the pool
    killer = Database(servers.database_url, pool_size=1)
    try:
        async with killer.engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            )
    finally:
        await killer.dispose()
    await asyncio.sleep(0.2)  # the event loop reads each closed socket
    assert "Asia/Tokyo" in await chat.say("/settings")


async def test_a_connection_idle_for_long_is_pinged_before_reuse(servers: Servers) -> None:
    # A worker's event loop does not run between jobs, so it cannot have seen the server
    # close an idle connection: such a connection is pinged before it is handed out.
    db = Database(servers.database_url, pool_size=1, ping_after_idle=0.0)
    sent: list[str] = []
    try:
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            raw.driver_connection.add_query_logger(lambda record: sent.append(record.query))
        async with db.engine.connect() as conn:
            await conn.get_raw_connection()
        await asyncio.sleep(0)
        assert ";" in sent
    finally:
        await db.dispose()
