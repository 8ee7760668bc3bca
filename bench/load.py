"""Load scenario: simulated students using the whole product at once, through the core's
console-style Incoming path and through the Telegram adapter (the real python-telegram-bot
Application against the local Bot API stand-in), on loopback, for a bounded time.

    python -m bench.load                       # 2,000 students (a quarter through Telegram)
    python -m bench.load --students 10000      # the issue's size
    python -m bench.load --students 300 --minutes 1

Each student holds a conversation: /start, /room in their room of 25, then three of:
settings and help; tasks (add with a due date, list, complete); flashcards (a deck, a
card, a review with Show answer and a grade); a one-off reminder; /docs and /search; room
tasks and /leaderboard. One in twenty uploads a note first; one per room starts /focus.
Prints the error rate (must be 0), p50/p99 per command, throughput and the most database
connections open at once, next to a bare SELECT 1."""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

from bench._common import bench_core, describe, select_one_latencies
from bench._load import (
    ConnectionSampler,
    NothingToPress,
    Step,
    Tally,
    core_sender,
    db_connections,
    incoming,
    run_students,
)
from core.chat.messages import Attachment, Reply
from teddy.runtime import Core

QUICK_ARGS = ["--students", "300", "--minutes", "2"]
ROOM_SIZE = 25
TITLES = [
    "Lab report fri 5pm #chem !high",
    "Read chapter 4 tomorrow #bio",
    "Essay draft in 3 days #history !medium",
    "Problem set 7 next monday 9am #math !high",
    "Revise flashcards tomorrow 8pm",
]
CARDS = [
    "What is ATP? | the cell's energy currency",
    "{{c1::Mitochondria}} make ATP",
    "Capital of Peru? | Lima",
]
NOTE = (
    b"# Photosynthesis\n\nPhotosynthesis turns light energy into chemical energy in the "
    b"chloroplasts. The light reactions make ATP and NADPH; the Calvin cycle fixes carbon "
    b"dioxide into sugar.\n\n# Respiration\n\nCellular respiration releases that energy "
    b"in the mitochondria."
)


def student_steps(n: int, rng: random.Random, uploads: bool) -> list[Step]:
    """/start, then three activities picked at random (every student in a room also
    looks at the room; one in twenty uploads a note first; one per room starts /focus)."""
    room = f"r{n // ROOM_SIZE}"
    activities = {
        "settings": [Step("/settings", "/settings"), Step("/help", "/help")],
        "tasks": [
            Step("/task", f"/task {rng.choice(TITLES)}"),
            Step("/tasks", "/tasks"),
            Step("/done", "/done 1"),
        ],
        "cards": [
            Step("/deck", f"/deck {rng.choice(['Biology', 'Chemistry', 'Spanish'])}"),
            Step("/card", f"/card {rng.choice(CARDS)}"),
            Step("/review", "/review"),
            Step("press show answer", press=0),
            Step("press grade", press=2),
        ],
        "reminder": [Step("/remind", "/remind in 2 hours stretch and drink water")],
        "documents": [Step("/docs", "/docs"), Step("/search", "/search photosynthesis")],
        "room tasks": [
            Step("/roomtask", f"/roomtask Group slides {n} fri #project", room=room),
            Step("/roomtasks", "/roomtasks", room=room),
            Step("/leaderboard", "/leaderboard", room=room),
        ],
    }
    steps = [Step("/start", "/start"), Step("/room", "/room", room=room)]
    if uploads and n % 20 == 0:
        steps.append(Step("upload", "", upload=True))
    for name in rng.sample(sorted(activities), 3):
        steps += activities[name]
    if n % ROOM_SIZE == ROOM_SIZE - 1:
        steps.append(Step("/focus", "/focus 25 5", room=room))
    return steps


def upload_attachment() -> Attachment:
    async def fetch() -> bytes:
        return NOTE

    return Attachment("photosynthesis.md", len(NOTE), "text/markdown", fetch)


Sender = Callable[[str, Step, str], Awaitable[list[Reply]]]


