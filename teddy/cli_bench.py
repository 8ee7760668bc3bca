"""`teddy bench`: run the benchmarks in bench/ and write one report (a source checkout only)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent


@click.command("bench", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--quick", is_flag=True, help="Scaled-down sizes (BENCH_QUICK=1).")
@click.option("--only", multiple=True, metavar="NAME", help="Run only this benchmark.")
@click.option("--timeout", type=float, default=None, help="Seconds per benchmark.")
@click.option("--list", "list_only", is_flag=True, help="List the benchmarks and exit.")
def bench(quick: bool, only: tuple[str, ...], timeout: float | None, list_only: bool) -> None:
    """Run every benchmark and write bench/results/report.md and report.json."""
    if not (ROOT / "bench" / "__main__.py").is_file():
        raise click.ClickException("the benchmarks ship with the source checkout, not the package")
    args = [sys.executable, "-m", "bench"]
    args += ["--quick"] if quick else []
    args += [a for name in only for a in ("--only", name)]
    args += ["--timeout", str(timeout)] if timeout is not None else []
    args += ["--list"] if list_only else []
    sys.exit(subprocess.call(args, cwd=ROOT))
