"""Undo (button and /undo) for /del, /done and the last review grade, for ten minutes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.chat.messages import Reply
from core.clock import FixedClock
from core.flashcards.models import CardState, ReviewLog
from core.tasks.models import Task
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver
from tests.support.chat_replies import button


def text(replies: list[Reply]) -> str:
    return "\n".join(r.plain_text() for r in replies)


async def task_rows(core: Runtime) -> list[dict[str, Any]]:
    async with core.db.transaction() as session:
        tasks = await session.scalars(select(Task).order_by(Task.id))
        return [
            {c.name: getattr(t, c.key) for c in Task.__table__.columns if c.name != "updated_at"}
            for t in tasks
        ]


async def card_states(core: Runtime) -> list[dict[str, Any]]:
    async with core.db.transaction() as session:
        rows = await session.scalars(select(CardState).order_by(CardState.card_id))
        return [{c.name: getattr(r, c.key) for c in CardState.__table__.columns} for r in rows]


async def reviews(core: Runtime) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(ReviewLog)) or 0)


async def test_a_deleted_task_comes_back_exactly_with_the_undo_button(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/task Lab report fri 5pm #chem !high")
    await chat.say("/task Read chapter 3")
    before = await task_rows(core)
    deleted = await chat.send("/del 1")
    assert "Deleted 1. Lab report" in text(deleted)
    restored = await chat.press(button(deleted, "↩ Undo"))
    assert "Restored 1. Lab report" in text(restored)
    assert await task_rows(core) == before
    again = await chat.press(button(deleted, "↩ Undo"))
    assert "nothing to undo" in text(again)
    assert "1. Lab report" in await chat.say("/tasks")


async def test_undo_takes_back_the_latest_of_del_and_done(core: Runtime, chat: ChatDriver) -> None:
    await chat.say("/task Essay")
    await chat.say("/task Poster")
    await chat.say("/done 1")
    await chat.say("/del 2")
    assert "Restored 2. Poster" in await chat.say("/undo")
    assert "1. Essay is open again" in await chat.say("/undo")
    assert "Nothing to undo" in await chat.say("/undo")
    rows = await task_rows(core)
    assert [(r["number"], r["completed_at"]) for r in rows] == [(1, None), (2, None)]


async def test_undo_is_refused_after_ten_minutes(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/task Essay")
    deleted = await chat.send("/del 1")
    clock.advance(timedelta(minutes=11))
    assert "too late to undo" in text(await chat.press(button(deleted, "↩ Undo")))
    assert "Nothing to undo" in await chat.say("/undo")
    assert await task_rows(core) == []


async def test_undoing_a_grade_restores_the_fsrs_state_and_review_log_exactly(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/deck Bio")
    await chat.say("/card cell | unit of life")
    shown = await chat.press(button(await chat.send("/review"), "Show answer"))
    await chat.press(button(shown, "Good"))
    clock.advance(timedelta(days=3))
    before, logged = await card_states(core), await reviews(core)

    shown = await chat.press(button(await chat.send("/review"), "Show answer"))
    graded = await chat.press(button(shown, "Again"))
    assert await card_states(core) != before and await reviews(core) == logged + 1
    undone = await chat.press(button(graded, "↩ Undo"))
    assert "Took back Again" in text(undone) and "cell" in text(undone)
    assert await card_states(core) == before
    assert await reviews(core) == logged

    # The card can be answered afresh in the same session.
    regraded = await chat.press(button(await chat.press(button(undone, "Show answer")), "Good"))
    assert "Good · next in" in text(regraded)
    assert await reviews(core) == logged + 1
    assert "Took back Good" in await chat.say("/undo")
    assert await card_states(core) == before


async def test_only_a_cards_last_grade_is_undone_and_only_by_its_owner(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/deck Bio")
    await alice.say("/card cell | unit of life")
    first = await alice.press(button(await alice.send("/review"), "Show answer"))
    graded = await alice.press(button(first, "Again"))
    undo_first = button(graded, "↩ Undo")
    clock.advance(timedelta(minutes=5))
    second = await alice.press(button(await alice.send("/review"), "Show answer"))
    await alice.press(button(second, "Good"))

    assert "nothing to undo" in text(await bob.press(undo_first))
    assert "Nothing to undo" in await bob.say("/undo")
    assert "only its last grade" in text(await alice.press(undo_first))
    await bob.say("/task Bob's task")
    deleted = await bob.send("/del 1")
    assert "nothing to undo" in text(await alice.press(button(deleted, "↩ Undo")))
    assert await reviews(core) == 2
