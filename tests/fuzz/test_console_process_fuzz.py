"""The console process (`teddy chat --jsonl`) fed a stream of garbage lines: it answers each
with a reply or a clear error object, never an internal error, and keeps going to the end."""

from __future__ import annotations

import json
import random
from pathlib import Path

from core.dispatch.dispatcher import INTERNAL_ERROR
from teddy.servers import Servers
from tests.e2e.test_console import run_chat


def garbage_lines(rng: random.Random, count: int) -> list[str]:
    """Broken JSON, JSON of every type, odd keys and values, control characters, long lines."""
    makers = [
        lambda: "{" + "".join(rng.choice('{}[]":,\\ ab1') for _ in range(rng.randint(1, 30))),
        lambda: json.dumps(rng.choice([None, True, 3, 2.5, "text", [], [1, "a"], {}])),
        lambda: json.dumps({"text": rng.choice([None, 7, [], {"a": 1}, "", "/", "/nosuch x"])}),
        lambda: json.dumps({"action": rng.choice([None, "", "fc.show:x", "tasks.done:-1", 5])}),
        lambda: json.dumps({"file": rng.choice(["", "/nonexistent", 3, "x" * 5000, None])}),
        lambda: json.dumps({rng.choice(["other", "", "TEXT"]): "hello"}),
        lambda: "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 60))),
        lambda: "/" + "".join(rng.choice("abc_@ /\t") for _ in range(rng.randint(1, 20))),
        lambda: "x" * rng.randint(4000, 20000),
    ]
    lines = [rng.choice(makers)() for _ in range(count)]
    # One line each: the JSON-lines protocol has no way to send a raw newline.
    return [line.replace("\n", " ").replace("\r", " ") for line in lines]


def test_garbage_lines_get_clear_answers_and_the_process_keeps_going(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    lines = garbage_lines(random.Random(13), 60)
    out = run_chat(tmp_path, servers, [*lines, "/settings"], "--user", "fuzz-user")
    assert out, "no output at all"
    assert all(o["kind"] in ("reply", "error") for o in out), out
    assert not [o for o in out if INTERNAL_ERROR in str(o.get("text"))]
    errors = [o for o in out if o["kind"] == "error"]
    assert errors and all(str(o["text"]).strip() for o in errors)
    assert str(out[-1]["text"]).startswith("Your settings")  # the last line still answered
