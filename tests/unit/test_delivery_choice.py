"""How the deliverer picks a round's rows (`Deliverer._choose`) and how long it waits when
it picks none (`Deliverer._until_next`), on a pacer whose clock the test moves."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

import pytest

from bots.delivery import Deliverer, Pace, Pacer
from core.clock import FixedClock
from core.db import Database
from core.outbox.models import OutboxMessage


class FakeTime:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def deliverer(pace: Pace, time: FakeTime, idle_seconds: float = 120.0) -> Deliverer:
    async def send(row: OutboxMessage, edit_of: str | None) -> str | None:
        return None

    clock = FixedClock(datetime(2026, 12, 3, tzinfo=UTC))
    # _choose and _until_next never touch the database.
    worker = Deliverer(cast(Database, None), clock, "test", send, pace, idle_seconds=idle_seconds)
    worker.pacer = Pacer(pace, time, tenant_of=worker.tenant_of)
    return worker


def rows(*chats: str) -> list[OutboxMessage]:
    return [OutboxMessage(id=n, chat_id=chat, room_id=None) for n, chat in enumerate(chats)]


def sent_to(worker: Deliverer, chat: str) -> None:
    async def one() -> None:
        async with worker.pacer.turn(chat, False):
            pass

    asyncio.run(one())


def test_a_round_takes_exactly_the_tenants_per_second_budget() -> None:
    pace = Pace(per_second=2, chat_interval=1.0, group_per_minute=20, slack=0.0)
    worker = deliverer(pace, FakeTime())
    chosen = worker._choose(rows("a", "b", "c", "d", "e"))
    assert [r.chat_id for r in chosen] == ["a", "b"]


def test_a_round_takes_one_row_per_chat_in_queue_order() -> None:
    pace = Pace(per_second=30, chat_interval=1.0, group_per_minute=20, slack=0.0)
    worker = deliverer(pace, FakeTime())
    chosen = worker._choose(rows("a", "a", "b", "a", "c"))
    assert [r.id for r in chosen] == [0, 2, 4]


def test_a_chat_free_exactly_one_second_ahead_is_chosen() -> None:
    time = FakeTime()
    pace = Pace(per_second=30, chat_interval=1.0, group_per_minute=20, slack=0.0)
    worker = deliverer(pace, time)
    sent_to(worker, "a")  # answered at 100.0: free again at 101.0, the horizon
    assert [r.chat_id for r in worker._choose(rows("a"))] == ["a"]


def test_a_chat_free_later_than_one_second_ahead_waits_for_a_later_round() -> None:
    time = FakeTime()
    pace = Pace(per_second=30, chat_interval=1.5, group_per_minute=20, slack=0.0)
    worker = deliverer(pace, time)
    sent_to(worker, "a")  # free again at 101.5
    assert [r.chat_id for r in worker._choose(rows("a", "b"))] == ["b"]
    time.t = 100.5
    assert [r.chat_id for r in worker._choose(rows("a", "b"))] == ["a", "b"]


def test_the_wait_for_the_next_round_is_until_the_soonest_chat_is_free() -> None:
    time = FakeTime()
    pace = Pace(per_second=30, chat_interval=1.0, group_per_minute=20, slack=0.0)
    worker = deliverer(pace, time)
    sent_to(worker, "a")
    time.t = 100.7
    assert worker._until_next(rows("a")) == pytest.approx(0.3)
    time.t = 101.0
    assert worker._until_next(rows("a")) == 0.05  # free already: a short wait, never none
    short = deliverer(pace, time, idle_seconds=0.2)
    sent_to(short, "a")  # free at 102.0
    assert short._until_next(rows("a")) == 0.2  # never longer than an idle wait
