"""Deliver the notifications outbox for one platform at that platform's pace.

Generic over platforms: an adapter gives a `send` callback (send one outbox row, or edit the
live message it updates, and return the platform's message id) and its `Pace`. The callback
raises `RetryLater` when the platform says to slow down (HTTP 429 with a retry-after) and
`Unreachable` when the chat refuses the bot for good (blocked, kicked). Every other exception
is a transient failure, retried with back-off up to the outbox's attempt limit.

Each round claims due rows (`core.outbox.service.claim_due`, rows locked with SKIP LOCKED so
several deliverers share the work), sends at most one per chat and at most about one
second's worth overall, marks each row in the same transaction and commits. A crash
mid-round re-sends at most that round's rows: delivery is at least once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.db import Database
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from core.rooms import linking

log = logging.getLogger(__name__)

Send = Callable[[OutboxMessage, str | None], Awaitable[str | None]]
TenantOf = Callable[[str], str]


def one_tenant(chat_id: str) -> str:
    """The platform's limits are per bot: every chat shares one budget."""
    return ""


class RetryLater(Exception):
    """The platform asked to wait `seconds` before sending anything more."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g}s")
        self.seconds = seconds


class Unreachable(Exception):
    """The platform refuses messages to this chat for good (the user blocked the bot)."""


@dataclass(frozen=True)
class Pace:
    """A platform's sending limits. `slack` widens every window a little so that jitter
    between our clock and the platform's arrival times never crosses a limit."""

    per_second: int
    chat_interval: float
    group_per_minute: int
    # Events count from the answer, which the platform has surely received by then: the
    # slack only has to cover rounding, not network delay (each period of it costs a burst of
    # 1,000 messages 33 periods).
    slack: float = 0.01


TELEGRAM_PACE = Pace(per_second=30, chat_interval=1.0, group_per_minute=20)


INFLIGHT = float("inf")


