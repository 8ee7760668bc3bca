"""The `deck` argument of the flashcard commands, offering deck names while it is typed."""

from __future__ import annotations

from core.chat.router import Param


def deck_param(description: str, *, required: bool = False, own: bool = False) -> Param:
    """`own`: offer only the user's own decks (where a deck is changed, not just read)."""
    return Param("deck", description, required=required, suggest="owndeck" if own else "deck")
