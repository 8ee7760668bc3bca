"""Deck names: what `/deck` keeps for its sub-commands, and the checks every new or renamed
deck name passes."""

from __future__ import annotations

from core.chat.markup import escape
from core.errors import BadInput

MAX_DECK_NAME = 100
# Words `/deck` reads as a sub-command; a deck name may not start with one.
SUBCOMMANDS = ("rename", "del", "delete", "merge", "export")


def name_key(name: str) -> str:
    return " ".join(name.split()).lower()


def check_deck_name(name: str) -> str:
    """A deck name as stored (spaces collapsed), refused when empty, too long or when it
    starts with a `/deck` sub-command word."""
    clean = " ".join(name.split())
    if not clean:
        raise BadInput("Give the deck a name.", "For example /deck Biology")
    if len(clean) > MAX_DECK_NAME:
        raise BadInput(f"A deck name can be at most {MAX_DECK_NAME} characters.")
    if "\x00" in clean:
        raise BadInput("A deck name cannot contain a NUL character.")
    head = clean.split(" ", 1)[0].lower()
    if head in SUBCOMMANDS:
        raise BadInput(
            f"A deck name can't start with “{escape(head)}”: `/deck {escape(head)} …` is a "
            "command (/deck rename <old> <new>, /deck del <name>, /deck merge <from> <into>, "
            "/deck export <name>). Pick another name, e.g. “Biology”."
        )
    return clean
