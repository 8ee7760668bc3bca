"""Run every benchmark in bench/ and write one report.

    python -m bench                  # every module at its default (full) size
    python -m bench --quick          # scaled-down sizes (BENCH_QUICK=1), well under 10 minutes
    python -m bench --only load --only memory_bench --timeout 300

Each module `bench/<name>.py` with a `__main__` block (not `_*`, not `soak`) runs as
`python -m bench.<name>` in its
own process with a time budget. In quick mode the environment carries BENCH_QUICK=1 and the
module gets its quick arguments: a module-level `QUICK_ARGS = [...]` list in its source, or
the entry in `KNOWN_QUICK_ARGS` below. In a full run a module may ask for a longer budget
than --timeout with a module-level `BUDGET_SECONDS = ...`. A module that fails or runs out of
time is reported as such. The report goes to bench/results/report.md and
bench/results/report.json (git-ignored), with the machine's details and issue 22's goal
table: each row's figure from the `GOAL {...}` line its module printed (bench/goals.py), the
goal, the reference from the same run, and met, missed, no figure or not run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import goals

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"

# Quick sizes for modules that do not declare QUICK_ARGS themselves.
KNOWN_QUICK_ARGS: dict[str, list[str]] = {
    "core_roundtrip": ["--commands", "2000", "--users", "100"],
    "rooms_bench": ["--rooms", "200", "--window", "10"],
    "linked_rooms_bench": ["--members", "50"],
    "web_bench": ["--seconds", "6"],
    "flashcards_bench": ["--small"],
    "retrieval": ["--embedder", "none"],
    "telegram_bench": ["--commands", "300"],
    "documents_bench": ["--chunks", "5000", "--queries", "100", "--pages", "5", "--docs", "1"],
    "startup_bench": ["--runs", "2"],
}


@dataclass
class ModuleResult:
    name: str
    status: str  # "ok", "failed" or "timeout"
    seconds: float
    exit_code: int | None
    command: list[str]
    output: str
    errors: str
    highlights: list[str] = field(default_factory=list)


def discover(only: list[str] | None = None) -> list[str]:
    names = sorted(
        p.stem
        for p in BENCH_DIR.glob("*.py")
        if not p.stem.startswith("_") and p.stem != "soak" and _runnable(p)
    )
    if only:
        unknown = sorted(set(only) - set(names) - {"soak"})
        if unknown:
            raise SystemExit(f"no such benchmark: {', '.join(unknown)} (have: {', '.join(names)})")
        names = [n for n in only if n in names or n == "soak"]
    return names


def _runnable(path: Path) -> bool:
    """A benchmark has a `__main__` block; shared helpers without one are skipped."""
    return '__name__ == "__main__"' in path.read_text(encoding="utf-8")


def module_constant(name: str, constant: str) -> object:
    """A literal module-level constant from the module's source (read without importing it)."""
    tree = ast.parse((BENCH_DIR / f"{name}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == constant for t in targets):
                return ast.literal_eval(node.value) if node.value is not None else None
    return None


def quick_args(name: str) -> list[str]:
    """`QUICK_ARGS = [...]` from the module's source, or the entry in KNOWN_QUICK_ARGS."""
    value = module_constant(name, "QUICK_ARGS")
    if isinstance(value, list):
        return [str(v) for v in value]
    return KNOWN_QUICK_ARGS.get(name, [])


def budget(name: str, quick: bool, timeout: float | None) -> float:
    """Seconds the module may run: --timeout, else its BUDGET_SECONDS in a full run, else
    240 (quick) or 1,200 (full)."""
    if timeout is not None:
        return timeout
    if quick:
        return 240.0
    value = module_constant(name, "BUDGET_SECONDS")
    return float(value) if isinstance(value, int | float) else 1200.0


_LABELS = re.compile(r"p50|p99|nDCG@10|R@10+|SELECT 1")


def highlights(output: str) -> list[str]:
    """Lines that carry a figure (latency, rate, memory), for the summary table."""
    keys = ("p50", "p99", "/s", "RSS", "nDCG", "error rate", "connections", "MiB")
    lines = [
        line.strip() for line in output.splitlines() if not line.strip().startswith(goals.PREFIX)
    ]
    marked = [
        line
        for line in lines
        if any(k in line for k in keys) and re.search(r"\d", _LABELS.sub("", line))
    ]
    # A table of plain numbers (no units on its rows): its rows with decimals.
    return (marked or [line for line in lines if re.search(r"\d\.\d", line)])[:12]


def run_module(name: str, quick: bool, timeout: float) -> ModuleResult:
    command = [sys.executable, "-m", f"bench.{name}", *(quick_args(name) if quick else [])]
    env = dict(os.environ)
    if quick:
        env["BENCH_QUICK"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    print(f"== bench.{name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as expired:
        print(f"   timeout after {timeout:.0f} s", file=sys.stderr, flush=True)
        return ModuleResult(
            name,
            "timeout",
            time.perf_counter() - started,
            None,
            command,
            _text(expired.stdout),
            _text(expired.stderr) + f"\n(stopped after the {timeout:.0f} s budget)",
        )
    seconds = time.perf_counter() - started
    status = "ok" if done.returncode == 0 else "failed"
    print(f"   {status} in {seconds:.1f} s", file=sys.stderr, flush=True)
    return ModuleResult(
        name,
        status,
        seconds,
        done.returncode,
        command,
        done.stdout,
        done.stderr,
        highlights(done.stdout),
    )


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def machine() -> dict[str, object]:
    info: dict[str, object] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }
    info.update(_server_versions())
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def _server_versions() -> dict[str, object]:
    """Start the servers the benchmarks use (embedded or configured) and ask their versions."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench._machine"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        versions: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return versions
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return {"postgresql": "unknown", "redis": "unknown"}


def write_report(
    info: dict[str, object], results: list[ModuleResult], quick: bool, total: float
) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    report = {
        "generated_at": stamp,
        "mode": "quick" if quick else "full",
        "total_seconds": round(total, 1),
        "machine": info,
        "modules": [asdict(r) for r in results],
        "goals": goals.as_json(goal_rows(results)),
    }
    json_path = RESULTS / "report.json"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    md_path = RESULTS / "report.md"
    md_path.write_text(markdown(report, results))
    return md_path, json_path


def goal_rows(results: list[ModuleResult]) -> list[goals.Row]:
    """Issue 22's table against what the modules that ran printed."""
    return goals.evaluate({r.name: (r.status, r.output) for r in results})


def markdown(report: dict[str, Any], results: list[ModuleResult]) -> str:
    info: dict[str, object] = report["machine"]
    lines = [
        f"# Study Teddy benchmark report ({report['mode']} run)",
        "",
        f"Generated {report['generated_at']} in {report['total_seconds']} s.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in info.items()),
        "",
        "| benchmark | status | seconds | key figures |",
        "|---|---|---:|---|",
    ]
    for r in results:
        figures = "<br>".join(_cell(h) for h in r.highlights[:6]) or "—"
        lines.append(f"| bench.{r.name} | **{r.status}** | {r.seconds:.1f} | {figures} |")
    failed = [r.name for r in results if r.status != "ok"]
    lines += ["", f"{len(results) - len(failed)} of {len(results)} benchmarks ok."]
    if failed:
        lines.append(f"Not ok: {', '.join(failed)}.")
    lines += ["", *goals.markdown(goal_rows(results))]
    for r in results:
        lines += ["", f"## bench.{r.name} ({r.status}, {r.seconds:.1f} s)", ""]
        lines += [f"`{' '.join(['python', *r.command[1:]])}`", "", "```", r.output.rstrip(), "```"]
        if r.status != "ok":
            tail = "\n".join(r.errors.rstrip().splitlines()[-30:])
            lines += ["", "stderr (last lines):", "", "```", tail, "```"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down sizes (BENCH_QUICK=1)")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this module (repeatable)"
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds per module (quick 240, full 1200)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("BENCH_QUICK") == "1"
    names = discover(args.only)
    if args.list:
        for name in names:
            print(name, " ".join(quick_args(name)))
        return 0
    started = time.perf_counter()
    info = machine()
    results = [run_module(name, quick, budget(name, quick, args.timeout)) for name in names]
    md_path, json_path = write_report(info, results, quick, time.perf_counter() - started)
    print(md_path.read_text())
    print(f"report: {md_path} and {json_path}", file=sys.stderr)
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
