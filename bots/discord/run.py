"""Run the Discord bot in this process (one shard set), with outbox delivery, live room
events and voice-channel heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bots.discord.adapter import TeddyDiscord
from bots.discord.translate import PLATFORM
from bots.live import follow_room_events
from core.dispatch.gateway import Gateway

log = logging.getLogger(__name__)


async def run_discord(
    core: Gateway,
    stop: asyncio.Event,
    *,
    sync_commands: bool = False,
    shard_ids: list[int] | None = None,
    shard_count: int | None = None,
) -> None:
    """Serve Discord until `stop` is set. `sync_commands` publishes the slash commands once
    (a deploy step: Discord rate-limits command creation per day)."""
    token = core.settings.discord_bot_token
    if token is None:
        raise ValueError("DISCORD_BOT_TOKEN must be set")
    client = TeddyDiscord(core, shard_ids=shard_ids, shard_count=shard_count)
    connection = asyncio.create_task(client.start(token.get_secret_value()))
    background: list[asyncio.Task[None]] = []
    try:
        ready = asyncio.create_task(client.wait_until_ready())
        await asyncio.wait(
            {connection, ready, asyncio.create_task(stop.wait())},
            return_when=asyncio.FIRST_COMPLETED,
        )
        if connection.done():
            await connection  # start-up failed: raise its error
        if sync_commands and ready.done():
            synced = await client.tree.sync()
            log.info("synced %d slash commands", len(synced))
        background = [
            asyncio.create_task(client.deliverer().run(stop)),
            asyncio.create_task(client.run_voice_heartbeats(stop)),
            asyncio.create_task(
                follow_room_events(
                    core.services.room_events, PLATFORM, client.show_room_event, stop
                )
            ),
        ]
        log.info("discord bot running as %s", client.user)
        await stop.wait()
    finally:
        stop.set()
        for task in background:
            await task
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await connection
