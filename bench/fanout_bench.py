"""Reminder fan-out at the platforms' rate limits: many task reminders come due at once; the
reminder sweep queues them in the outbox and each platform's deliverer sends them through
its adapter's real SDK (python-telegram-bot, slack-sdk, discord.py) to the local stand-in.

    python -m bench.fanout_bench                      # 1,000 reminders per platform
    python -m bench.fanout_bench --per-platform 100   # the quick run

Prints, per platform: the time from the sweep's start until the last reminder reached the
stand-in, next to the floor the platform's limit sets (N messages at its messages/s, the
first second's worth at once), and
the most messages the stand-in received in any one second (must not exceed the limit).
Every reminder must arrive exactly once."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import text

from bench._common import bench_core, describe, goal, percentile, select_one_latencies
from bench._load_discord import DiscordPath
from bots.delivery import TELEGRAM_PACE, Deliverer, Pace
from bots.discord.adapter import DISCORD_PACE
from bots.slack.adapter import SLACK_PACE, SlackAdapter
from bots.telegram.adapter import TelegramAdapter, build_application
from core.app import load_jobs
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from tests.support.rate_limit import RateLimit
from tests.support.slack_standin import SlackStandIn
from tests.support.telegram_standin import TelegramStandIn

QUICK_ARGS = ["--per-platform", "100"]


@dataclass
class Target:
    """One platform: its deliverer, its limit, and the arrival times at its stand-in."""

    platform: str
    pace: Pace
    deliverer: Deliverer
    sends: Callable[[], list[Send]]  # every message-sending request the stand-in received

    def arrivals(self) -> list[float]:
        """time.monotonic() of each message the stand-in accepted."""
        return [s.at for s in self.sends() if s.status == 200]

    def throttled(self) -> int:
        """Requests the stand-in refused with 429 (slow down)."""
        return sum(s.status == 429 for s in self.sends())

    def duplicates(self) -> int:
        """Messages accepted beyond the first to the same chat (each chat has one reminder)."""
        chats = Counter(s.chat for s in self.sends() if s.status == 200)
        return sum(n - 1 for n in chats.values())


@dataclass(frozen=True)
class Send:
    at: float
    chat: str
    status: int


class TelegramLimits(RateLimit):
    """Telegram's limits, enforced by the stand-in with a 429: one message a second per chat
    (this class's own window) and 30 a second overall."""

    def __init__(self) -> None:
        super().__init__(1)
        self.overall = RateLimit(TELEGRAM_PACE.per_second)

    def retry_after(self, key: str) -> float | None:
        return self.overall.retry_after("bot") or super().retry_after(key)


@asynccontextmanager
async def telegram(core: Runtime) -> AsyncIterator[Target]:
    standin = TelegramStandIn()
    standin.rate_limit = TelegramLimits()
    await standin.start()
    settings = core.settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(standin.token),
            "telegram_api_base_url": standin.url,
        }
    )
    application = build_application(settings, polling=False)
    adapter = TelegramAdapter(core, application)
    await application.initialize()
    try:
        yield Target(
            "telegram",
            TELEGRAM_PACE,
            adapter.deliverer(),
            lambda: [
                Send(c.at, c.chat_id, c.status) for c in standin.calls if c.method == "sendMessage"
            ],
        )
    finally:
        await application.shutdown()
        await standin.stop()


@asynccontextmanager
async def slack(core: Runtime) -> AsyncIterator[Target]:
    standin = SlackStandIn()
    await standin.start()
    adapter = SlackAdapter(core, bot_token="xoxb-test", signing_secret="s", api_url=standin.api_url)
    try:
        yield Target(
            "slack",
            SLACK_PACE,
            adapter.deliverer(),
            lambda: [
                Send(c.at, str(c.params.get("channel")), c.status)
                for c in standin.calls
                if c.method == "chat.postMessage"
            ],
        )
    finally:
        await standin.stop()


@asynccontextmanager
async def discord(core: Runtime) -> AsyncIterator[Target]:
    path = DiscordPath(core)
    await path.start()
    standin = path.standin
    try:
        yield Target(
            "discord",
            DISCORD_PACE,
            path.client.deliverer(),
            lambda: [
                Send(c.at, c.path, c.status)
                for c in standin.calls
                if c.method == "POST" and c.path.startswith("/channels/")
            ],
        )
    finally:
        await path.stop()


def chat_id(platform: str, n: int) -> str:
    """A direct-message chat id of the shape each platform uses."""
    if platform == "telegram":
        return str(5_000_000 + n)
    if platform == "slack":
        return f"DFAN{n}"
    return str(975000000000000000 + n)


