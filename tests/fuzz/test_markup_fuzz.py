"""The chat markup subset: any text parses, escaping round-trips, splitting loses nothing."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from core.chat.markup import Span, escape, spans, split_text, to_plain

# Text biased towards the characters the markup gives meaning to.
MARKUP_CHARS = st.sampled_from([*"*_`[]()\\ \n-#", "**", "https://x.io/a", "\n\n", "\t"])
markupish = st.lists(st.one_of(MARKUP_CHARS, st.text(max_size=6)), max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=200), markupish)


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_any_text_parses_into_spans_and_plain_text(text: str) -> None:
    parsed = spans(text)
    assert all(isinstance(s, Span) for s in parsed)
    assert all(s.text or s.kind == "link" for s in parsed)
    assert isinstance(to_plain(text), str)


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_escaped_user_text_shows_exactly_as_typed(text: str) -> None:
    assert to_plain(escape(text)) == text
    assert spans(escape(text)) == ([Span("text", text)] if text else [])


@settings(max_examples=200, deadline=None)
@given(any_text, any_text)
def test_escaped_text_inside_bold_stays_one_bold_span(before: str, inner: str) -> None:
    if not inner:
        return
    parsed = spans(f"{escape(before)}**{escape(inner)}**")
    assert parsed[-1] == Span("bold", inner)
    assert "".join(s.text for s in parsed[:-1]) == before


def _visible(text: str) -> str:
    return re.sub(r"\s+", "", text)


@settings(max_examples=200, deadline=None)
@given(st.one_of(any_text, st.text(min_size=100, max_size=3000)), st.integers(1, 300))
def test_split_text_respects_the_limit_and_loses_no_text(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    # Only whitespace at the cut points may go; everything else comes out in order.
    assert _visible("".join(pieces)) == _visible(text)
    if text.strip():
        assert all(p.strip() for p in pieces), "a piece with nothing to show"
