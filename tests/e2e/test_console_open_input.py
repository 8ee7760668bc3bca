"""`teddy chat --jsonl` whose input stays open keeps doing background work meanwhile."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from teddy.servers import Servers

NOTES = "Photosynthesis happens in chloroplasts. The quokka is a small marsupial.\n"


class OpenChat:
    """A console process whose standard input is kept open; its output read line by line."""

    def __init__(self, home: Path, servers: Servers) -> None:
        env = {
            **os.environ,
            "TEDDY_HOME": str(home),
            "DATABASE_URL": servers.database_url,
            "REDIS_URL": servers.redis_url,
            "EMBEDDINGS_PROVIDER": "none",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "teddy", "chat", "--jsonl", "--user", "olive"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                shown = str(json.loads(self.lines.get(timeout=remaining))["text"])
            except queue.Empty:
                break
            seen.append(shown)
            if text in shown:
                return shown
        raise AssertionError(f"{text!r} never shown; got {seen}")

    def close(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait(60)


def test_an_upload_is_read_and_searchable_while_input_stays_open(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text(NOTES)
    chat = OpenChat(tmp_path, servers)
    try:
        chat.send(json.dumps({"file": str(notes)}))
        assert "Got notes.txt" in chat.wait_for("notes.txt")
        chat.wait_for("Read notes.txt")
        chat.send("/search quokka")
        assert "notes.txt" in chat.wait_for("quokka")
    finally:
        assert chat.close() == 0
