"""What the console prints and writes: text other people wrote cannot steer a member's
terminal, and each person's files (exports hold all their data) are theirs alone."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from bots.console import ConsoleSession
from bots.console_output import file_name, printable, user_files_dir
from teddy.runtime import Runtime

HOSTILE_TITLE = "Essay \x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b2J\x07\x08 done"


def console(core: Runtime, user: str, room: str | None = None, *, jsonl: bool) -> ConsoleSession:
    return ConsoleSession(core, user, room, jsonl, out=io.StringIO())


async def say(session: ConsoleSession, text: str) -> str:
    await session.core.dispatcher.handle(session.incoming(text=text), session.emit)
    out = session.out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


async def test_a_room_task_title_cannot_send_control_sequences_to_a_members_terminal(
    core: Runtime,
) -> None:
    await say(console(core, "ana", "physics", jsonl=True), f"/roomtask {HOSTILE_TITLE} fri")
    shown = await say(console(core, "bob", "physics", jsonl=False), "/roomtasks")
    assert "Essay" in shown and "done" in shown
    assert not any(c in shown for c in "\x1b\x07\x08\x9b")
    assert "pwned" not in shown  # the whole window-title sequence is gone, not just its ESC


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, ünïcödé and emoji 😀", "plain text, ünïcödé and emoji 😀"),
        ("line one\n\tline two", "line one\n\tline two"),
        ("a\x1b[1;31mb\x1b[0mc", "abc"),
        ("link \x1b]8;;https://e.test\x1b\\here\x1b]8;;\x1b\\", "link here"),
        ("reset \x1bc now", "reset  now"),
        ("eight-bit \x9b2J csi, \x9d0;t\x9c osc", "eight-bit  csi,  osc"),
        ("nul \x00 bell \x07 del \x7f", "nul  bell  del "),
    ],
)
def test_printable_keeps_text_and_drops_what_a_terminal_acts_on(text: str, shown: str) -> None:
    assert printable(text) == shown


async def test_exports_are_written_per_user_readable_by_them_only(core: Runtime) -> None:
    kim = console(core, "kim", jsonl=True)
    lee = console(core, "lee", jsonl=True)
    await say(kim, "/task Essay fri")
    kim_out = await say(kim, "/export")
    lee_out = await say(lee, "/export")
    kim_path = Path(json.loads(kim_out.splitlines()[-1])["files"][0])
    lee_path = Path(json.loads(lee_out.splitlines()[-1])["files"][0])
    assert kim_path.parent != lee_path.parent
    assert kim_path.parent == user_files_dir(core.settings.home(), "kim")
    _check_private(kim_path, lee_path)


def _check_private(kim_path: Path, lee_path: Path) -> None:
    assert "Essay" in kim_path.read_text() and "Essay" not in lee_path.read_text()
    for path in (kim_path, lee_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_console_user_names_and_file_names_cannot_leave_the_files_directory() -> None:
    home = Path("/home/teddy")
    for user in ("../../etc", "/abs", ".hidden", "a/b", "..", ""):
        place = user_files_dir(home, user)
        assert place.parent == home / "files" and not place.name.startswith(".")
    assert user_files_dir(home, "a/b") != user_files_dir(home, "a_b")
    for name in ("../x.json", "..", ".", "a\\b.apkg", "/etc/passwd", ".bashrc"):
        made = file_name(name)
        assert "/" not in made and "\\" not in made and not made.startswith(".")


async def test_scripted_output_escapes_every_control_character_and_parses_the_same(
    core: Runtime,
) -> None:
    await say(console(core, "ana", "physics", jsonl=True), f"/roomtask {HOSTILE_TITLE} fri")
    lines = await say(console(core, "bob", "physics", jsonl=True), "/roomtasks")
    assert not any(c in lines for c in "\x1b\x07\x08\x9b")
    titles = [json.loads(line)["text"] for line in lines.splitlines()]
    assert any("\x9b2J" in t and "\x1b]0;pwned" in t for t in titles)  # the data is intact
