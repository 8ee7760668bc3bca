"""The attack list of issue 18 ("Input that still reaches 'Sorry, something went wrong'"),
replayed through the console adapter as a person or a script would send it:
`teddy chat --jsonl` in subprocesses, several people, a room, the clock moved with
`--now`. Every line must get a clear answer: a reply, never the internal error, and
for most lines the words that say what was wrong.

    python -m tests.attack_list            # embedded PostgreSQL and Redis in a temp dir
    DATABASE_URL=... REDIS_URL=... python -m tests.attack_list --home /tmp/x

tests/e2e/test_attack_list.py runs it under pytest. The attacks that do not come through
a chat (a Telegram update without `date`, tokens in logs, export files) have their own
tests: tests/e2e/test_telegram_webhook.py, test_secrets_in_logs.py, test_console_output.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

INTERNAL_ERROR = "Sorry, something went wrong"
MARKER = "/zz_end_of_attack"  # an unknown command: a cheap, clear reply that ends a group
T0 = datetime.fromisoformat("2026-11-25T09:00:00+00:00")
HOSTILE_TITLE = "Essay \x1b]0;pwned\x07\x1b[2J"


@dataclass(frozen=True)
class Attack:
    name: str
    line: str  # one input line: plain text or a JSON object
    expect: str = ""  # words the answer must contain ("" = any clear answer)


@dataclass(frozen=True)
class Outcome:
    attack: Attack
    replies: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(str(r.get("text", "")) for r in self.replies)

    @property
    def problem(self) -> str | None:
        if not self.replies:
            return "no answer at all"
        if INTERNAL_ERROR in self.text:
            return "the internal error"
        if self.attack.expect and self.attack.expect.lower() not in self.text.lower():
            return f"no {self.attack.expect!r} in the answer"
        return None


def text(value: str) -> str:
    return json.dumps({"text": value})


def action(value: str) -> str:
    return json.dumps({"action": value})


class Console:
    """Runs `teddy chat --jsonl` against one data directory and one pair of servers."""

    def __init__(self, home: Path, database_url: str, redis_url: str) -> None:
        self.env = {
            **os.environ,
            "TEDDY_HOME": str(home),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
        }

    def run(
        self, lines: list[str], user: str, *, room: str | None = None, now: datetime = T0
    ) -> list[list[dict[str, Any]]]:
        """The replies to each line, one group per line (a marker line follows each)."""
        script = "".join(f"{line}\n{MARKER}\n" for line in lines)
        args = ["--user", user, "--now", now.isoformat(), "--wait", "10"]
        if room is not None:
            args += ["--room", room]
        done = subprocess.run(
            [sys.executable, "-m", "teddy", "chat", "--jsonl", *args],
            input=script.encode(),
            capture_output=True,
            env=self.env,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"teddy chat failed: {done.stderr.decode()[-3000:]}")
        groups: list[list[dict[str, Any]]] = [[]]
        for raw in done.stdout.decode().splitlines():
            record = json.loads(raw)
            if MARKER[1:] in str(record.get("text", "")):
                groups.append([])
            else:
                groups[-1].append(record)
        return groups[: len(lines)]

    def attack(
        self, attacks: list[Attack], user: str, *, room: str | None = None, now: datetime = T0
    ) -> list[Outcome]:
        groups = self.run([a.line for a in attacks], user, room=room, now=now)
        return [Outcome(a, g) for a, g in zip(attacks, groups, strict=True)]


def button(groups: list[list[dict[str, Any]]], label: str) -> str:
    for group in reversed(groups):
        for reply in reversed(group):
            for b in reply.get("buttons", []):
                if str(b["label"]).startswith(label):
                    return str(b["action"])
    raise RuntimeError(f"no {label!r} button in {groups}")


def typed_attacks() -> list[Attack]:
    huge = "99999999999999999999999"
    return [
        Attack("a task due in year 9999", "/task Essay 9999-12-31", "10 years"),
        Attack("a task due at the end of 9999", "/task Essay due 9999-12-31 23:59", "10 years"),
        Attack("a task due in 99999999 days", "/task Essay in 99999999 days", "10 years"),
        Attack("a reminder in 99999999 days", "/remind in 99999999 days stretch", "10 years"),
        Attack("a reminder in 10^5000 minutes", f"/remind in {'9' * 5000} minutes x", "10 years"),
        Attack("a reminder in year 9999", "/remind 9999-12-31 stretch", "10 years"),
        Attack("a task moved to year 9999", "/edit 1 due 9999-12-31", "10 years"),
        Attack("a lone surrogate in a task", text("/task Essay \ud800 fri"), "broken character"),
        Attack("a lone surrogate in chat", text("hi \udfff"), "broken character"),
        Attack("a lone surrogate in a card", text("/card a \ud800 | b"), "broken character"),
        Attack("a lone surrogate as a button", action("tasks.done:\ud800"), "broken character"),
        Attack("a huge task id", action(f"tasks.done:{huge}"), "expired"),
        Attack("a task id past BIGINT", action("tasks.undo:9223372036854775808"), "expired"),
        Attack("Arabic-Indic digits", action("tasks.done:١٢"), "expired"),
        Attack("a superscript digit", action("fc.show:1:²:5"), "expired"),
        Attack("a huge review timestamp", action(f"fc.grade:1:1:3:{huge}"), "expired"),
        Attack("a huge page offset", action(f"tasks.page:open:{huge}"), "expired"),
        Attack("a huge focus session id", action(f"rooms.join:{huge}"), "expired"),
        Attack("a superscript deck id", action("fc.review:²"), "expired"),
        Attack("a huge task number", f"/done {huge}", "not a task number"),
        Attack("a superscript task number", "/del ²", "not a task number"),
        Attack("a superscript card count", "/retention new ²", "number from 0 to 9999"),
        Attack("a huge card count", f"/retention new {huge}", "number from 0 to 9999"),
    ]


def run_attacks(console: Console) -> list[Outcome]:
    outcomes: list[Outcome] = []
    console.run(["/settings tz America/Los_Angeles", "/task Essay fri", "/deck Notes"], "mallory")
    outcomes += console.attack(typed_attacks(), "mallory")

    # A review: the answer shown, then graded 25 days later (the duration overflowed an
    # INTEGER), then the same grade replayed with a forged future timestamp.
    victim = console.run(["/deck Biology", "/card Mitochondria | powerhouse", "/review"], "victim")
    show = button(victim, "Show answer")
    good = button(console.run([action(show)], "victim"), "Good")
    later = T0 + timedelta(days=25)
    outcomes += console.attack(
        [Attack("grading 25 days later", action(good), "next in")], "victim", now=later
    )
    head, _, _ = good.rpartition(":")
    forged = f"{head}:{int((later + timedelta(days=400)).timestamp() * 1000)}"
    outcomes += console.attack(
        [Attack("a forged future timestamp", action(forged), "expired")],
        "victim",
        now=later + timedelta(minutes=5),
    )
    # Someone else's review reads like one that does not exist.
    _, run_id, card_id, shown = show.split(":")
    outcomes += console.attack(
        [
            Attack("someone else's review", action(show), "review session is over"),
            Attack(
                "a review that does not exist",
                action(f"fc.show:{int(run_id) + 10_000}:{card_id}:{shown}"),
                "review session is over",
            ),
        ],
        "mallory",
    )

    # A room task in year 9999 stored by a direct write cannot happen through chat any
    # more; a hostile title can, and members east of UTC still get their list.
    console.run([text(f"/roomtask {HOSTILE_TITLE} fri")], "mallory", room="physics")
    console.run(["/settings tz Asia/Tokyo"], "kim")
    outcomes += console.attack(
        [Attack("a room list with a hostile title", "/roomtasks", "Essay")], "kim", room="physics"
    )
    return outcomes


def report(outcomes: list[Outcome]) -> list[str]:
    """One line per attack; the failures listed last."""
    lines = [f"{'ok  ' if o.problem is None else 'FAIL'} {o.attack.name}" for o in outcomes]
    for o in outcomes:
        if o.problem is not None:
            lines.append(f"  {o.attack.name}: {o.problem}; answered {o.text[:300]!r}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, help="data directory (default: a temporary one)")
    options = parser.parse_args()
    from core.settings import Settings
    from teddy.servers import start_servers

    home = options.home or Path(tempfile.mkdtemp(prefix="teddy-attacks-"))
    settings = Settings(teddy_home=home, _env_file=None)
    try:
        with start_servers(settings) as servers:
            outcomes = run_attacks(Console(home, servers.database_url, servers.redis_url))
    finally:
        if options.home is None:
            shutil.rmtree(home, ignore_errors=True)
    print("\n".join(report(outcomes)))
    return 0 if all(o.problem is None for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
