"""Telegram rendering: every message is HTML Telegram accepts (only its tags, balanced,
entities escaped), never empty, and within the 4,096-character limit."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.telegram.render import MAX_TEXT, TextMessage, render, to_html
from core.chat.messages import Reply, Text

ALLOWED = {"b", "i", "code", "a"}
BITS = st.sampled_from(["**", "_", "`", "[l](https://e.org/x?a=1&b=<2>)", "<", ">", "&", "\\",
                        "- ", "\n", "\n\n", " ", "<b>", "&amp;", '"', "\t"])  # fmt: skip
markupish = st.lists(st.one_of(BITS, st.text(max_size=8)), max_size=50).map("".join)


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED, tag
        assert not self.stack or tag != self.stack[-1], "nested tag of the same kind"
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def check_html(text: str) -> str:
    # Telegram's parser rejects a bare "<" or an unknown entity; only &lt; &gt; &amp; &quot;.
    assert not re.search(r"&(?!(lt|gt|amp|quot);)", text), text
    assert "<" not in re.sub(r"</?(b|i|code)>|<a href=\"[^\"<>]*\">|</a>", "", text), text
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert not checker.stack, f"unclosed {checker.stack}"
    return "".join(checker.visible)


@settings(max_examples=200, deadline=None)
@given(markupish)
def test_any_markup_renders_to_balanced_telegram_html(text: str) -> None:
    visible = check_html(to_html(text))
    assert html.unescape(visible) == visible or "&" in visible


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(markupish, st.text(min_size=500, max_size=5000)), max_size=4))
def test_long_replies_split_into_acceptable_messages(texts: list[str]) -> None:
    reply = Reply(tuple(Text(t) for t in texts))
    for message in render(reply):
        assert isinstance(message, TextMessage)
        visible = check_html(message.html)
        assert len(visible) <= MAX_TEXT
        assert visible.strip() or message.html == "⬇️", "Telegram rejects an empty message"


def test_markup_that_shows_nothing_sends_no_message() -> None:
    # Found by the test above: bold around the blank line between two parts.
    assert render(Reply((Text("**"), Text("**")))) == []
    shown = render(Reply((Text("**"), Text("**"), Text("hi"))))
    assert len(shown) == 1 and isinstance(shown[0], TextMessage)
    assert check_html(shown[0].html).strip() == "hi"
