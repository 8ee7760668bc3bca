"""Outbox delivery through the real PTB Bot to the stand-in, at Telegram's limits.

1,000 notifications (direct chats and two groups) with a 429 injected midway: checked
from the stand-in's own arrival log, never more than 30 messages in any second, one per
second in a chat, 20 per minute in a group, nothing during the retry-after pause, and each
notification exactly once. A user who blocked the bot is marked unreachable."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from core.chat.messages import Button, Conversation, Sender
from core.identity import service as identity
from core.identity.models import Identity, Room, User
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests.support.telegram_harness import TelegramBot, running_bot, wait_for
from tests.support.telegram_standin import Call

USERS = 100
DM_MESSAGES = 958
GROUP_MESSAGES = 21  # per group: one more than a minute allows
GROUPS = (-1001, -1002)
BLOCKED = "999"
RETRY_AFTER = 2


@pytest.fixture
async def bot(core: Runtime) -> AsyncIterator[TelegramBot]:
    async with running_bot(core) as running:
        yield running


async def queue_notifications(core: Runtime) -> None:
    now = core.services.clock.now()
    async with core.db.transaction() as session:
        users = []
        for n in range(USERS):
            sender = Sender("telegram", str(10_000 + n), f"Student {n}")
            users.append(
                await identity.user_for_sender(session, sender, now, dm_chat_id=sender.external_id)
            )
        blocked_sender = Sender("telegram", BLOCKED, "Gone")
        blocked = await identity.user_for_sender(session, blocked_sender, now, dm_chat_id=BLOCKED)
        rooms = [
            await identity.room_for_chat(
                session, Conversation("telegram", str(g), False, title="g"), users[0]
            )
            for g in GROUPS
        ]
        for_users: list[tuple[User, str]] = [
            (users[n % USERS], f"reminder {n}") for n in range(DM_MESSAGES)
        ]
        for_users += [(blocked, f"to the blocked user {i}") for i in range(3)]
        for_rooms = [(r, f"room note {i}-{r.id}") for r in rooms for i in range(GROUP_MESSAGES)]
        order = list(range(len(for_users) + len(for_rooms)))
        random.Random(8).shuffle(order)
        for k in order:
            if k < len(for_users):
                user, text = for_users[k]
                assert await outbox.notify_user(
                    session,
                    user,
                    kind="reminder",
                    text=text,
                    dedupe_key=text,
                    at=now,
                    respect_quiet_hours=False,
                    buttons=[Button("Done", "tasks.done:1")],
                )
            else:
                room, text = for_rooms[k - len(for_users)]
                assert await outbox.notify_room(
                    session, room, kind="room", text=text, dedupe_key=text, at=now
                )


def most_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_a_thousand_notifications_keep_telegram_limits_through_a_429(
    core: Runtime, bot: TelegramBot
) -> None:
    await queue_notifications(core)
    bot.standin.block(BLOCKED)
    bot.standin.fail("sendMessage", retry_after=RETRY_AFTER, after=300)
    deliverer = bot.adapter.deliverer()
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop))
    expected = DM_MESSAGES + GROUP_MESSAGES * len(GROUPS)
    try:
        await wait_for(lambda: len(bot.standin.sent("sendMessage")) >= expected, timeout=150)
        await asyncio.sleep(1.5)  # anything sent twice would show up now
    finally:
        stop.set()
        await task

    requests = [c for c in bot.standin.calls if c.method == "sendMessage"]
    ok = [c for c in requests if c.status == 200]
    texts = [c.params["text"] for c in ok]
    assert len(texts) == expected
    assert len(set(texts)) == expected  # none sent twice
    a_reminder = next(c for c in ok if c.params["text"].startswith("reminder"))
    assert a_reminder.keyboard == [[{"text": "Done", "callback_data": "tasks.done:1"}]]

    times = [c.at for c in requests]
    assert most_in_window(times, 1.0) <= 30
    by_chat: dict[str, list[Call]] = {}
    for call in requests:
        by_chat.setdefault(call.chat_id, []).append(call)
    for chat_id, calls in by_chat.items():
        gaps = [b.at - a.at for a, b in itertools.pairwise(calls)]
        assert min(gaps, default=1.0) >= 1.0, chat_id
        if chat_id.startswith("-"):
            assert most_in_window([c.at for c in calls], 60.0) <= 20
    assert all(sum(c.chat_id == str(g) for c in ok) == GROUP_MESSAGES for g in GROUPS)

    [limited] = [c for c in requests if c.status == 429]
    during_pause = [c for c in requests if limited.at + 0.2 < c.at < limited.at + RETRY_AFTER]
    assert during_pause == []
    assert limited.params["text"] in texts  # sent again after the pause, once

    async with core.db.transaction() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None))
        )
        gone = await session.scalar(select(Identity).where(Identity.external_id == BLOCKED))
        undelivered = list(await outbox.claim_due(session, "telegram", core.services.clock.now()))
        rooms = await session.scalar(select(func.count()).select_from(Room))
    assert gone is not None and gone.unreachable
    assert pending == 3  # the blocked user's, given up
    assert undelivered == []
    assert rooms == len(GROUPS)
    assert len(by_chat[BLOCKED]) == 1
