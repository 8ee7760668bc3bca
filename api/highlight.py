"""The part of a passage around what was searched for, with the matching words marked."""

from __future__ import annotations

import re

WINDOW = 280
# Keyword search matches stems ("mitochondria" finds "mitochondrial"): mark words that
# start like a query word, without its last letters.
MIN_STEM = 4


def _pattern(query: str) -> re.Pattern[str] | None:
    words = {w for w in re.findall(r"\w+", query.lower()) if len(w) > 1}
    if not words:
        return None
    stems = sorted({w if len(w) <= MIN_STEM else w[: max(MIN_STEM, len(w) - 3)] for w in words})
    return re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + r")\w*", re.IGNORECASE)


def excerpt(text: str, query: str, width: int = WINDOW) -> list[tuple[str, bool]]:
    """About `width` characters of `text` centred on the first match, as (piece, is_match)
    pieces; the start of the text when nothing matches literally."""
    pattern = _pattern(query)
    first = pattern.search(text) if pattern else None
    start = 0
    if first is not None and len(text) > width:
        start = max(0, min(first.start() - width // 3, len(text) - width))
        if start > 0:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first.start() else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start and (first is None or space >= first.end()) else end
    window = text[start:end]
    prefix, suffix = ("…" if start > 0 else ""), ("…" if end < len(text) else "")
    pieces: list[tuple[str, bool]] = [(prefix, False)] if prefix else []
    position = 0
    for match in pattern.finditer(window) if pattern else ():
        if match.start() > position:
            pieces.append((window[position : match.start()], False))
        pieces.append((match.group(0), True))
        position = match.end()
    pieces.append((window[position:] + suffix, False))
    return [piece for piece in pieces if piece[0]]
