"""The one list of tests that may skip when CI runs the suite (CI=true), each with why.

Under CI any other skip is a failure (tests/support/ci_skips.py): a test that quietly stops
running, say because Chromium could not be installed, proves nothing while the run stays
green. Keys are test node ids without parameters (`path::name`); docs/testing.md repeats
the list."""

from __future__ import annotations

_WORKERS = "tests/integration/test_workers.py::"

ALLOWED_SKIPS: dict[str, str] = {
    _WORKERS + "test_a_database_restart_mid_job_is_retried_and_the_job_finishes_once": (
        "restarts the embedded PostgreSQL: it cannot restart a server of your own "
        "(TEST_DATABASE_URL), which CI does not set"
    ),
    _WORKERS + "test_a_redis_restart_loses_no_job_and_reruns_at_most_the_one_in_flight": (
        "restarts the embedded Redis: it cannot restart a server of your own "
        "(TEST_REDIS_URL), which CI does not set"
    ),
}
