"""`teddy discord`: the Discord bot alone in this process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from teddy.options import home_option, load_settings
from teddy.signals import stop_on_signals


def _shard_ids(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter("give shard ids like 0,1,2", param_hint="--shards") from None


@click.command("discord")
@home_option
@click.option("--sync", "sync_commands", is_flag=True, help="Publish the slash commands first.")
@click.option("--shards", default=None, help="Run only these shard ids (e.g. 0,1).")
@click.option("--shard-count", type=int, default=None, help="Total shards across processes.")
def discord_command(
    home: Path | None, sync_commands: bool, shards: str | None, shard_count: int | None
) -> None:
    """Run the Discord bot (needs DISCORD_BOT_TOKEN)."""
    from bots.discord.run import run_discord
    from teddy.runtime import open_runtime

    settings = load_settings(home)
    if settings.discord_bot_token is None:
        raise click.UsageError("set DISCORD_BOT_TOKEN first")
    shard_ids = _shard_ids(shards)
    if shard_ids is not None and shard_count is None:
        raise click.UsageError("--shards needs --shard-count")

    async def run() -> None:
        stop = stop_on_signals()
        async with open_runtime(settings, preload_embedder=True, relay_jobs=True) as core:
            await run_discord(
                core,
                stop,
                sync_commands=sync_commands,
                shard_ids=shard_ids,
                shard_count=shard_count,
            )

    asyncio.run(run())
