"""Tasks from the terminal: `teddy chat` adds them, `teddy jobs run-due` sweeps, and the
next `teddy chat` prints the reminder before any input."""

import os
import subprocess
import sys
from pathlib import Path

from teddy.servers import Servers
from tests.e2e.test_console import run_chat


def run_due(home: Path, servers: Servers, now: str) -> str:
    env = {
        **os.environ,
        "TEDDY_HOME": str(home),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "teddy", "jobs", "run-due", "--now", now],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_reminder_reaches_the_console_once_after_run_due(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    start = "2026-11-25T18:00+09:00"
    out = run_chat(
        tmp_path,
        servers,
        [
            "/settings tz Asia/Tokyo",
            "/task Lab report fri 5pm #chem !high",
            "/task Read chapter 5",
            "/tasks",
        ],
        "--user",
        "kenji",
        "--now",
        start,
    )
    assert "due Fri 27 Nov 17:00 — reply /edit 1 to change" in str(out[1]["text"])
    assert [b["label"] for b in out[3]["buttons"]] == ["✓ 1", "✓ 2"]  # type: ignore[union-attr]

    before_due = "2026-11-27T16:01+09:00"
    ran = run_due(tmp_path, servers, before_due)
    assert "ran tasks.sweep_reminders" in ran
    run_due(tmp_path, servers, before_due)

    later = run_chat(tmp_path, servers, ["/tasks"], "--user", "kenji", "--now", before_due)
    assert later[0]["kind"] == "notification"
    assert later[0]["text"] == "⏰ Lab report is due Fri 27 Nov 17:00"
    assert later[0]["buttons"][0]["label"] == "✓ Done"  # type: ignore[index]
    assert [o["kind"] for o in later] == ["notification", "reply"]

    again = run_chat(tmp_path, servers, ["/tasks"], "--user", "kenji", "--now", before_due)
    assert [o["kind"] for o in again] == ["reply"]
