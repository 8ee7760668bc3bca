"""DOCX extraction speed: MB of document XML per second, next to python-docx on the same
file (the path extraction took before; the target is >= 2 MB/s).

    python -m bench.extraction_bench                  # ~10 MB of document XML
    python -m bench.extraction_bench --sections 300   # ~2 MB, a few seconds

The document is synthetic (tests/doc_samples.large_docx): per section a Heading 1, ten
two-run paragraphs with run properties and a three-row table. The python-docx reference
is run only up to --reference-mb of XML (its cost grows faster than the size) and can be
skipped with --no-reference.
"""

from __future__ import annotations

import argparse
import io
import time
import zipfile
from collections.abc import Callable

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from core.documents.extraction import clean, docx_blocks
from tests.doc_samples import large_docx

QUICK_ARGS = ["--sections", "300", "--reference-mb", "1"]


def xml_megabytes(data: bytes) -> float:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.getinfo("word/document.xml").file_size / 1e6


def python_docx_texts(data: bytes) -> int:
    """The previous extraction: python-docx's object model, each paragraph's style
    resolved. Returns how many blocks it found."""
    found = 0
    for item in docx.Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(item, Paragraph):
            style = (item.style.name if item.style is not None else "") or ""
            heading = style.startswith("Heading") or style == "Title"
            found += bool(clean(item.text)) and not heading
        elif isinstance(item, Table):
            found += sum(1 for row in item.rows if any(clean(c.text) for c in row.cells))
    return found


def timed(label: str, megabytes: float, work: Callable[[], int]) -> float:
    started = time.perf_counter()
    blocks = work()
    seconds = time.perf_counter() - started
    rate = megabytes / seconds
    print(
        f"{label:<28} {megabytes:6.2f} MB XML  {seconds:7.2f} s  {rate:6.2f} MB/s  {blocks} blocks"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=1400, help="about 7.4 KB of XML each")
    parser.add_argument("--reference-mb", type=float, default=2.0)
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()

    data = large_docx(args.sections)
    megabytes = xml_megabytes(data)
    print(f"DOCX of {len(data) / 1e6:.2f} MB, {megabytes:.2f} MB of document XML")
    rate = timed("streaming (extraction)", megabytes, lambda: len(docx_blocks(data, "b.docx")))
    print(f"target >= 2 MB/s: {'met' if rate >= 2 else 'NOT met'}")
    if args.no_reference:
        return
    sections = min(args.sections, max(1, int(args.reference_mb * 1e6 / 7400)))
    reference = data if sections == args.sections else large_docx(sections)
    reference_mb = xml_megabytes(reference)
    timed("streaming, same file as ref", reference_mb, lambda: len(docx_blocks(reference, "r")))
    timed("python-docx (reference)", reference_mb, lambda: python_docx_texts(reference))


if __name__ == "__main__":
    main()
