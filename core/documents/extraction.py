"""Recognise a file by its content and extract its text as blocks with page or section.

Every problem with the file itself raises `ExtractionError` with a message for the
student; nothing here trusts the file name except to tell Markdown from plain text."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

PDF = "pdf"
DOCX = "docx"
TXT = "txt"
MD = "md"

# A DOCX whose parts inflate beyond this, or by a larger ratio, is refused (zip bomb).
MAX_DOCX_INFLATED = 200 * 1024 * 1024
MAX_DOCX_RATIO = 200
# Fewer extracted characters per page than this means there is no usable text layer.
MIN_CHARS_PER_PAGE = 20


class ExtractionError(Exception):
    """The file cannot be read; `message` says why, for the student."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Block:
    """A paragraph (or heading-free run of text) with where it came from."""

    text: str
    page: int | None = None
    section: str | None = None


def sniff(data: bytes, name: str) -> str:
    """The kind of file these bytes are: pdf, docx, md or txt."""
    if not data:
        raise ExtractionError(f"{name} is empty (0 bytes).")
    if b"%PDF-" in data[:1024]:
        return PDF
    if data.startswith(b"PK\x03\x04"):
        if _is_docx(data):
            return DOCX
        raise ExtractionError(
            f"{name} is a zip archive but not a Word document. I read PDF, DOCX, TXT and MD."
        )
    if _looks_like_text(data[:8192]):
        lowered = name.lower()
        return MD if lowered.endswith((".md", ".markdown")) else TXT
    raise ExtractionError(
        f"{name} is not a PDF, Word (DOCX) or text file, whatever its name says. "
        "I read PDF, DOCX, TXT and MD."
    )


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "word/document.xml" in names and "[Content_Types].xml" in names


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 with a byte order mark
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls <= len(head) // 100


def decode_text(data: bytes) -> str:
    """Text in UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/Latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # A truncated last code unit must not sink the whole file.
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# Text ------------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def text_blocks(text: str, *, markdown: bool) -> list[Block]:
    """Paragraphs split at blank lines; in Markdown, `#` headings name the section."""
    blocks: list[Block] = []
    section: str | None = None
    lines: list[str] = []

    def flush() -> None:
        joined = clean(" ".join(lines))
        if joined:
            blocks.append(Block(joined, None, section))
        lines.clear()

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        heading = _HEADING.match(raw) if markdown else None
        if heading is not None:
            flush()
            section = clean(heading.group(2))[:300] or None
        elif not raw.strip():
            flush()
        else:
            lines.append(raw.strip())
    flush()
    return blocks


def clean(text: str) -> str:
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)  # words hyphenated across lines
    text = text.replace("\x00", "")
    return re.sub(r"\s+", " ", text).strip()


# PDF -------------------------------------------------------------------------------------


class PdfPages:
    """A PDF opened for page-by-page extraction (bounded work per step)."""

    def __init__(self, data: bytes, name: str, max_pages: int) -> None:
        from pypdf import PdfReader

        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise ExtractionError(
                    f"{name} is password-protected. Remove the password and send it again."
                )
            count = len(reader.pages)
        except ExtractionError:
            raise
        except Exception as err:  # pypdf raises many kinds on hostile files (found by fuzzing)
            raise _damaged(name) from err
        if count == 0:
            raise ExtractionError(f"{name} has no pages.")
        if count > max_pages:
            raise ExtractionError(
                f"{name} has {count} pages; the limit is {max_pages}. "
                "Split it into parts and send them one by one."
            )
        self.name = name
        self.count = count
        self._reader = reader

    def page_blocks(self, index: int) -> list[Block]:
        """The paragraphs of page `index` (0-based); pages are numbered from 1."""
        try:
            raw = self._reader.pages[index].extract_text() or ""
        except Exception as err:  # as above: IndexError, NotImplementedError, RecursionError...
            raise _damaged(self.name) from err
        paragraphs = re.split(r"\n\s*\n", raw)
        blocks = [Block(clean(p), index + 1) for p in paragraphs]
        return [b for b in blocks if b.text]


def _damaged(name: str) -> ExtractionError:
    return ExtractionError(f"{name} looks damaged: I could not read it as a PDF.")


def check_text_layer(name: str, blocks: list[Block], pages: int) -> None:
    chars = sum(len(b.text) for b in blocks)
    if chars < MIN_CHARS_PER_PAGE * max(1, pages) // 2:
        raise ExtractionError(
            f"{name} has no text layer (it looks like scanned images). "
            "I can't read scans yet: export it with text, or run OCR on it first."
        )


# DOCX ------------------------------------------------------------------------------------


def docx_blocks(data: bytes, name: str) -> list[Block]:
    """Paragraphs and table rows in document order; Heading/Title styles name sections."""
    _refuse_zip_bomb(data, name)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        items = list(document.iter_inner_content())
    except Exception as err:  # python-docx raises many kinds (KeyError, lxml errors...)
        raise ExtractionError(f"{name} looks damaged: I could not read it as a DOCX.") from err
    blocks: list[Block] = []
    section: str | None = None
    for item in items:
        if isinstance(item, Paragraph):
            text = clean(item.text)
            style = (item.style.name if item.style is not None else "") or ""
            if text and (style.startswith("Heading") or style == "Title"):
                section = text[:300]
            elif text:
                blocks.append(Block(text, None, section))
        elif isinstance(item, Table):
            blocks.extend(Block(row, None, section) for row in _table_rows(item))
    return blocks


def _table_rows(table: object) -> Iterator[str]:
    for row in getattr(table, "rows", []):
        cells = [clean(cell.text) for cell in row.cells]
        text = " | ".join(c for c in cells if c)
        if text:
            yield text


def _refuse_zip_bomb(data: bytes, name: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as err:
        raise ExtractionError(f"{name} looks damaged: I could not read it as a DOCX.") from err
    total = sum(info.file_size for info in infos)
    worst = max((info.file_size / max(info.compress_size, 1) for info in infos), default=0)
    if total > MAX_DOCX_INFLATED or worst > MAX_DOCX_RATIO:
        raise ExtractionError(
            f"{name} expands to far more data than a document holds (a zip bomb?); I won't open it."
        )
