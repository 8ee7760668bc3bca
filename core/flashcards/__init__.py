"""Flashcards: decks, basic and cloze notes, per-user FSRS schedules, reviews in chat,
CSV/TSV and Anki .apkg import and export, due reminders."""
