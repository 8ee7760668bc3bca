"""Helpers for the whole-product benchmarks (memory, load, soak): process memory, database
connections, and simulated students talking to the core."""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import time
from array import array
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

import asyncpg

from bench._common import percentile
from core.chat.messages import Conversation, Incoming, Reply, Sender
from core.dispatch.dispatcher import INTERNAL_ERROR
from teddy.runtime import Runtime

NOTE = (
    b"# Photosynthesis\n\nPhotosynthesis turns light energy into chemical energy in the "
    b"chloroplasts. The light reactions make ATP and NADPH; the Calvin cycle fixes carbon "
    b"dioxide into sugar.\n\n# Respiration\n\nCellular respiration releases that energy "
    b"in the mitochondria."
)
_EVENTS = itertools.count(1)  # event ids are unique per process (the dispatcher de-duplicates)


def quick() -> bool:
    return os.environ.get("BENCH_QUICK") == "1"


def rss_mib() -> float:
    """Resident set size of this process, after a garbage collection."""
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _dsn(core: Runtime) -> str:
    return core.servers.database_url.replace("postgresql+asyncpg://", "postgresql://")


async def db_connections(core: Runtime) -> int:
    """Client connections open to the database right now, not counting the one asking."""
    conn = await asyncpg.connect(_dsn(core))
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return int(count)
    finally:
        await conn.close()


class ConnectionSampler:
    """Samples the number of open database connections in the background; keeps the max."""

    def __init__(self, core: Runtime, every: float = 0.2) -> None:
        self.core = core
        self.every = every
        self.max = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ConnectionSampler:
        self._conn = await asyncpg.connect(_dsn(self.core))
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._conn.close()

    async def _run(self) -> None:
        while True:
            count = await self._conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            self.max = max(self.max, int(count))
            await asyncio.sleep(self.every)


@dataclass
class Step:
    """One thing a student sends: a command's label (for the per-command figures) and the
    text or button action. `options` are the command's arguments as a platform with typed
    command options (Discord) collects them; `text` is the same command typed."""

    label: str
    text: str = ""
    action: str | None = None
    room: str | None = None
    press: int | None = None  # press this button of the previous reply
    upload: bool = False  # send a file instead of text
    options: Mapping[str, object] = field(default_factory=dict)


class NothingToPress(Exception):
    """The previous reply has no such button (e.g. no card is due any more): the student
    does not press; counted as skipped, not as an error."""


@dataclass
class Tally:
    # Compact arrays, so the bookkeeping of 100,000 messages hardly shows in the RSS figures.
    latencies: dict[str, array[float]] = field(
        default_factory=lambda: defaultdict(lambda: array("d"))
    )
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    skipped: int = 0

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    @property
    def error_count(self) -> int:
        return sum(len(v) for v in self.errors.values())

    def record(self, label: str, seconds: float, problem: str | None) -> None:
        self.latencies[label].append(seconds)
        if problem is not None:
            self.errors[label].append(problem)

    def summary_of_errors(self) -> str:
        return "; ".join(f"{k}: {len(v)} ({v[0]})" for k, v in self.errors.items())

    def table(self) -> list[str]:
        lines = [
            f"  {'command':<22} {'n':>7} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}",
        ]
        for label in sorted(self.latencies):
            ms = [s * 1000 for s in self.latencies[label]]  # a copy only while printing
            lines.append(
                f"  {label:<22} {len(ms):>7} {percentile(ms, 50):>9.2f} "
                f"{percentile(ms, 99):>9.2f} {len(self.errors.get(label, [])):>7}"
            )
        return lines


def incoming(platform: str, user: str, step: Step, event_id: str) -> Incoming:
    sender = Sender(platform, user, f"Student {user}")
    if step.room is None:
        chat = Conversation(platform, f"dm-{user}", True)
    else:
        chat = Conversation(platform, f"room-{step.room}", False, title=step.room)
    return Incoming(
        sender, chat, text=step.text, action=step.action, mentioned=True, event_id=event_id
    )


def problem_in(replies: list[Reply]) -> str | None:
    """An internal error (an exception the dispatcher caught), or no reply at all."""
    if not replies:
        return "no reply"
    for reply in replies:
        if INTERNAL_ERROR in reply.plain_text():
            return "internal error"
    return None


async def run_students(
    students: Iterable[tuple[str, list[Step]]],
    send: Callable[[str, Step, str], Awaitable[list[Reply]]],
    concurrency: int,
    tally: Tally,
    deadline: float | None = None,
) -> int:
    """Each student sends their steps in order (a conversation); `concurrency` students at
    a time. Stops taking new students after `deadline` (time.perf_counter)."""
    queue: asyncio.Queue[tuple[str, list[Step]]] = asyncio.Queue()
    for student in students:
        queue.put_nowait(student)

    served = 0

    async def worker() -> None:
        nonlocal served
        while not queue.empty():
            if deadline is not None and time.perf_counter() > deadline:
                return
            user, steps = queue.get_nowait()
            for step in steps:
                event_id = f"{user}-{next(_EVENTS)}"
                start = time.perf_counter()
                try:
                    replies = await send(user, step, event_id)
                    problem = problem_in(replies)
                except NothingToPress:
                    tally.skipped += 1
                    continue
                except Exception as err:  # counted as an error, never hidden
                    problem = f"{type(err).__name__}: {err}"
                tally.record(step.label, time.perf_counter() - start, problem)
            served += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return served


def core_sender(
    core: Runtime, platform: str = "bench"
) -> Callable[[str, Step, str], Awaitable[list[Reply]]]:
    async def send(user: str, step: Step, event_id: str) -> list[Reply]:
        return await core.dispatcher.handle(incoming(platform, user, step, event_id))

    return send