async def seed(core: Runtime, platforms: list[str], per_platform: int) -> None:
    """A user per reminder, each with one identity and one task whose reminder is due."""
    async with core.db.transaction() as session:
        for platform in platforms:
            for n in range(per_platform):
                user_id = await session.scalar(
                    text(
                        "INSERT INTO users (display_name, timezone, locale) "
                        "VALUES (:name, 'UTC', 'en') RETURNING id"
                    ),
                    {"name": f"fan {platform} {n}"},
                )
                await session.execute(
                    text(
                        "INSERT INTO identities (user_id, platform, external_id, display_name, "
                        "dm_chat_id, last_seen_at, unreachable) "
                        "VALUES (:u, :p, :e, '', :chat, now(), false)"
                    ),
                    {"u": user_id, "p": platform, "e": f"fan{n}", "chat": chat_id(platform, n)},
                )
                await session.execute(
                    text(
                        "INSERT INTO tasks (user_id, number, title, notes, priority, due_at, "
                        "next_remind_at, next_remind_offset, created_by_user_id) "
                        "VALUES (:u, 1, 'Hand in the lab report', '', 2, "
                        "now() + interval '59 minutes', now() - interval '1 minute', 60, :u)"
                    ),
                    {"u": user_id},
                )


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals inside any window of one second."""
    times = sorted(arrivals)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def delivered(
    target: Target, expected: int, started: float, running: asyncio.Task[None]
) -> float:
    """Wait until `expected` messages arrived (or the deliverer stopped); seconds from
    `started` to the last arrival."""
    deadline = time.monotonic() + 60 + 3 * expected / target.pace.per_second
    while len(target.arrivals()) < expected:
        if time.monotonic() > deadline or running.done():
            break
        await asyncio.sleep(0.05)
    return max(target.arrivals(), default=time.monotonic()) - started


async def sweep(core: Runtime, started: float) -> float:
    """The reminder sweep, as beat runs it; seconds from `started` until it finished."""
    await run_job("tasks.sweep_reminders", JobContext(core.db, core.services), {})
    return time.monotonic() - started


async def main(per_platform: int) -> None:
    logging.disable(logging.WARNING)
    load_jobs()
    names = ["telegram", "slack", "discord"]
    async with bench_core() as core, AsyncExitStack() as stack:
        reference = await select_one_latencies(core, 500)
        targets = [
            await stack.enter_async_context(make(core)) for make in (telegram, slack, discord)
        ]
        await seed(core, names, per_platform)
        # As deployed, each platform's deliverer is already running when reminders come due.
        stop = asyncio.Event()
        running = [asyncio.create_task(t.deliverer.run(stop)) for t in targets]
        try:
            started = time.monotonic()
            swept, *took = await asyncio.gather(
                sweep(core, started),
                *(
                    delivered(t, per_platform, started, r)
                    for t, r in zip(targets, running, strict=True)
                ),
            )
        finally:
            stop.set()
            await asyncio.gather(*running)
        queued = await core_count(core, "SELECT count(*) FROM outbox WHERE kind = 'reminder'")
        undelivered = await core_count(
            core, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
        )
        counts = [len(t.arrivals()) for t in targets]
        peaks = [busiest_second(t.arrivals()) for t in targets]
        firsts = [min(t.arrivals(), default=started) - started for t in targets]
    print(
        f"reminder fan-out: {per_platform:,} reminders due at once on each of "
        f"{len(targets)} platforms, every platform delivering at the same time"
    )
    print("  " + describe("bare SELECT 1 (reference)", reference))
    print(
        f"  sweep: {queued:,} reminders queued in the outbox in {swept:.2f} s, the deliverers "
        "already running (as deployed)"
    )
    print(
        f"  {'platform':<10} {'delivered':>9} {'seconds':>8} {'floor s':>8} {'first s':>8} "
        f"{'limit/s':>8} {'busiest 1 s':>11} {'429s':>5} {'twice':>5}"
    )
    failures = []
    for target, count, seconds, peak, first in zip(
        targets, counts, took, peaks, firsts, strict=True
    ):
        # The limit lets the first `per_second` messages go at once, then as many a second.
        floor = math.ceil(per_platform / target.pace.per_second) - 1
        throttled, twice = target.throttled(), target.duplicates()
        print(
            f"  {target.platform:<10} {count:>9,} {seconds:>8.1f} {floor:>8.1f} {first:>8.2f} "
            f"{target.pace.per_second:>8} {peak:>11} {throttled:>5} {twice:>5}"
        )
        if count - twice != per_platform:
            failures.append(f"{target.platform}: {count - twice} of {per_platform} delivered")
        if peak > target.pace.per_second:
            failures.append(f"{target.platform}: {peak} messages in one second")
        if twice:
            failures.append(f"{target.platform}: {twice} reminders delivered twice")
    print(
        "  seconds: from the sweep's start (included) to the last arrival; floor: what the "
        "platform's overall limit alone allows; first: the first arrival; twice: duplicates"
    )
    print(f"  undelivered rows left in the outbox: {undelivered}")
    telegram_goals(targets[0], took[0], per_platform, reference)
    if failures or undelivered:
        raise SystemExit("; ".join(failures) or f"{undelivered} undelivered")


def telegram_goals(target: Target, seconds: float, reminders: int, reference: list[float]) -> None:
    """Issue 22's row for Telegram: seconds, 429s and duplicates, for the runner's table."""
    floor = math.ceil(reminders / target.pace.per_second) - 1
    select_1 = f"SELECT 1 p99 {percentile(reference, 99) * 1000:.2f} ms"
    goal(
        "reminders_telegram_s", round(seconds, 1), reference=f"floor {floor:.0f} s", size=reminders
    )
    goal("reminders_telegram_429s", target.throttled(), reference=select_1, size=reminders)
    goal("reminders_telegram_duplicates", target.duplicates(), reference=select_1, size=reminders)


async def core_count(core: Runtime, sql: str) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(text(sql)) or 0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-platform", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.per_platform))
