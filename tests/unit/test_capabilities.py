"""The capability registry (core.app.capabilities) is the one list the router, the jobs,
the data export and the stats read: every package, table and job is declared in it."""

import re
from pathlib import Path

from core.accounts.userdata import owned_clauses
from core.analytics.models import MEASURES
from core.analytics.vocabulary import BY_KEY
from core.app import activity_sources, build_router, capabilities, exported_tables, private_tables
from core.db import Base
from core.jobs import JOBS
from tests.support.migrations import migration

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_with_commands_or_jobs_is_a_capability() -> None:
    listed = {c.name for c in capabilities()}
    packages = {
        p.parent.name
        for p in (ROOT / "core").glob("*/models.py")
        if "__tablename__" in p.read_text() or "keeps no tables" in p.read_text()
    }
    assert packages <= listed
    for capability in capabilities():
        package = ROOT / "core" / capability.name
        assert (capability.router is not None) == (package / "commands.py").exists()
        assert (capability.jobs is not None) == (package / "jobs.py").exists()
        assert (capability.userdata is not None) == (package / "userdata_hooks.py").exists()


def test_every_job_belongs_to_exactly_one_capability() -> None:
    owners = [name for c in capabilities() for name in c.job_names()]
    # Tests register jobs of their own ("test.record"); only the product's count here.
    core_jobs = [name for name, func in JOBS.items() if func.__module__.startswith("core.")]
    assert sorted(owners) == sorted(core_jobs)
    tasks = next(c for c in capabilities() if c.name == "tasks")
    assert "tasks.sweep_reminders" in tasks.periodic()


def test_the_router_holds_every_capabilitys_commands_in_registry_order() -> None:
    router = build_router()
    expected = [
        spec.name for c in capabilities() if c.router is not None for spec in c.router.specs()
    ]
    assert [spec.name for spec in router.specs()] == expected
    assert {"task", "roomtask", "review", "quiz", "help"} <= set(expected)


def test_every_table_of_a_user_is_declared_exported_or_private_once() -> None:
    owned = {table.name for table in owned_clauses(1)}
    declared = [t for c in capabilities() for t in (*c.exported, *c.private)]
    assert len(declared) == len(set(declared)), "a table is declared twice"
    assert owned == set(declared)
    assert not exported_tables() & private_tables()
    assert {"tasks", "flashcard_reviews"} <= exported_tables()
    assert "web_sessions" in private_tables()


def test_every_activity_source_counts_an_existing_column_into_the_rollup() -> None:
    sources = activity_sources()
    for source in sources:
        table = Base.metadata.tables[source.table]
        assert source.timestamp in table.c, source
        assert source.owner in table.c, source
        assert {fk.column.table.name for fk in table.c[source.owner].foreign_keys} == {"users"}
        assert source.series in MEASURES, source
    # Every things-done series and every rollup column has something counted in it.
    assert set(BY_KEY) <= {s.series for s in sources} == set(MEASURES)


def test_the_rollup_migration_backfills_what_the_capabilities_declare() -> None:
    """The migration writes the sources out (it must keep meaning the same thing); a source
    declared later needs a migration of its own that adds its past rows."""
    found = migration("0100_daily_activity")
    declared = {
        (s.table, s.owner, s.timestamp, s.series, s.amount or "1", s.where or "true")
        for s in activity_sources()
    }
    assert set(found.SOURCES) == declared
    assert tuple(found.MEASURES) == MEASURES


def test_every_migrations_branch_is_a_branch_label() -> None:
    labels = set()
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        found = re.search(r"branch_labels[^=]*= \(\"(\w+)\",\)", path.read_text())
        if found:
            labels.add(found.group(1))
    branches = {c.migrations_branch for c in capabilities() if c.migrations_branch}
    assert branches <= labels
    assert {"tasks", "flashcards", "rooms"} <= branches
