"""Document extraction on random and damaged files: blocks of text or ExtractionError,
never another exception and never a hang (each file well inside the task time limit)."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from core.documents import extraction as ex
from tests.doc_samples import docx, pdf
from tests.fuzz._mutate import mutated

PDF = pdf(["Photosynthesis turns light into chemical energy in the chloroplasts. " * 4] * 2)
DOCX = docx([("Cells", ["The mitochondrion is the powerhouse of the cell. " * 3])])
SECONDS_PER_FILE = 10.0  # far below the ingestion job's time limit


def extract(data: bytes, name: str) -> list[ex.Block]:
    """The ingestion job's extraction path, synchronously."""
    kind = ex.sniff(data, name)
    if kind == ex.PDF:
        pages = ex.PdfPages(data, name, max_pages=50)
        blocks = [b for i in range(pages.count) for b in pages.page_blocks(i)]
        ex.check_text_layer(name, blocks, pages.count)
        return blocks
    if kind == ex.DOCX:
        return ex.docx_blocks(data, name)
    return ex.text_blocks(ex.decode_text(data), markdown=kind == ex.MD)


def check(data: bytes, name: str) -> None:
    started = time.monotonic()
    try:
        blocks = extract(data, name)
    except ex.ExtractionError as err:
        assert err.message
    else:
        assert all(isinstance(b, ex.Block) and b.text for b in blocks)
    assert time.monotonic() - started < SECONDS_PER_FILE


def test_the_unmutated_samples_extract() -> None:
    assert "chloroplasts" in " ".join(b.text for b in extract(PDF, "bio.pdf"))
    assert "powerhouse" in " ".join(b.text for b in extract(DOCX, "cells.docx"))


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=600),
        st.binary(max_size=200).map(lambda b: b"%PDF-1.7\n" + b),
        st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
        st.binary(max_size=200).map(lambda b: b"\xff\xfe" + b),
    ),
    st.sampled_from(["notes.txt", "notes.md", "paper.pdf", "essay.docx", "x"]),
)
def test_random_bytes_give_text_or_extraction_error(data: bytes, name: str) -> None:
    check(data, name)


@settings(max_examples=60, deadline=None)
@given(mutated(PDF))
def test_damaged_pdfs_give_text_or_extraction_error(data: bytes) -> None:
    check(data, "paper.pdf")


@settings(max_examples=60, deadline=None)
@given(mutated(DOCX))
def test_damaged_word_files_give_text_or_extraction_error(data: bytes) -> None:
    check(data, "essay.docx")
