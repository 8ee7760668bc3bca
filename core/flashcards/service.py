"""The flashcards service, one import for callers outside the package: decks and who may
see them (`deck_access`), adding notes in bulk (`bulk_store`), review settings and fitted
parameters (`preferences`) and reviewing (`review`). New code may import those
modules directly."""

from __future__ import annotations

from core.flashcards.bulk_store import AddResult, DeckNote, add_notes, deck_notes
from core.flashcards.deck_access import (
    DeckSummary,
    can_see,
    current_deck,
    deck_summary,
    decks_matching,
    ensure_states,
    find_deck,
    get_deck,
    list_decks,
    require_owner,
    share_with_room,
    use_deck,
)
from core.flashcards.names import MAX_DECK_NAME
from core.flashcards.preferences import (
    current_parameters,
    get_prefs,
    record_fit,
    review_logs_for,
    save_parameters,
    set_new_per_day,
    set_retention,
    users_to_optimize,
)
from core.flashcards.review import (
    DueCard,
    Graded,
    RoundSummary,
    due_counts_by_user,
    finish_round,
    get_round,
    grade,
    new_cards_left,
    next_card,
    show_card,
    start_round,
)

__all__ = [
    "MAX_DECK_NAME",
    "AddResult",
    "DeckNote",
    "DeckSummary",
    "DueCard",
    "Graded",
    "RoundSummary",
    "add_notes",
    "can_see",
    "current_deck",
    "current_parameters",
    "deck_notes",
    "deck_summary",
    "decks_matching",
    "due_counts_by_user",
    "ensure_states",
    "find_deck",
    "finish_round",
    "get_deck",
    "get_prefs",
    "get_round",
    "grade",
    "list_decks",
    "new_cards_left",
    "next_card",
    "record_fit",
    "require_owner",
    "review_logs_for",
    "save_parameters",
    "set_new_per_day",
    "set_retention",
    "share_with_room",
    "show_card",
    "start_round",
    "use_deck",
    "users_to_optimize",
]
