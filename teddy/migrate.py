"""Run Alembic migrations programmatically (`teddy db upgrade|downgrade|current`).

Each capability owns a branch of migrations rooted at the foundation revision, so
`upgrade` goes to `heads` (all branches) and `downgrade` defaults to `base`. Alembic's
env.py runs its own event loop: from async code use the `_async` variants.

A process starting on a database already at the heads (the usual case) learns so from
`upgrade_if_behind` in milliseconds, without importing Alembic (which, with its loading of
every script, took about a second of `teddy chat`'s start)."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from core.db.engine import async_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# pg_advisory_lock key of Study Teddy's migrations (any constant other apps do not use).
MIGRATION_LOCK = 0x7EDD_5C4E_3A11


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, target: str = "heads") -> None:
    """Upgrade under a PostgreSQL advisory lock: replicas that start at once migrate one
    after the other (the later ones find nothing left to do)."""
    from alembic import command

    with migration_lock(database_url):
        command.upgrade(alembic_config(database_url), target)


@contextmanager
def migration_lock(database_url: str) -> Iterator[None]:
    """Hold the migrations' advisory lock on a connection of its own. Alembic's env.py runs
    its own event loop, so this one runs only while taking and releasing the lock."""
    loop = asyncio.new_event_loop()
    try:
        connection = loop.run_until_complete(_locked_connection(database_url))
        try:
            yield
        finally:
            loop.run_until_complete(connection.close())  # the lock ends with the session
    finally:
        loop.close()


async def _locked_connection(database_url: str) -> asyncpg.Connection:
    dsn = async_url(database_url).replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    except BaseException:
        await connection.close()
        raise
    return connection


def downgrade(database_url: str, target: str = "base") -> None:
    from alembic import command

    with migration_lock(database_url):
        command.downgrade(alembic_config(database_url), target)


def current(database_url: str) -> None:
    from alembic import command

    command.current(alembic_config(database_url), verbose=True)


async def upgrade_async(database_url: str, target: str = "heads") -> None:
    await asyncio.to_thread(upgrade, database_url, target)


async def downgrade_async(database_url: str, target: str = "base") -> None:
    await asyncio.to_thread(downgrade, database_url, target)


async def upgrade_if_behind(database_url: str) -> bool:
    """Upgrade to the heads unless the database is there already; True when it upgraded."""
    heads = script_heads()
    if heads is not None and heads == await applied_revisions(database_url):
        return False
    await upgrade_async(database_url)
    return True


def script_heads(versions: Path = MIGRATIONS_DIR / "versions") -> frozenset[str] | None:
    """The revisions no script builds on, read from the scripts' source; None when a script
    is not of the plain shape read here (then Alembic decides). A script's `depends_on`
    (another branch's revision that must run first) orders the upgrade but is no parent,
    so it leaves the heads as they are, as in Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("[!_]*.py"):
        values = _module_constants(path)
        revision = values.get("revision") if values is not None else None
        if values is None or not isinstance(revision, str):
            return None
        down = values.get("down_revision")
        revisions.add(revision)
        parents.update([down] if isinstance(down, str) else (down or ()))
    return frozenset(revisions - parents) if revisions else None


def _module_constants(path: Path) -> dict[str, Any] | None:
    constants: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        try:
            constants[target.id] = ast.literal_eval(value)
        except ValueError:
            if target.id in ("revision", "down_revision", "depends_on"):
                return None
    return constants


async def applied_revisions(database_url: str) -> frozenset[str] | None:
    """The revisions the database is at; None before the first migration."""
    dsn = async_url(database_url).replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT version_num FROM alembic_version")
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await connection.close()
    return frozenset(row["version_num"] for row in rows)
