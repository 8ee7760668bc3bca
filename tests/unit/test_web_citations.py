"""The answer's citations as links, and the server-sent event format."""

from __future__ import annotations

import json

from api.ask_pages import cite_links
from api.streaming import event


def test_citations_become_links_only_to_passages_that_exist_and_text_stays_escaped() -> None:
    html = str(cite_links("<b>ATP</b> is made in the matrix [2], not [3] or [0].", 2))
    assert html.startswith("&lt;b&gt;ATP&lt;/b&gt; is made")
    assert '<a class="cite" href="#source-2" data-source="2">[2]</a>' in html
    assert "not [3] or [0]." in html


def test_an_event_keeps_its_data_on_one_line_whatever_the_text_holds() -> None:
    sent = event("delta", "two\n\nlines")
    kind, data, blank, end = sent.split("\n")
    assert kind == "event: delta" and blank == end == ""
    assert json.loads(data.removeprefix("data: ")) == "two\n\nlines"
