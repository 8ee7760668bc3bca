import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.identity.models import User
from core.jobs import JobContext, enqueue_after_commit, job
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver
from tests.support.job_failures import JobFailures

seen: list[int] = []


@job("test.record")
async def record(jc: JobContext, value: int) -> None:
    async with jc.db.transaction() as session:
        # The job sees rows committed by the transaction that enqueued it.
        assert await session.get(User, value) is not None
    seen.append(value)


async def test_jobs_enqueued_in_a_transaction_run_only_after_commit(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/start")
    async with core.db.transaction() as session:
        user = User(display_name="x")
        session.add(user)
        await session.flush()
        await enqueue_after_commit(session, core.services.jobs, "test.record", value=user.id)
        await asyncio.sleep(0.05)
        assert user.id not in seen
    assert await core.services.jobs.drain(5)  # type: ignore[attr-defined]
    assert user.id in seen


async def test_rolled_back_transaction_enqueues_nothing(core: Runtime) -> None:
    before = list(seen)
    try:
        async with core.db.transaction() as session:
            await enqueue_after_commit(session, core.services.jobs, "test.record", value=-1)
            raise ValueError("abort")
    except ValueError:
        pass
    await core.services.jobs.drain(5)  # type: ignore[attr-defined]
    assert seen == before


async def test_notifications_are_deduplicated_and_wait_for_quiet_hours(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings tz Europe/Berlin")
    await chat.say("/settings quiet 22:00-07:00")
    night = clock.now().replace(hour=23)  # 00:00 in Berlin
    async with core.db.transaction() as session:
        user = await session.scalar(select(User))
        assert user is not None
        first = await outbox.notify_user(
            session, user, kind="reminder", text="hi", dedupe_key="k1", at=night
        )
        second = await outbox.notify_user(
            session, user, kind="reminder", text="hi", dedupe_key="k1", at=night
        )
    assert (first, second) == (True, False)
    async with core.db.transaction() as session:
        assert await outbox.claim_due(session, "test", night + timedelta(hours=6, minutes=59)) == []
        due = await outbox.claim_due(session, "test", night + timedelta(hours=7))
        assert [m.text for m in due] == ["hi"]
        outbox.mark_delivered(due[0], night)
    async with core.db.transaction() as session:
        assert await outbox.claim_due(session, "test", night + timedelta(days=2)) == []


async def test_concurrent_deliverers_never_claim_the_same_message(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/start")
    now = core.services.clock.now()
    async with core.db.transaction() as session:
        user = await session.scalar(select(User))
        assert user is not None
        for i in range(10):
            await outbox.notify_user(
                session,
                user,
                kind="t",
                text=str(i),
                dedupe_key=f"c{i}",
                at=now,
                respect_quiet_hours=False,
            )
    async with core.db.transaction() as s1, core.db.transaction() as s2:
        a = await outbox.claim_due(s1, "test", now, limit=6)
        b = await outbox.claim_due(s2, "test", now, limit=6)
        assert len(a) == 6 and len(b) == 4
        assert not {m.id for m in a} & {m.id for m in b}
    async with core.db.transaction() as session:
        assert len(list(await session.scalars(select(OutboxMessage)))) == 10


@job("test.explode")
async def explode(jc: JobContext, why: str) -> None:
    raise RuntimeError(why)


async def test_a_failed_job_fails_the_test_unless_the_test_takes_it(
    core: Runtime, job_failures: JobFailures
) -> None:
    await core.services.jobs.enqueue("test.explode", {"why": "on purpose"})
    assert await core.services.jobs.drain(5)  # type: ignore[attr-defined]
    with pytest.raises(pytest.fail.Exception, match="on purpose"):
        job_failures.check()
    [(name, error)] = job_failures.take()
    assert (name, str(error)) == ("test.explode", "on purpose")
    job_failures.check()  # taken: nothing left to fail the test
