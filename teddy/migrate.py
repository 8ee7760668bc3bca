"""Run Alembic migrations programmatically (`teddy db upgrade|downgrade|current`).

Each capability owns a branch of migrations rooted at the foundation revision, so
`upgrade` goes to `heads` (all branches) and `downgrade` defaults to `base`. Alembic's
env.py runs its own event loop: from async code use the `_async` variants."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, target: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), target)


def downgrade(database_url: str, target: str = "base") -> None:
    command.downgrade(alembic_config(database_url), target)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=True)


async def upgrade_async(database_url: str, target: str = "heads") -> None:
    await asyncio.to_thread(upgrade, database_url, target)


async def downgrade_async(database_url: str, target: str = "base") -> None:
    await asyncio.to_thread(downgrade, database_url, target)
