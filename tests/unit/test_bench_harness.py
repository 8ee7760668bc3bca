"""The benchmark runner: what it runs, with which quick sizes, and how failures show."""

from __future__ import annotations

import bench.__main__ as runner


def test_discovers_benchmarks_but_not_helpers_or_the_soak_run() -> None:
    names = runner.discover()
    assert {"core_roundtrip", "memory_bench", "load"} <= set(names)
    assert not [n for n in names if n.startswith("_")]
    assert "soak" not in names and "common" not in names


def test_the_soak_run_is_reachable_by_name() -> None:
    assert runner.discover(["soak"]) == ["soak"]


def test_quick_arguments_come_from_the_module_or_the_known_table() -> None:
    assert runner.quick_args("memory_bench") == ["--messages", "3000"]
    assert runner.quick_args("core_roundtrip") == runner.KNOWN_QUICK_ARGS["core_roundtrip"]


def test_a_failed_module_is_reported_as_failed_with_its_error() -> None:
    ok = runner.ModuleResult("a", "ok", 1.0, 0, ["python", "-m", "bench.a"], "p50=1 ms\n", "")
    bad = runner.ModuleResult("b", "failed", 2.0, 1, ["python"], "", "Traceback\nBoom")
    report = {"mode": "quick", "generated_at": "now", "total_seconds": 3.0, "machine": {}}
    text = runner.markdown(report, [ok, bad])
    assert "| bench.b | **failed** |" in text
    assert "Boom" in text
    assert "1 of 2 benchmarks ok." in text
    assert "p50=1 ms" in runner.markdown(report, [ok])
