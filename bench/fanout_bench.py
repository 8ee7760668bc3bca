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
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import text

from bench._common import bench_core, describe, select_one_latencies
from bench._load_discord import DiscordPath
from bots.delivery import TELEGRAM_PACE, Deliverer, Pace
from bots.discord.adapter import DISCORD_PACE
from bots.slack.adapter import SLACK_PACE, SlackAdapter
from bots.telegram.adapter import TelegramAdapter, build_application
from core.app import load_jobs
from core.jobs import JobContext, run_job
from teddy.runtime import Core
from tests.support.slack_standin import SlackStandIn
from tests.support.telegram_standin import TelegramStandIn

QUICK_ARGS = ["--per-platform", "100"]


@dataclass
class Target:
    """One platform: its deliverer, its limit, and the arrival times at its stand-in."""

    platform: str
    pace: Pace
    deliverer: Deliverer
    arrivals: Callable[[], list[float]]  # time.monotonic() of each message received


@asynccontextmanager
async def telegram(core: Core) -> AsyncIterator[Target]:
    standin = TelegramStandIn()
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
            lambda: [c.at for c in standin.calls if c.method == "sendMessage" and c.status == 200],
        )
    finally:
        await application.shutdown()
        await standin.stop()


@asynccontextmanager
async def slack(core: Core) -> AsyncIterator[Target]:
    standin = SlackStandIn()
    await standin.start()
    adapter = SlackAdapter(core, bot_token="xoxb-test", signing_secret="s", api_url=standin.api_url)
    try:
        yield Target(
            "slack",
            SLACK_PACE,
            adapter.deliverer(),
            lambda: [c.at for c in standin.calls if c.method == "chat.postMessage"],
        )
    finally:
        await standin.stop()


@asynccontextmanager
async def discord(core: Core) -> AsyncIterator[Target]:
    path = DiscordPath(core)
    await path.start()
    standin = path.standin
    try:
        yield Target(
            "discord",
            DISCORD_PACE,
            path.client.deliverer(),
            lambda: [
                c.at
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


async def seed(core: Core, platforms: list[str], per_platform: int) -> None:
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


async def deliver_all(target: Target, expected: int, started: float) -> float:
    """Run the deliverer until `expected` messages arrived; seconds since `started`."""
    stop = asyncio.Event()
    running = asyncio.create_task(target.deliverer.run(stop))
    try:
        deadline = time.monotonic() + 60 + 3 * expected / target.pace.per_second
        while len(target.arrivals()) < expected:
            if time.monotonic() > deadline or running.done():
                break
            await asyncio.sleep(0.05)
        return time.monotonic() - started
    finally:
        stop.set()
        await running


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
        started = time.monotonic()
        await run_job("tasks.sweep_reminders", JobContext(core.db, core.services), {})
        swept = time.monotonic() - started
        queued = await core_count(core, "SELECT count(*) FROM outbox WHERE kind = 'reminder'")
        took = await asyncio.gather(*(deliver_all(t, per_platform, started) for t in targets))
        undelivered = await core_count(
            core, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
        )
        counts = [len(t.arrivals()) for t in targets]
        peaks = [busiest_second(t.arrivals()) for t in targets]
    print(
        f"reminder fan-out: {per_platform:,} reminders due at once on each of "
        f"{len(targets)} platforms, every platform delivering at the same time"
    )
    print("  " + describe("bare SELECT 1 (reference)", reference))
    print(f"  sweep: {queued:,} reminders queued in the outbox in {swept:.2f} s")
    print(
        f"  {'platform':<10} {'delivered':>9} {'seconds':>8} {'floor s':>8} "
        f"{'limit/s':>8} {'busiest 1 s':>11}"
    )
    failures = []
    for target, count, seconds, peak in zip(targets, counts, took, peaks, strict=True):
        # The limit lets the first `per_second` messages go at once, then as many a second.
        floor = math.ceil(per_platform / target.pace.per_second) - 1
        print(
            f"  {target.platform:<10} {count:>9,} {seconds:>8.1f} {floor:>8.1f} "
            f"{target.pace.per_second:>8} {peak:>11}"
        )
        if count != per_platform:
            failures.append(f"{target.platform}: {count} of {per_platform} delivered")
        if peak > target.pace.per_second:
            failures.append(f"{target.platform}: {peak} messages in one second")
    print(
        "  seconds: from the sweep's start (included) to the last arrival; floor: what the "
        "platform's overall limit alone allows"
    )
    print(f"  undelivered rows left in the outbox: {undelivered}")
    if failures or undelivered:
        raise SystemExit("; ".join(failures) or f"{undelivered} undelivered")


async def core_count(core: Core, sql: str) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(text(sql)) or 0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-platform", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.per_platform))
