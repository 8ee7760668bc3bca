"""The FSRS fit benchmark gives the same figures whether students are fitted in one
process or several."""

from __future__ import annotations

import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS

from bench import fsrs_fit_bench as bench
from tests.support.installed import skip_module_unless_installed

skip_module_unless_installed("torch", "pandas")  # the optimizer extra


def short_students() -> list[bench.Student]:
    """Four students with 20-24 days of history: four fits take seconds."""
    return bench.draw_students(4, seed=7, days=(20, 25), per_day=(8, 12))


@pytest.mark.fast
def test_fitting_students_in_two_processes_gives_the_serial_runs_results() -> None:
    students = short_students()
    assert students == short_students()
    serial = list(bench.results(students, mini_batch=64, processes=1))
    parallel = list(bench.results(students, mini_batch=64, processes=2))
    assert parallel == serial
    assert all(r.fitted != tuple(DEFAULT_PARAMETERS) for r in serial)  # fits moved

    serial_totals, parallel_totals = bench.Totals(), bench.Totals()
    for one, other in zip(serial, parallel, strict=True):
        serial_totals.add(one)
        parallel_totals.add(other)
    for name in bench.NAMES:
        assert serial_totals.tallies[name].figures() == parallel_totals.tallies[name].figures()