def with_buttons(send: Sender) -> Sender:
    """Presses a button of the student's previous reply; uploads attach the note."""
    # Only the action ids of each student's latest buttons: the soak run must not mistake
    # its own bookkeeping for growth.
    last: dict[str, list[str]] = {}

    async def wrapped(user: str, step: Step, event_id: str) -> list[Reply]:
        if step.press is not None:
            actions = last.get(user, [])
            if len(actions) <= step.press:
                raise NothingToPress(step.label)
            step = Step(step.label, action=actions[step.press], room=step.room)
        replies = await send(user, step, event_id)
        actions = [b.action for r in replies for b in r.buttons]
        if actions:
            last[user] = actions
        else:
            last.pop(user, None)
        return replies

    return wrapped


def console_sender(core: Core) -> Sender:
    plain = core_sender(core, "console")

    async def send(user: str, step: Step, event_id: str) -> list[Reply]:
        if step.upload:
            event = incoming("console", user, step, event_id)
            event = type(event)(
                event.sender,
                event.chat,
                text="",
                attachments=(upload_attachment(),),
                mentioned=True,
                event_id=event_id,
            )
            return await core.dispatcher.handle(event)
        return await plain(user, step, event_id)

    return with_buttons(send)


async def main(students: int, telegram_share: float, concurrency: int, minutes: float) -> None:
    logging.disable(logging.WARNING)
    rng = random.Random(13)
    async with bench_core() as core:
        reference = await select_one_latencies(core, 500)
        idle_connections = await db_connections(core)
        n_telegram = int(students * telegram_share)
        console_students = [
            (f"s{n}", student_steps(n, rng, uploads=True)) for n in range(n_telegram, students)
        ]
        tally = Tally()
        telegram_tally = Tally()
        deadline = time.perf_counter() + minutes * 60
        started = time.perf_counter()
        async with ConnectionSampler(core) as sampler:
            jobs = [
                run_students(console_students, console_sender(core), concurrency, tally, deadline)
            ]
            telegram = None
            if n_telegram:
                from bench._load_telegram import TelegramPath

                telegram = TelegramPath(core)
                await telegram.start()
                telegram_students = [
                    (
                        str(1_000_000 + n),
                        [s for s in student_steps(n, rng, False) if s.press is None],
                    )
                    for n in range(n_telegram)
                ]
                jobs.append(
                    run_students(
                        telegram_students,
                        telegram.send,
                        max(1, concurrency // 4),
                        telegram_tally,
                        deadline,
                    )
                )
            try:
                served = sum(await asyncio.gather(*jobs))
            finally:
                if telegram is not None:
                    await telegram.stop()
        elapsed = time.perf_counter() - started
        drain = getattr(core.services.jobs, "drain", None)
        if drain is not None:
            await drain(timeout=120)
    total = tally.total + telegram_tally.total
    errors = tally.error_count + telegram_tally.error_count
    print(
        f"load: {students:,} students ({n_telegram:,} through Telegram), "
        f"c={concurrency}, {elapsed:.1f} s (budget {minutes:g} min)"
    )
    print(f"  students who finished their conversation: {served:,} of {students:,}")
    print("  " + describe("bare SELECT 1 (reference)", reference))
    print(f"  messages: {total:,}, {total / elapsed:,.1f} messages/s")
    print(f"  error rate: {errors}/{total} = {errors / max(total, 1):.4%} (must be 0)")
    print(f"  button presses skipped (no such button shown): {tally.skipped}")
    print(
        f"  DB connections: idle {idle_connections}, max {sampler.max} "
        "(pool 10 + overflow 10 per process)"
    )
    print("  console path (core dispatcher):")
    for line in tally.table():
        print("  " + line)
    if telegram_tally.total:
        print("  Telegram path (PTB Application -> core -> Bot API stand-in over HTTP):")
        for line in telegram_tally.table():
            print("  " + line)
    if errors:
        details = "; ".join(
            filter(None, [tally.summary_of_errors(), telegram_tally.summary_of_errors()])
        )
        raise SystemExit(f"{errors} errors: {details}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=2_000)
    parser.add_argument("--telegram-share", type=float, default=0.25)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=5, help="stop starting students after")
    args = parser.parse_args()
    asyncio.run(main(args.students, args.telegram_share, args.concurrency, args.minutes))
