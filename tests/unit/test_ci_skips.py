"""Under CI a skip fails unless tests/allowed_skips.py lists it (tests/support/ci_skips.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.allowed_skips import ALLOWED_SKIPS
from tests.support.ci_skips import allowed_reason

SKIPPING = """
import pytest

def test_needs_a_browser():
    pytest.skip("no chromium")

@pytest.mark.skipif(True, reason="no model")
def test_needs_a_model():
    pass

@pytest.mark.xfail(reason="known bug", strict=True)
def test_known_bug():
    assert False
"""

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("-p", "tests.support.ci_skips", "-p", "no:cacheprovider", "-p", "no:asyncio")


def test_an_unlisted_skip_fails_under_ci_with_its_reason(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_skipping=SKIPPING)
    result = pytester.runpytest_inprocess(*PLUGINS)
    # A skip in the test body fails the call; a skipif mark fails the set-up (an error).
    result.assert_outcomes(failed=1, errors=1, xfailed=1)
    result.stdout.fnmatch_lines(["*skipped under CI: no chromium*", "*skipped under CI: no model*"])


@pytest.mark.parametrize("dist", ["load", "loadgroup"])
def test_an_unlisted_skip_fails_under_ci_on_parallel_workers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, dist: str
) -> None:
    """The README's command runs the suite on pytest-xdist workers: the skip is judged on
    the worker and its failure must reach the run's outcome."""
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_skipping=SKIPPING)
    grouped = "import pytest\npytestmark = pytest.mark.xdist_group('g')\n" + SKIPPING
    pytester.makepyfile(test_grouped=grouped)
    # Only the plugins the run needs: a worker that loaded every installed one (schemathesis,
    # playwright, ...) would take seconds to start.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    # The run is a new process in pytester's directory: it finds `tests.support` through
    # PYTHONPATH, as the suite itself does through pyproject's `pythonpath`.
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    result = pytester.runpytest_subprocess(
        *PLUGINS, "-p", "xdist.plugin", "-n", "2", "--dist", dist
    )
    result.assert_outcomes(failed=2, errors=2, xfailed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_outside_ci_a_skip_stays_a_skip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_skipping=SKIPPING)
    result = pytester.runpytest_inprocess(*PLUGINS)
    result.assert_outcomes(skipped=2, xfailed=1)


def test_a_listed_test_may_skip_whatever_its_parameters() -> None:
    listed = next(iter(ALLOWED_SKIPS))
    assert allowed_reason(listed, ALLOWED_SKIPS) == ALLOWED_SKIPS[listed]
    assert allowed_reason(listed + "[case-1]", ALLOWED_SKIPS) == ALLOWED_SKIPS[listed]
    assert allowed_reason(listed + "_and_more", ALLOWED_SKIPS) is None
    # `--dist loadgroup` appends the test's group to its id on the worker.
    assert allowed_reason(listed + "@workers", ALLOWED_SKIPS) == ALLOWED_SKIPS[listed]
    assert allowed_reason(listed + "[case-1]@workers", ALLOWED_SKIPS) == ALLOWED_SKIPS[listed]
    assert allowed_reason(listed + "_and_more@workers", ALLOWED_SKIPS) is None


def test_every_allowed_skip_names_a_test_that_exists_and_gives_a_reason() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for nodeid, reason in ALLOWED_SKIPS.items():
        path, name = nodeid.split("::")
        assert f"def {name}(" in (root / path).read_text(), nodeid
        assert len(reason) > 20, nodeid


def test_docs_testing_lists_every_allowed_skip() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "testing.md").read_text()
    for nodeid in ALLOWED_SKIPS:
        assert f"`{nodeid}`" in doc, nodeid
