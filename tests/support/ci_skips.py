"""Under CI (CI=true) a skipped test fails unless tests/allowed_skips.py lists it with a
reason. A pytest plugin: tests/conftest.py loads it."""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

from tests.allowed_skips import ALLOWED_SKIPS


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def allowed_reason(nodeid: str, allowed: dict[str, str]) -> str | None:
    """Why this test may skip, or None; parameters (`[...]`) and the pytest-xdist group
    (`@name`, which `--dist loadgroup` appends to a grouped test's id) do not matter."""
    return allowed.get(_without_group(nodeid).split("[", 1)[0])


def _without_group(nodeid: str) -> str:
    at = nodeid.rfind("@")
    return nodeid[:at] if at > nodeid.rfind("]") else nodeid


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    unlisted = allowed_reason(item.nodeid, ALLOWED_SKIPS) is None
    if report.skipped and not hasattr(report, "wasxfail") and in_ci() and unlisted:
        report.outcome = "failed"
        report.longrepr = (
            f"skipped under CI: {_skip_reason(report)}\n"
            "a skip in CI is a failure unless tests/allowed_skips.py lists it with a reason"
        )
    return report


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)
