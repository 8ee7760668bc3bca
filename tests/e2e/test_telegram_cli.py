"""`teddy telegram` as an operator runs it: a separate process polling the stand-in."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from teddy.runtime import Runtime
from teddy.servers import Servers
from tests.support.telegram_harness import wait_for
from tests.support.telegram_standin import TelegramStandIn, message_update, user


async def test_teddy_telegram_polls_answers_and_stops_cleanly_on_sigterm(
    core: Runtime, servers: Servers, tmp_path: Path
) -> None:
    standin = TelegramStandIn()
    await standin.start()
    env = {
        **os.environ,
        "TEDDY_HOME": str(tmp_path),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "TELEGRAM_BOT_TOKEN": standin.token,
        "TELEGRAM_API_BASE_URL": standin.url,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "teddy", "telegram", env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        standin.push_update(message_update(user(4242, "Dana"), "/start"))
        await wait_for(lambda: bool(standin.sent("sendMessage")), timeout=60)
        assert standin.sent("sendMessage")[0].chat_id == "4242"
        assert standin.commands["default"]  # the command list was published
        assert standin.sent("deleteWebhook")  # polling mode clears a webhook left behind
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        await standin.stop()
    assert process.returncode == 0, stderr.decode()[-2000:]
