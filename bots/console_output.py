"""What the console writes to a terminal and to disk, made safe: text other people wrote
cannot steer the terminal, and a person's files are theirs alone."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

# What a terminal acts on instead of printing: escape sequences (CSI like "clear the
# screen", OSC like "set the window title", and the rest), then every other C0 or C1
# control except newline and tab. Text other people wrote (a room task's title, a shared
# deck's card) reaches a member's terminal, so none of it may steer that terminal.
_TERMINAL_STRINGS = re.compile(
    r"(?:\x1b[\]P^_X]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
)
_TERMINAL_SEQUENCES = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|\x1b[ -/]*[0-~]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1 = re.compile(r"[\x7f-\x9f]")
_UNSAFE_NAME = re.compile(r"[^\w.-]")


def printable(text: str) -> str:
    """`text` without anything a terminal would act on; newlines and tabs stay."""
    text = _TERMINAL_STRINGS.sub("", text)
    text = _TERMINAL_SEQUENCES.sub("", text)
    return _CONTROLS.sub("", text)


def json_line(record: dict[str, Any]) -> str:
    """One JSON object per line. `json.dumps` escapes C0 controls but writes DEL and the
    C1 controls as they are; they are escaped too, so a script that prints a line to a
    terminal prints no control character (the parsed value is the same)."""
    line = json.dumps(record, ensure_ascii=False)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", line) + "\n"


def user_files_dir(home: Path, user: str) -> Path:
    """The directory for one console user's files (exports hold all of their data). A
    name that is not a plain file name gets a hash of itself, so no two users share one
    and none escapes `files/`."""
    safe = _UNSAFE_NAME.sub("_", user).lstrip(".")[:64]
    if safe != user or not safe:
        digest = hashlib.sha256(user.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        safe = f"{safe}-{digest}" if safe else digest
    return home / "files" / safe


def file_name(name: str) -> str:
    """A file name a reply offers, safe to create: no directories, no hidden or special
    name, no control characters."""
    base = _CONTROLS.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".")
    return base or "file"


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` readable by its owner only: created 0600 under a temporary
    name and moved into place, so it is never readable by others, not even for a moment,
    and a file already there (or a link planted in its place) is replaced, not followed."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
