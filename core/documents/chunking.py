"""Cut extracted blocks into overlapping passages that keep their page and section.

A chunk never spans two pages or two sections, so its citation is exact. Long paragraphs
are split at sentence ends; consecutive chunks of one page/section overlap by about
`overlap` characters (whole sentences) so a fact cut at a boundary is still found."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.documents.extraction import Block

TARGET_CHARS = 1000
OVERLAP_CHARS = 200

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class ChunkDraft:
    ordinal: int
    text: str
    page: int | None
    section: str | None


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _pieces(block: Block, target: int) -> list[str]:
    """The block as pieces of at most about `target` characters, cut at sentence ends
    (or hard-cut when one sentence is longer than that)."""
    if len(block.text) <= target:
        return [block.text]
    out: list[str] = []
    for sentence in sentences(block.text):
        while len(sentence) > target:
            cut = sentence.rfind(" ", 0, target)
            cut = cut if cut > target // 2 else target
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            out.append(sentence)
    return out


def chunk_blocks(
    blocks: Iterable[Block], *, target: int = TARGET_CHARS, overlap: int = OVERLAP_CHARS
) -> list[ChunkDraft]:
    drafts: list[ChunkDraft] = []
    current: list[str] = []
    carried_count = 0  # leading pieces of `current` repeated from the previous chunk
    size = 0
    where: tuple[int | None, str | None] | None = None

    def flush(keep_overlap: bool) -> None:
        nonlocal current, size, carried_count
        if len(current) <= carried_count or where is None:
            return
        drafts.append(ChunkDraft(len(drafts), " ".join(current), where[0], where[1]))
        carried: list[str] = []
        if keep_overlap:
            tail = 0
            for piece in reversed(current):
                if tail + len(piece) > overlap:
                    break
                carried.insert(0, piece)
                tail += len(piece) + 1
        current, size = carried, sum(len(p) + 1 for p in carried)
        carried_count = len(carried)

    for block in blocks:
        key = (block.page, block.section)
        if key != where:
            flush(keep_overlap=False)
            current, size, where, carried_count = [], 0, key, 0
        for piece in _pieces(block, target):
            if size and size + len(piece) > target:
                flush(keep_overlap=True)
                if size + len(piece) > target:
                    current, size, carried_count = [], 0, 0
            current.append(piece)
            size += len(piece) + 1
    flush(keep_overlap=False)
    return drafts
