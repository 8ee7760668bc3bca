from datetime import timedelta

from sqlalchemy import func, select

from core.clock import FixedClock
from core.identity.models import ProcessedEvent
from core.jobs import JobContext, run_job
from core.maintenance import service as maintenance
from core.maintenance.models import FailedJob
from core.outbox.models import LiveMessage, OutboxMessage
from teddy.runtime import Runtime


async def test_the_sweep_deletes_bookkeeping_older_than_a_week_and_keeps_the_rest(
    core: Runtime, clock: FixedClock
) -> None:
    now = clock.now()
    async with core.db.transaction() as session:
        session.add_all(
            [
                ProcessedEvent(platform="t", event_id="old", created_at=now - timedelta(days=8)),
                ProcessedEvent(platform="t", event_id="new", created_at=now - timedelta(days=6)),
                LiveMessage(
                    platform="t",
                    chat_id="c",
                    live_id="old",
                    message_id="1",
                    created_at=now - timedelta(days=8),
                ),
                LiveMessage(
                    platform="t", chat_id="c", live_id="new", message_id="2", created_at=now
                ),
            ]
        )
    await run_job("maintenance.sweep_processed_events", JobContext(core.db, core.services), {})
    await run_job("maintenance.sweep_processed_events", JobContext(core.db, core.services), {})
    async with core.db.transaction() as session:
        events = await session.scalars(select(ProcessedEvent.event_id))
        lives = await session.scalars(select(LiveMessage.live_id))
        assert (list(events), list(lives)) == (["new"], ["new"])


async def test_a_dead_letter_failing_again_updates_its_row(
    core: Runtime, clock: FixedClock
) -> None:
    fields = {
        "task_id": "t-1",
        "job": "docs.ingest",
        "kwargs": {"document_id": 7},
        "traceback": "Traceback ...",
        "correlation_id": "abc",
    }
    async with core.db.transaction() as session:
        await maintenance.record_failed_job(
            session, error="E1", attempts=1, at=clock.now(), **fields
        )
    async with core.db.transaction() as session:
        await maintenance.record_failed_job(
            session, error="E2", attempts=4, at=clock.now(), **fields
        )
    async with core.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(FailedJob)) == 1
        (row,) = await maintenance.failed_jobs(session)
        assert (row.error, row.attempts, row.kwargs) == ("E2", 4, {"document_id": 7})
        assert await maintenance.count_failed_jobs(session) == 1


async def test_the_outbox_sweep_deletes_delivered_and_dead_rows_past_retention_in_batches(
    core: Runtime, clock: FixedClock
) -> None:
    now = clock.now()

    def row(key: str, *, age: timedelta, delivered: bool, **extra: object) -> OutboxMessage:
        at = now - age
        return OutboxMessage(
            dedupe_key=key,
            platform="t",
            chat_id="c",
            kind="reminder",
            text=key,
            created_at=at,
            deliver_after=at,
            delivered_at=at if delivered else None,
            **extra,
        )

    week = timedelta(days=7)
    async with core.db.transaction() as session:
        session.add_all(
            [
                row(f"old-sent-{i}", age=week + timedelta(hours=i + 1), delivered=True)
                for i in range(5)
            ]
            + [
                row("recent-sent", age=week - timedelta(hours=1), delivered=True),
                row("old-tick", age=timedelta(hours=25), delivered=True, live_id="focus-1"),
                row("recent-tick", age=timedelta(hours=23), delivered=True, live_id="focus-1"),
                row("old-dead", age=week + timedelta(hours=1), delivered=False, attempts=8),
                row("recent-dead", age=timedelta(days=1), delivered=False, attempts=8),
                row("old-pending", age=week * 2, delivered=False, attempts=3),
            ]
        )
    deleted = await maintenance.delete_expired_outbox(core.db, now, week, batch=2)
    assert deleted == 7
    await run_job("maintenance.sweep_outbox", JobContext(core.db, core.services), {})
    async with core.db.transaction() as session:
        kept = await session.scalars(select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id))
        assert list(kept) == ["recent-sent", "recent-tick", "recent-dead", "old-pending"]


async def test_the_outbox_retention_follows_the_setting(core: Runtime, clock: FixedClock) -> None:
    now = clock.now()
    async with core.db.transaction() as session:
        session.add(
            OutboxMessage(
                dedupe_key="two-days",
                platform="t",
                chat_id="c",
                kind="reminder",
                text="x",
                created_at=now - timedelta(days=2),
                delivered_at=now - timedelta(days=2),
            )
        )
    context = JobContext(core.db, core.services)
    await run_job("maintenance.sweep_outbox", context, {})
    async with core.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    core.services.settings = core.settings.model_copy(update={"outbox_retention_days": 1})
    await run_job("maintenance.sweep_outbox", context, {})
    async with core.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
