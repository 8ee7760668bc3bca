"""Linked rooms from the console, each line a separate `teddy chat` process: two console
rooms joined with `/room link` and `/room join`, sharing a focus session (its live
message reaching the other room through the outbox) and room tasks; a third room and a
spent code get nothing; `/room unlink` gives the second room back its own."""

import json
import re
from pathlib import Path

from teddy.servers import Servers
from tests.e2e.test_rooms_console import at, teddy

CODE = re.compile(r"/room join ([A-Z0-9]{5}-[A-Z0-9]{5})")


def say(
    home: Path, servers: Servers, room: str, user: str, minute: int, *lines: str
) -> list[dict[str, object]]:
    args = ["chat", "--jsonl", "--room", room, "--user", user, "--now", at(minute)]
    return teddy(home, servers, args, list(lines))


def texts(out: list[dict[str, object]], kind: str = "reply") -> list[str]:
    return [str(o["text"]) for o in out if o["kind"] == kind]


def test_two_console_rooms_linked_share_focus_and_tasks_then_unlink(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    linked = say(tmp_path, servers, "g1", "ann", 0, "/room link")
    found = CODE.search(texts(linked)[0])
    assert found is not None, linked
    code = found.group(1)
    joined = say(tmp_path, servers, "g2", "ben", 1, f"/room join {code}", "/room")
    assert "now shares one room with: Console · g1" in texts(joined)[0]
    assert "linked chats (2): Console · g1, Console · g2" in texts(joined)[1]

    started = say(tmp_path, servers, "g1", "ann", 2, "/focus 25 5")
    assert any("Console · g2 joined" in t for t in texts(started, "notification"))
    buttons = [o["buttons"] for o in started if o["kind"] == "reply"][-1]
    join = next(b["action"] for b in buttons if b["label"] == "Join")  # type: ignore[attr-defined]
    pressed = say(tmp_path, servers, "g2", "ben", 3, json.dumps({"action": join}))
    # Ben's room got the live message from the outbox before he pressed Join in it.
    assert any("Group focus" in t for t in texts(pressed, "notification"))
    # The press edits that live message in place.
    assert "In (2): ann, ben" in texts(pressed, "edit")[-1]

    outsider = say(tmp_path, servers, "g3", "cid", 4, f"/room join {code}", "/roomtasks")
    assert "not valid" in texts(outsider)[0]
    say(tmp_path, servers, "g2", "ben", 5, "/roomtask Poster draft")
    assert "Poster draft" in texts(say(tmp_path, servers, "g1", "ann", 6, "/roomtasks"))[-1]
    assert "Poster draft" not in texts(outsider)[-1]
    assert "Poster draft" not in texts(say(tmp_path, servers, "g3", "cid", 7, "/roomtasks"))[-1]

    unlinked = say(tmp_path, servers, "g2", "ben", 8, "/room unlink", "/roomtasks")
    assert "room of its own again" in texts(unlinked)[0]
    assert "Poster draft" not in texts(unlinked)[1]
    told = say(tmp_path, servers, "g1", "ann", 9, "/room")
    assert any("Console · g2 was unlinked" in t for t in texts(told, "notification"))
    assert "linked chats" not in texts(told)[-1]