class Window:
    """At most `limit` events in any `period` seconds. An event counts from when its
    request is answered (the platform has surely received it by then), and while it is in
    flight it blocks the window: so network delay can never squeeze two events closer
    together at the platform's end than here."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.events: list[list[float]] = []  # one-element cells, updated on completion

    def free_at(self) -> float:
        if len(self.events) < self.limit:
            return 0.0
        times = sorted((cell[0] for cell in self.events), reverse=True)
        return times[self.limit - 1] + self.period

    def start(self) -> list[float]:
        cell = [INFLIGHT]
        self.events.append(cell)
        return cell

    def finish(self, cell: list[float], at: float) -> None:
        cell[0] = at
        if len(self.events) > self.limit:
            self.events.sort(key=lambda c: c[0], reverse=True)
            del self.events[self.limit :]

    @property
    def last(self) -> float:
        return max((cell[0] for cell in self.events), default=0.0)


class Pacer:
    """Tracks what was sent when, per tenant (the bot, or a Slack workspace: whatever the
    platform's overall limit and its 429 pauses apply to) and per chat, and makes senders
    wait their turn."""

    def __init__(
        self,
        pace: Pace,
        monotonic: Callable[[], float] = time.monotonic,
        tenant_of: TenantOf = one_tenant,
    ) -> None:
        self.pace = pace
        self.now = monotonic
        self.tenant_of = tenant_of
        self.tenants: dict[str, Window] = {}
        self.chats: dict[str, Window] = {}
        self.groups: dict[str, Window] = {}
        self.paused: dict[str, float] = {}

    def _overall(self, chat_id: str) -> Window:
        tenant = self.tenant_of(chat_id)
        window = self.tenants.get(tenant)
        if window is None:
            window = self.tenants[tenant] = Window(self.pace.per_second, 1.0 + self.pace.slack)
        return window

    def paused_until(self, chat_id: str) -> float:
        return self.paused.get(self.tenant_of(chat_id), 0.0)

    def _windows(self, chat_id: str, is_group: bool) -> list[Window]:
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Window(1, self.pace.chat_interval + self.pace.slack)
        windows = [self._overall(chat_id), chat]
        if is_group:
            group = self.groups.get(chat_id)
            if group is None:
                group = self.groups[chat_id] = Window(
                    self.pace.group_per_minute, 60.0 + self.pace.slack
                )
            windows.append(group)
        return windows

    def chat_free_at(self, chat_id: str, is_group: bool) -> float:
        """When this chat's own limits next allow a message (ignoring the overall limit)."""
        windows = self._windows(chat_id, is_group)[1:]
        return max([self.paused_until(chat_id), *(w.free_at() for w in windows)])

    @asynccontextmanager
    async def turn(self, chat_id: str, is_group: bool) -> AsyncIterator[None]:
        """Wait until one more message to `chat_id` keeps within every limit; the message is
        counted from when the body of the `async with` (the request) ends."""
        windows = self._windows(chat_id, is_group)
        while True:
            paused_until = self.paused_until(chat_id)
            wait = max([paused_until, *(w.free_at() for w in windows)]) - self.now()
            if wait <= 0:
                break
            await asyncio.sleep(min(wait, 0.02) if wait == INFLIGHT else wait)
        cells = [w.start() for w in windows]
        try:
            yield
        finally:
            done = self.now()
            for window, cell in zip(windows, cells, strict=True):
                window.finish(cell, done)

    def pause(self, chat_id: str, seconds: float) -> None:
        """Hold everything of the tenant this chat belongs to for `seconds`."""
        tenant = self.tenant_of(chat_id)
        self.paused[tenant] = max(self.paused.get(tenant, 0.0), self.now() + seconds)

    def forget_idle(self) -> None:
        """Drop the history of chats and tenants quiet for longer than their windows."""
        horizon = self.now() - 61.0 - self.pace.slack
        for table in (self.chats, self.groups, self.tenants):
            for key in [k for k, w in table.items() if w.last < horizon]:
                del table[key]


@dataclass
class _Attempt:
    row: OutboxMessage
    edit_of: str | None
    message_id: str | None = None
    error: BaseException | None = None


@dataclass
class Deliverer:
    """Drains the outbox of one platform. `run(stop)` loops until `stop` is set."""

    db: Database
    clock: Clock
    platform: str
    send: Send
    pace: Pace
    claim_limit: int = 500
    idle_seconds: float = 1.0
    tenant_of: TenantOf = one_tenant
    pacer: Pacer = field(init=False)
    sent: int = 0

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.pace, tenant_of=self.tenant_of)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("delivering %s notifications", self.platform)
        while not stop.is_set():
            try:
                wait = await self.deliver_round()
            except Exception:
                log.exception("%s delivery round failed", self.platform)
                wait = self.idle_seconds
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)

    async def deliver_round(self) -> float:
        """Send one round; return how long to wait before the next one (0: go on at once)."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            rows = await outbox.claim_due(session, self.platform, now, limit=self.claim_limit)
            if not rows:
                return self.idle_seconds
            chosen = self._choose(rows)
            if not chosen:
                return self._until_next(rows)
            attempts = [_Attempt(row, await self._live_target(session, row)) for row in chosen]
            await asyncio.gather(*(self._attempt(a) for a in attempts))
            await self._record(session, attempts, rows)
        self.pacer.forget_idle()
        return 0.0

    def _choose(self, rows: list[OutboxMessage]) -> list[OutboxMessage]:
        """One row per chat, only chats free within the next second, one second's worth
        per tenant."""
        horizon = self.pacer.now() + 1.0
        chosen: list[OutboxMessage] = []
        chats: set[str] = set()
        per_tenant: dict[str, int] = {}
        for row in rows:
            tenant = self.tenant_of(row.chat_id)
            if row.chat_id in chats or per_tenant.get(tenant, 0) >= self.pace.per_second:
                continue
            chats.add(row.chat_id)
            if self.pacer.chat_free_at(row.chat_id, row.room_id is not None) <= horizon:
                chosen.append(row)
                per_tenant[tenant] = per_tenant.get(tenant, 0) + 1
        return chosen

    def _until_next(self, rows: list[OutboxMessage]) -> float:
        soonest = min(self.pacer.chat_free_at(r.chat_id, r.room_id is not None) for r in rows)
        return min(self.idle_seconds, max(0.05, soonest - self.pacer.now()))

    async def _live_target(self, session: AsyncSession, row: OutboxMessage) -> str | None:
        if row.live_id is None:
            return None
        return await outbox.live_message_id(session, self.platform, row.chat_id, row.live_id)

    async def _attempt(self, attempt: _Attempt) -> None:
        row = attempt.row
        try:
            async with self.pacer.turn(row.chat_id, row.room_id is not None):
                attempt.message_id = await self.send(row, attempt.edit_of)
        except RetryLater as err:
            self.pacer.pause(row.chat_id, err.seconds)
            tenant = self.tenant_of(row.chat_id) or "all chats"
            log.warning(
                "%s asked to wait %.0fs; delivery to %s paused", self.platform, err.seconds, tenant
            )
            attempt.error = err
        except Exception as err:
            attempt.error = err

    async def _record(
        self, session: AsyncSession, attempts: list[_Attempt], rows: list[OutboxMessage]
    ) -> None:
        now = self.clock.now()
        for attempt in attempts:
            row, error = attempt.row, attempt.error
            if error is None:
                outbox.mark_delivered(row, now)
                self.sent += 1
                if row.live_id is not None and attempt.message_id is not None:
                    await outbox.remember_live_message(
                        session, self.platform, row.chat_id, row.live_id, attempt.message_id
                    )
            elif isinstance(error, RetryLater):
                continue  # not sent: it goes again after the pause, without using an attempt
            elif isinstance(error, Unreachable):
                await outbox.mark_unreachable(session, self.platform, row.chat_id)
                for same_chat in (r for r in rows if r.chat_id == row.chat_id):
                    _give_up(same_chat, str(error))
                await _give_up_chat(session, self.platform, row.chat_id, str(error))
                if row.room_id is not None:  # a group that removed the bot leaves its link
                    await linking.chat_refused_bot(session, self.platform, row.chat_id, now)
                log.info("%s chat %s refuses the bot: %s", self.platform, row.chat_id, error)
            else:
                retry_in = timedelta(seconds=min(3600, 15 * 2**row.attempts))
                outbox.mark_failed(row, now, f"{type(error).__name__}: {error}", retry_in=retry_in)
                log.warning("%s delivery of %s failed: %s", self.platform, row.id, error)


def _give_up(row: OutboxMessage, error: str) -> None:
    # The outbox stops retrying a row that has used every attempt.
    row.attempts = outbox.MAX_ATTEMPTS
    row.last_error = error[:1000]


async def _give_up_chat(session: AsyncSession, platform: str, chat_id: str, error: str) -> None:
    """Stop retrying everything already queued for a chat that refuses the bot (what is
    queued after the user comes back goes out as usual)."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.delivered_at.is_(None),
        )
        .values(attempts=outbox.MAX_ATTEMPTS, last_error=error[:1000])
    )
