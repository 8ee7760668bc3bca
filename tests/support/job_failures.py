"""A job that raises inside an `InlineJobQueue` is logged and kept in the queue's `failures`;
nothing in the product reads that list. So that such a failure can never hide behind a
passing test, every test gets the autouse `job_failures` fixture (tests/conftest.py): the
queues it watches are checked after the test, and any failure the test did not take fails
it. A test that expects a job to fail takes the failure and asserts on it."""

from __future__ import annotations

import traceback

import pytest

from core.jobs import InlineJobQueue, JobQueue


class JobFailures:
    """The failed jobs of the inline queues one test ran."""

    def __init__(self) -> None:
        self.queues: list[InlineJobQueue] = []

    def watch(self, queue: JobQueue) -> None:
        """Check `queue` after the test (a Celery queue's failures are dead letters instead)."""
        if isinstance(queue, InlineJobQueue) and queue not in self.queues:
            self.queues.append(queue)

    def take(self) -> list[tuple[str, BaseException]]:
        """The failures so far, each taken off the record: the test expected them."""
        taken: list[tuple[str, BaseException]] = []
        for queue in self.queues:
            taken.extend(queue.failures)
            queue.failures.clear()
        return taken

    def check(self) -> None:
        """Fail the test if any job failed that the test did not take."""
        left = [failure for queue in self.queues for failure in queue.failures]
        if left:
            pytest.fail(_describe(left), pytrace=False)


def _describe(failures: list[tuple[str, BaseException]]) -> str:
    parts = [f"{len(failures)} job(s) failed and the test did not expect it:"]
    for name, error in failures:
        trace = "".join(traceback.format_exception(error)).rstrip()
        parts.append(f"--- job {name!r}\n{trace}")
    parts.append("(a test that expects a job to fail takes it: job_failures.take())")
    return "\n".join(parts)
