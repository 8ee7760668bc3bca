"""Commands through the Telegram adapter: the real python-telegram-bot Application, the
core and the database, replying to a local Bot API stand-in over HTTP.

    python -m bench.telegram_bench [--commands 2000] [--users 100] [--full]

Prints, next to a bare `SELECT 1` round trip and the core alone (no Telegram):
- one update at a time (`process_update`: translate, dispatch, render, `sendMessage`):
  p50/p99 latency;
- updates put on the application's queue (as the webhook does) across many chats,
  handled concurrently: commands/s until every reply reached the stand-in.
`--full` runs 10,000 commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from typing import Any

from pydantic import SecretStr
from telegram import Update

from bench._common import bench_core, describe, select_one_latencies
from bots.telegram.adapter import TelegramAdapter, build_application
from core.chat.messages import Conversation, Incoming, Sender
from tests.support.telegram_harness import wait_for
from tests.support.telegram_standin import TelegramStandIn, message_update, user


def update(standin: TelegramStandIn, user_id: int, text: str) -> dict[str, Any]:
    return {"update_id": standin.next_update_id(), **message_update(user(user_id), text)}


async def main(commands: int, users: int) -> None:
    logging.disable(logging.WARNING)
    standin = TelegramStandIn()
    await standin.start()
    async with bench_core() as core:
        settings = core.settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(standin.token),
                "telegram_api_base_url": standin.url,
            }
        )
        application = build_application(settings, polling=False)
        TelegramAdapter(core, application)
        reference = await select_one_latencies(core)
        ids = [1_000 + i for i in range(users)]
        async with application:
            for user_id in ids:  # every user exists before timing starts
                await application.process_update(
                    Update.de_json(update(standin, user_id, "/start"), application.bot)
                )

            core_only: list[float] = []
            for n in range(commands):
                sender = Sender("telegram", str(ids[n % users]), "U")
                chat = Conversation("telegram", sender.external_id, True)
                start = time.perf_counter()
                event = f"core-{n}"  # de-duplicated like an update_id: the same work
                await core.dispatcher.handle(Incoming(sender, chat, "/settings", event_id=event))
                core_only.append(time.perf_counter() - start)

            latencies: list[float] = []
            for n in range(commands):
                body = update(standin, ids[n % users], "/settings")
                start = time.perf_counter()
                await application.process_update(Update.de_json(body, application.bot))
                latencies.append(time.perf_counter() - start)

            before = len(standin.sent("sendMessage"))
            await application.start()
            start = time.perf_counter()
            for n in range(commands):
                body = update(standin, ids[n % users], "/settings")
                await application.update_queue.put(Update.de_json(body, application.bot))
            await wait_for(lambda: len(standin.sent("sendMessage")) >= before + commands, 600)
            elapsed = time.perf_counter() - start
            await application.stop()
    await standin.stop()

    print(f"Telegram adapter, {commands:,} /settings commands from {users} users")
    print("  " + describe("bare SELECT 1", reference))
    print("  " + describe("core alone, no Telegram", core_only))
    print("  " + describe("one update through PTB + reply", latencies))
    print(f"  one at a time: {commands / sum(latencies):8.1f} commands/s")
    print(f"  queued, concurrent ({commands:,} updates): {commands / elapsed:8.1f} commands/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--full", action="store_true", help="10,000 commands")
    args = parser.parse_args()
    asyncio.run(main(10_000 if args.full else args.commands, args.users))
