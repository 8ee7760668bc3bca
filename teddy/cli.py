"""`teddy`: the command line of Study Teddy."""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys
from datetime import datetime
from pathlib import Path

import click

from core.clock import FixedClock
from teddy.options import home_option, load_settings


@click.group()
def main() -> None:
    """Study Teddy: a study assistant for Telegram, Discord, Slack and the terminal."""
    from teddy.signals import terminate_like_interrupt

    terminate_like_interrupt()


@main.command()
@home_option
@click.option("--user", "user", default=None, help="Who is speaking (default: the OS user).")
@click.option("--room", default=None, help="Speak in this room instead of a direct chat.")
@click.option("--jsonl", is_flag=True, help="Scripted mode: JSON lines in and out.")
@click.option("--now", default=None, help="Pretend it is this time (ISO 8601, with offset).")
@click.option("--wait", default=120.0, help="Seconds to wait for background work at the end.")
def chat(
    home: Path | None, user: str | None, room: str | None, jsonl: bool, now: str | None, wait: float
) -> None:
    """Talk to Teddy in the terminal (the console adapter)."""
    from teddy.servers import servers_started_early
    from teddy.startup import CollectorPause

    starting_up = CollectorPause()  # until the core is open
    try:
        settings = load_settings(home)
        if not sys.stdin.isatty():
            jsonl = True
        if jsonl:
            logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
        clock = _fixed_clock(now) if now else None
        with servers_started_early(settings) as starting:
            from bots.console import ConsoleSession
            from teddy.runtime import open_runtime

            async def run() -> None:
                servers = await asyncio.wrap_future(starting)
                async with open_runtime(
                    settings, clock=clock, relay_jobs=True, servers=servers
                ) as core:
                    starting_up.resume()
                    session = ConsoleSession(core, user or getpass.getuser(), room, jsonl)
                    await session.run(sys.stdin, wait_seconds=wait)

            asyncio.run(run())
    finally:
        starting_up.resume()


def _fixed_clock(text: str) -> FixedClock:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 time", param_hint="--now") from None
    if at.tzinfo is None:
        raise click.BadParameter(
            "give a UTC offset, e.g. 2026-12-01T09:00+01:00", param_hint="--now"
        )
    return FixedClock(at)


@main.group()
def db() -> None:
    """Database schema migrations."""


@db.command("upgrade")
@home_option
@click.argument("target", default="heads")
def db_upgrade(home: Path | None, target: str) -> None:
    """Apply migrations up to TARGET (default: all heads)."""
    from teddy import migrate
    from teddy.servers import start_servers

    with start_servers(load_settings(home)) as servers:
        migrate.upgrade(servers.database_url, target)
    click.echo(f"database upgraded to {target}")


@db.command("downgrade")
@home_option
@click.argument("target", default="base")
def db_downgrade(home: Path | None, target: str) -> None:
    """Revert migrations down to TARGET (default: base, an empty schema)."""
    from teddy import migrate
    from teddy.servers import start_servers

    with start_servers(load_settings(home)) as servers:
        migrate.downgrade(servers.database_url, target)
    click.echo(f"database downgraded to {target}")


@db.command("current")
@home_option
def db_current(home: Path | None) -> None:
    """Show the applied revision(s)."""
    from teddy import migrate
    from teddy.servers import start_servers

    with start_servers(load_settings(home)) as servers:
        migrate.current(servers.database_url)


@main.group()
def jobs() -> None:
    """Background jobs and periodic sweeps."""


@jobs.command("run-due")
@home_option
@click.option("--now", default=None, help="Run the sweeps as if it were this time (ISO 8601).")
def jobs_run_due(home: Path | None, now: str | None) -> None:
    """Run every periodic sweep once, in this process (for cron and for tests)."""
    from core.app import load_jobs
    from core.jobs import PERIODIC, JobContext, run_job
    from teddy.runtime import open_runtime

    settings = load_settings(home)
    clock = _fixed_clock(now) if now else None
    load_jobs()

    async def run() -> None:
        async with open_runtime(settings, clock=clock) as core:
            context = JobContext(core.db, core.services)
            for name in sorted(PERIODIC):
                await run_job(name, context, {})
                click.echo(f"ran {name}")

    asyncio.run(run())


@jobs.command("list")
def jobs_list() -> None:
    """Every registered job, with the interval of the periodic ones."""
    from core.app import load_jobs
    from core.jobs import JOBS, PERIODIC

    load_jobs()
    for name in sorted(JOBS):
        every = PERIODIC.get(name)
        click.echo(f"{name}\t{'every ' + str(every) if every else 'on demand'}")


# Commands that live in their own modules.
from teddy import (  # noqa: E402
    cli_api,
    cli_bench,
    cli_discord,
    cli_slack,
    cli_telegram,
    cli_up,
    embed_service,
)

main.add_command(cli_api.api_command)
main.add_command(cli_telegram.telegram)
main.add_command(cli_slack.slack)
main.add_command(cli_discord.discord_command)
main.add_command(cli_up.up)
main.add_command(cli_up.worker)
main.add_command(cli_up.beat)
main.add_command(cli_up.status)
jobs.add_command(cli_up.jobs_failed)
main.add_command(cli_bench.bench)
main.add_command(embed_service.embed_command)

if __name__ == "__main__":
    main()
