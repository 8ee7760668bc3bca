"""Three people in one console room, each command a separate `teddy` process: every
process is a restart, so the timers can only live in the database."""

import json
import os
import subprocess
import sys
from pathlib import Path

from teddy.servers import Servers

T0 = "2026-11-25T09:00:00+00:00"


def at(minutes: int) -> str:
    return f"2026-11-25T09:{minutes:02d}:00+00:00"


def teddy(
    home: Path, servers: Servers, args: list[str], lines: list[str]
) -> list[dict[str, object]]:
    env = {
        **os.environ,
        "TEDDY_HOME": str(home),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "teddy", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    if args[0] != "chat":
        return []
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def say(
    home: Path, servers: Servers, user: str, minute: int, *lines: str
) -> list[dict[str, object]]:
    args = ["chat", "--jsonl", "--room", "g1", "--user", user, "--now", at(minute)]
    return teddy(home, servers, args, list(lines))


def test_three_console_users_focus_together_across_processes(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    started = say(tmp_path, servers, "ann", 0, "/focus 25 5")
    assert started[0]["kind"] == "reply" and "Group focus" in str(started[0]["text"])
    actions = {b["label"]: b["action"] for b in started[0]["buttons"]}  # type: ignore[attr-defined]
    joined = say(tmp_path, servers, "bob", 5, json.dumps({"action": actions["Join"]}))
    assert "In (2): ann, bob" in str(joined[-1]["text"])
    say(tmp_path, servers, "cid", 10, json.dumps({"action": actions["Join"]}))
    say(tmp_path, servers, "cid", 15, json.dumps({"action": actions["Leave"]}))
    teddy(tmp_path, servers, ["jobs", "run-due", "--now", at(25)], [])
    teddy(tmp_path, servers, ["jobs", "run-due", "--now", at(30)], [])
    teddy(tmp_path, servers, ["jobs", "run-due", "--now", at(30)], [])
    out = say(tmp_path, servers, "ann", 31, "/leaderboard")
    notes = [str(o["text"]) for o in out if o["kind"] in ("notification", "edit")]
    assert any("Break" in n for n in notes)
    summary = [n for n in notes if "finished" in n]
    assert len(summary) == 1 and "ann: 25 min" in summary[0] and "cid: 5 min" in summary[0]
    board = str(out[-1]["text"])
    assert board.index("ann: 25 min") < board.index("bob: 20 min") < board.index("cid: 5 min")
