"""Commands through the Slack HTTP endpoint: signed requests into our FastAPI
`/slack/events` (uvicorn on loopback), the real slack-bolt AsyncApp, the core and the
database, replies posted by the Web API client to the local Slack stand-in over HTTP.

    python -m bench.slack_bench [--commands 2000] [--users 100] [--concurrency 20]

Prints, next to a bare `SELECT 1` round trip and the core alone (no Slack):
- one request at a time: the acknowledgement (the HTTP answer, which Slack wants within
  3 s) and the whole command (until the reply reached the stand-in): p50/p99;
- requests from many users at once: commands/s until every reply reached the stand-in."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from bench._common import bench_core, describe, percentile, select_one_latencies
from bench._load import Step, Tally, run_students
from bench._load_slack import SlackPath
from core.chat.messages import Conversation, Incoming, Sender

QUICK_ARGS = ["--commands", "300"]
SETTINGS = Step("/settings", "/settings")


async def main(commands: int, users: int, concurrency: int) -> None:
    logging.disable(logging.WARNING)
    async with bench_core() as core:
        reference = await select_one_latencies(core)
        path = SlackPath(core)
        await path.start()
        try:
            ids = [f"U{1000 + i}" for i in range(users)]
            for user_id in ids:  # every user exists before timing starts
                await path.send(user_id, Step("/start", "/start"), "")

            core_only: list[float] = []
            for n in range(commands):
                sender = Sender("slack", ids[n % users], "U")
                chat = Conversation("slack", f"D{sender.external_id}", True)
                start = time.perf_counter()
                event = f"core-{n}"  # de-duplicated like a trigger id: the same work
                await core.dispatcher.handle(Incoming(sender, chat, "/settings", event_id=event))
                core_only.append(time.perf_counter() - start)

            acks: list[float] = []
            whole: list[float] = []
            for n in range(commands):
                start = time.perf_counter()
                _, acked = await path.timed(ids[n % users], SETTINGS, "")
                whole.append(time.perf_counter() - start)
                acks.append(acked)

            tally = Tally()
            start = time.perf_counter()
            per_user = [(user_id, [SETTINGS] * (commands // users)) for user_id in ids]
            await run_students(per_user, path.send, concurrency, tally)
            elapsed = time.perf_counter() - start
        finally:
            await path.stop()
    errors = tally.error_count + len(path.refused)
    print(f"Slack HTTP endpoint, {commands:,} /settings commands from {users} users")
    print("  " + describe("bare SELECT 1", reference))
    print("  " + describe("core alone, no Slack", core_only))
    print("  " + describe("signed request -> ack (HTTP 200)", acks) + "  (Slack allows 3,000 ms)")
    print("  " + describe("signed request -> reply posted", whole))
    print(f"  one at a time: {commands / sum(whole):8.1f} commands/s")
    p99 = percentile(list(tally.latencies["/settings"]), 99) * 1000
    print(
        f"  {concurrency} at a time ({tally.total:,} requests): {tally.total / elapsed:8.1f} "
        f"commands/s, p99 {p99:.1f} ms, errors {errors}"
    )
    if errors:
        raise SystemExit(f"{errors} errors: {tally.summary_of_errors()} {path.refused[:3]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.commands, args.users, args.concurrency))
