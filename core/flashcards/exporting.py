"""Write a deck as CSV (with Anki's text-import header lines) or as an Anki .apkg made
with genanki."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import os
import tempfile
from collections.abc import Sequence

from core.chat.markup import Style, render
from core.flashcards.service import DeckNote

CSV_HEADER = "#separator:comma\n#html:false\n#columns:Front,Back,Tags,Kind\n#tags column:3\n"


def deck_csv(notes: Sequence[DeckNote]) -> bytes:
    """UTF-8 CSV: front, back, tags, kind (basic, reverse or cloze); the `#` lines tell
    Anki's importer the separator and the tags column, and ours reads them too."""
    out = io.StringIO()
    out.write(CSV_HEADER)
    writer = csv.writer(out, lineterminator="\n")
    for note in notes:
        writer.writerow([note.front, note.back, note.tags, note.kind])
    return out.getvalue().encode("utf-8")


def deck_apkg(deck_name: str, deck_key: int, notes: Sequence[DeckNote]) -> bytes:
    """An Anki package with genanki's stock Basic, Basic (and reversed card) and Cloze note
    types. `deck_key` keeps the Anki deck id stable across exports of the same deck."""
    import genanki  # here: it imports YAML and more, which no other command needs

    deck = genanki.Deck(_stable_id(f"study-teddy-deck:{deck_key}"), deck_name)
    models = {
        "basic": genanki.BASIC_MODEL,
        "reverse": genanki.BASIC_AND_REVERSED_CARD_MODEL,
        "cloze": genanki.CLOZE_MODEL,
    }
    for note in notes:
        fields = [markup_to_html(note.front), markup_to_html(note.back)]
        deck.add_note(
            genanki.Note(
                model=models[note.kind],
                fields=fields,
                tags=[t for t in note.tags.split() if t],
                guid=genanki.guid_for(note.kind, note.front, note.back),
            )
        )
    fd, path = tempfile.mkstemp(suffix=".apkg")
    os.close(fd)
    try:
        genanki.Package(deck).write_to_file(path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


ANKI_HTML = Style(
    escape=lambda text: html.escape(text, quote=False).replace("\n", "<br>"),
    bold="<b>{}</b>",
    italic="<i>{}</i>",
    code="<code>{}</code>",
    link='<a href="{url}">{text}</a>',
    escape_url=html.escape,
)


def markup_to_html(text: str) -> str:
    """Chat markdown subset -> the HTML Anki shows."""
    return render(text, ANKI_HTML)


def _stable_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") | (1 << 30)
