"""What a capability package contributes to the product, declared in one place: its chat
commands, background jobs and sweeps, how a user's data in it is exported, merged and
deleted, its migration branch and what it counts in /stats. `core.app.capabilities()`
lists one `Capability` per package; the dispatcher, the job runners, the data export
and /help read that list instead of finding modules by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from core.chat.router import Router
from core.jobs import JOBS, PERIODIC

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.identity.models import User

# Lines a capability adds to a user's morning digest (none: nothing worth saying today).
DigestLines = Callable[["AsyncSession", "User", datetime], Awaitable[list[str]]]

UserHook = Callable[["AsyncSession", int], Awaitable[None]]
ExportHook = Callable[["AsyncSession", int], Awaitable[dict[str, Any]]]
MergeHook = Callable[["AsyncSession", int, int], Awaitable[None]]


@dataclass(frozen=True)
class UserDataHooks:
    """What exporting, deleting and merging a user needs beyond the schema
    (`core.accounts.userdata` moves, exports and deletes every row that references a user
    on its own). `export(session, user_id)` returns extra JSON for the export under the
    capability's name (files on disk); `delete(session, user_id)` removes such data before
    the rows go; `merge(session, source_id, target_id)` runs before the rows move, for
    values that embed a user id (a scope string "u:<id>", a per-owner counter);
    `merged(session, target_id)` runs once they have moved (data derived from them)."""

    export: ExportHook | None = None
    delete: UserHook | None = None
    merge: MergeHook | None = None
    merged: UserHook | None = None


@dataclass(frozen=True)
class ActivitySource:
    """One thing a student does, counted per local day in /stats and on the dashboard: the
    rows of `table` whose `owner` is the user, stamped by `timestamp`, add up under the
    rollup column `series` (`core.analytics.models.MEASURES`; the things-done ones have
    their words in `core.analytics.vocabulary.SERIES`): one each, or the SQL `amount`,
    only rows matching the SQL `where`. The capability's service adds the same amounts
    as the rows come and go (`core.analytics.rollup.record`); `rollup.rebuild` recomputes
    them from these declarations."""

    table: str
    timestamp: str
    series: str
    owner: str = "user_id"
    amount: str | None = None
    where: str | None = None


@dataclass(frozen=True)
class Capability:
    """One capability package.

    - `models`: its SQLAlchemy models module (imported, so its tables are in the metadata).
    - `router`: its chat commands and buttons; help lists them in capability order.
    - `jobs`: the module of its `@job` / `@periodic` functions.
    - `userdata`: what exporting, merging and deleting a user needs beyond the schema.
    - `migrations_branch`: the Alembic branch label of its tables (None: in the foundation).
    - `exported`: its tables whose rows of a user go into that user's data export.
    - `private`: its user tables never exported (credentials, sessions). A table of a user
      declared in neither is still exported (an export must be complete), and a unit
      test fails until it is declared.
    - `activity`: what it counts in the stats.
    - `digest`: the lines it adds to the morning digest (the tasks package sends the
      digest and cannot import the capabilities that build on it).
    - `digest_wanted`: an SQL condition saying that those lines may be worth a digest on
      a day with no task due (the digest sweep's `t.id` is the user, `t.day_end` the end
      of their day, `:now` the time); without it a digest needs a task due."""

    name: str
    models: ModuleType
    router: Router | None = None
    jobs: ModuleType | None = None
    userdata: UserDataHooks | None = None
    migrations_branch: str | None = None
    exported: tuple[str, ...] = ()
    private: tuple[str, ...] = ()
    activity: tuple[ActivitySource, ...] = ()
    digest: DigestLines | None = None
    digest_wanted: str | None = None

    def job_names(self) -> list[str]:
        """The jobs (sweeps included) defined in this capability's package."""
        package = self.models.__name__.rpartition(".")[0] + "."
        return sorted(name for name, func in JOBS.items() if func.__module__.startswith(package))

    def periodic(self) -> dict[str, timedelta]:
        """This capability's sweeps and how often each runs."""
        return {name: PERIODIC[name] for name in self.job_names() if name in PERIODIC}
