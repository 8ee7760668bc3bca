"""Flashcards through `teddy chat --jsonl`, as a script would drive them."""

from __future__ import annotations

import json
from pathlib import Path

from teddy.servers import Servers
from tests.e2e.test_console import run_chat

NOW = "2026-11-25T09:00:00+00:00"


def action(out: list[dict[str, object]], prefix: str) -> str:
    for record in reversed(out):
        for b in record["buttons"]:  # type: ignore[attr-defined]
            if b["label"].startswith(prefix):
                return str(b["action"])
    raise AssertionError(f"no {prefix!r} button in {out}")


def test_a_console_session_builds_a_deck_imports_reviews_and_exports(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    csv_file = tmp_path / "vocab.csv"
    csv_file.write_text("front,back,tags\nperro,dog,es\ngato,cat,es\n", encoding="utf-8")
    chat = ["--user", "sam", "--now", NOW]
    out = run_chat(
        tmp_path,
        servers,
        [
            "/deck Spanish",
            "/card hola | hello",
            "/card {{c1::Buenos}} {{c2::días}} | good morning",
            json.dumps({"file": str(csv_file), "text": "/import"}),
            "/decks",
            "/review",
        ],
        *chat,
    )
    texts = [str(o["text"]) for o in out]
    assert "Created deck Spanish" in texts[0]
    assert "Added 2 cards" in texts[2]
    assert "Imported 2 cards (2 notes) into Spanish" in texts[3]
    assert "Spanish (current): 0 due · 5 new · 5 cards" in texts[4]
    assert texts[5].endswith("hola")

    shown = run_chat(tmp_path, servers, [json.dumps({"action": action(out, "Show")})], *chat)
    assert "hello" in str(shown[0]["text"])
    labels = [b["label"] for b in shown[0]["buttons"]]  # type: ignore[attr-defined]
    assert labels[:4] == ["Again · 1m", "Hard · 6m", "Good · 10m", "Easy · 8d"]
    graded = run_chat(tmp_path, servers, [json.dumps({"action": action(shown, "Good")})], *chat)
    assert "Good · next in 10m" in str(graded[0]["text"])
    assert "[...] días" in str(graded[1]["text"])

    exported = run_chat(tmp_path, servers, ["/export_deck spanish"], *chat)
    files = [Path(str(p)) for p in exported[0]["files"]]  # type: ignore[attr-defined]
    assert sorted(p.suffix for p in files) == [".apkg", ".csv"]
    assert "perro,dog,es,basic" in files[[p.suffix for p in files].index(".csv")].read_text()
