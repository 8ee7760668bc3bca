"""The console adapter as a user runs it: `teddy chat` in a subprocess, JSON lines."""

import json
import os
import subprocess
import sys
from pathlib import Path

from teddy.servers import Servers


def run_chat(home: Path, servers: Servers, lines: list[str], *args: str) -> list[dict[str, object]]:
    env = {
        **os.environ,
        "TEDDY_HOME": str(home),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "teddy", "chat", "--jsonl", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_scripted_console_answers_each_line_with_one_json_reply(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    out = run_chat(
        tmp_path,
        servers,
        [
            "/start",
            '{"text": "/settings tz Europe/Berlin"}',
            "{not json",
            "/settings",
        ],
        "--user",
        "e2e-user",
    )
    assert [o["kind"] for o in out] == ["reply", "reply", "error", "reply"]
    assert "Study Teddy" in str(out[0]["text"])
    assert "not valid JSON" in str(out[2]["text"])
    assert "Europe/Berlin" in str(out[3]["text"])
    assert all(o["buttons"] == [] for o in out)


def test_console_users_and_rooms_persist_across_invocations(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    run_chat(tmp_path, servers, ["/settings tz Asia/Tokyo"], "--user", "kim")
    out = run_chat(tmp_path, servers, ["/settings"], "--user", "kim")
    assert "Asia/Tokyo" in str(out[0]["text"])
    other = run_chat(tmp_path, servers, ["/settings"], "--user", "lee")
    assert "Asia/Tokyo" not in str(other[0]["text"])
