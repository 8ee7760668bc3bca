"""The text of a Word document's body, read as a stream of XML events.

python-docx builds the whole tree and resolves each paragraph's style by searching the
styles part, which made a 10 MB document take minutes. Here `word/document.xml` is read
once with lxml's iterparse, only the elements that carry text or structure raise events,
finished elements are dropped as we go (memory stays flat), and heading styles come from
one pass over `word/styles.xml`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

_NAMESPACES = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",  # Strict Open XML
)
_MARKUP_COMPATIBILITY = "http://schemas.openxmlformats.org/markup-compatibility/2006"

# What a run's pieces stand for in text (python-docx reads them the same way).
_PIECES = {"t": None, "tab": "\t", "ptab": "\t", "br": "\n", "cr": "\n", "noBreakHyphen": "-"}
# Subtrees whose text is not the document's: Word's fallback copy of a text box (the
# same text again), deleted and moved-away revisions.
_SKIPPED = ("del", "moveFrom")
_STRUCTURE = ("p", "tc", "tr", "pStyle")


def _qualified(*names: str) -> dict[str, str]:
    return {f"{{{ns}}}{name}": name for ns in _NAMESPACES for name in names}


_TAGS = {
    **_qualified(*_PIECES, *_STRUCTURE, *_SKIPPED),
    f"{{{_MARKUP_COMPATIBILITY}}}Fallback": "Fallback",
}
_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,  # no entity expansion (billion laughs), no external files
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,  # libxml2's own limits on depth and text node size stay on
}


@dataclass
class Paragraph:
    text: str
    style: str | None = None


@dataclass(frozen=True)
class Row:
    cells: list[str]


@dataclass
class _Cell:
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class _Row:
    cells: list[str] = field(default_factory=list)


@dataclass
class _Paragraph:
    pieces: list[str] = field(default_factory=list)
    style: str | None = None


_Frame = _Paragraph | _Cell | _Row


def heading_styles(styles_xml: IO[bytes], tick: Callable[[], None]) -> dict[str, str]:
    """Style id -> style name for every style in `word/styles.xml`; `tick` is called at
    every style (it raises to stop)."""
    names: dict[str, str] = {}
    style_tags = tuple(f"{{{ns}}}style" for ns in _NAMESPACES)
    from lxml import etree  # here: only a .docx needs lxml, and it is slow to import

    for _, style in etree.iterparse(styles_xml, events=("end",), tag=style_tags, **_PARSER_OPTIONS):
        namespace = style.tag[: style.tag.index("}") + 1]
        style_id = _attribute(style, "styleId")
        name = style.find(namespace + "name")
        if style_id and name is not None:
            names[style_id] = _attribute(name, "val")
        tick()
        _forget(style)
    return names


def body_items(document_xml: IO[bytes], tick: Callable[[], None]) -> Iterator[Paragraph | Row]:
    """Body paragraphs (with their style id) and table rows in document order. Paragraphs
    in a table cell become the cell's lines; a nested table's rows become lines of the
    cell that holds it; a text box's paragraphs follow on their own. `tick` is called at
    every paragraph and row end and every 1,024 pieces of a paragraph (it raises to
    stop)."""
    stack: list[_Frame] = []
    skipping = 0
    from lxml import etree

    events = etree.iterparse(
        document_xml, events=("start", "end"), tag=tuple(_TAGS), **_PARSER_OPTIONS
    )
    for event, element in events:
        name = _TAGS[element.tag]
        if name in _SKIPPED or name == "Fallback":
            skipping += 1 if event == "start" else -1
            continue
        if skipping:
            continue
        if event == "start":
            if name == "p":
                stack.append(_Paragraph())
            elif name == "tc":
                stack.append(_Cell())
            elif name == "tr":
                stack.append(_Row())
            continue
        top = stack[-1] if stack else None
        if name in _PIECES:
            if isinstance(top, _Paragraph):
                piece = _PIECES[name]
                top.pieces.append(piece if piece is not None else str(element.text or ""))
                _forget_earlier_runs(element)
                if len(top.pieces) % 1024 == 0:
                    tick()  # a paragraph can be most of the document
        elif name == "pStyle":
            if isinstance(top, _Paragraph) and top.style is None:
                top.style = _attribute(element, "val")
        elif name == "p" and isinstance(top, _Paragraph):
            stack.pop()
            tick()
            text = "".join(top.pieces)
            holder = stack[-1] if stack else None
            if isinstance(holder, _Cell):
                holder.paragraphs.append(text)
            else:
                yield Paragraph(text, top.style)
            _forget(element)
        elif name == "tc" and isinstance(top, _Cell):
            stack.pop()
            if stack and isinstance(stack[-1], _Row):
                stack[-1].cells.append("\n".join(top.paragraphs))
        elif name == "tr" and isinstance(top, _Row):
            stack.pop()
            tick()
            holder = stack[-1] if stack else None
            if isinstance(holder, _Cell):
                holder.paragraphs.append(" | ".join(c for c in top.cells if c.strip()))
            else:
                yield Row(top.cells)
            _forget(element)


def _attribute(element: Any, name: str) -> str:
    """A w: attribute, in whichever of the two namespaces the element is."""
    namespace = element.tag[: element.tag.index("}") + 1]
    return str(element.get(namespace + name) or "")


def _forget_earlier_runs(piece: Any) -> None:
    """Drop the runs before this piece's run (read already): a paragraph of a million runs
    must not stay whole in memory until it ends."""
    run = piece.getparent()
    holder = run.getparent() if run is not None else None
    if holder is not None:
        while run.getprevious() is not None:
            del holder[0]


def _forget(element: Any) -> None:
    """Drop a finished element and the finished siblings before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
