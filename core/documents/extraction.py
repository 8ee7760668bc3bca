"""Recognise a file by its content and extract its text as blocks with page or section.

Every problem with the file itself raises `ExtractionError` with a message for the
student; nothing here trusts the file name except to tell Markdown from plain text."""

from __future__ import annotations

import io
import re
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from core import archives
from core.documents import docx_text

PDF = "pdf"
DOCX = "docx"
TXT = "txt"
MD = "md"

# A DOCX whose parts inflate beyond this, or by a larger ratio, is refused (zip bomb).
MAX_DOCX_INFLATED = 200 * 1024 * 1024
MAX_DOCX_RATIO = 200
# A DOCX still being read after this long is given up, with a message (at the ≥ 2 MB of
# document XML a second the reader manages, that is far past any real document).
MAX_DOCX_SECONDS = 60.0
# A PDF is read page by page; past this, the next page is not started.
MAX_PDF_SECONDS = 300.0
_SPLIT_IT = "Split it into smaller files"
DOCX_DOCUMENT = "word/document.xml"
DOCX_STYLES = "word/styles.xml"
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


class _Deadline:
    """A per-file time limit, checked as the work goes; past it, a message for the student."""

    def __init__(self, name: str, seconds: float, advice: str) -> None:
        self.name = name
        self.seconds = seconds
        self.advice = advice
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise ExtractionError(
                f"{self.name} took too long to read (over {self.seconds:g} seconds), so I "
                f"stopped. {self.advice}"
            )


def sniff(data: bytes, name: str) -> str:
    """The kind of file these bytes are: pdf, docx, md or txt."""
    if not data:
        raise ExtractionError(f"{name} is empty (0 bytes).")
    if b"%PDF-" in data[:1024]:
        return PDF
    if data.startswith(b"PK\x03\x04"):
        _refuse_long_directory(data, name)
        if _is_docx(data):
            return DOCX
        raise ExtractionError(
            f"{name} is a zip archive but not a Word document. I read PDF, DOCX, TXT and MD."
        )
    if _looks_like_text(data[:8192]) or _utf16_without_bom(data[:8192]) is not None:
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


def _utf16_without_bom(head: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" for UTF-16 written without a byte order mark, told by
    the zero high bytes of Latin-script text (one in every pair, always the same one),
    when the decoded text has no more control characters than text does."""
    pairs = len(head) // 2
    if pairs < 4:
        return None
    even_zeros, odd_zeros = head[0 : 2 * pairs : 2].count(0), head[1 : 2 * pairs : 2].count(0)
    if odd_zeros >= 0.9 * pairs and even_zeros <= 0.02 * pairs:
        encoding = "utf-16-le"
    elif even_zeros >= 0.9 * pairs and odd_zeros <= 0.02 * pairs:
        encoding = "utf-16-be"
    else:
        return None
    text = head[: 2 * pairs].decode(encoding, errors="replace")
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\f\r")
    return encoding if controls <= len(text) // 100 else None


def decode_text(data: bytes) -> str:
    """Text in UTF-8 (with or without BOM), UTF-16 (with BOM, or without one when it is
    recognisable), else Windows-1252, else Latin-1 (which maps every byte)."""
    # A truncated last code unit must not sink the whole file: errors="replace".
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if (bomless := _utf16_without_bom(data[:8192])) is not None:
        return data.decode(bomless, errors="replace")
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
        joined = clean("\n".join(lines))
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


_LINE_END_HYPHEN = re.compile(r"(\w)-[^\S\n]*\n\s*(\w)")


def clean(text: str) -> str:
    """One line of text: a word hyphenated across lines joined again, whitespace runs
    made one space, NUL bytes dropped."""
    text = _LINE_END_HYPHEN.sub(_join_hyphenated, text)
    text = text.replace("\x00", "")
    return re.sub(r"\s+", " ", text).strip()


def _join_hyphenated(match: re.Match[str]) -> str:
    # "photo-/synthesis" was one word broken by the layout; "Anglo-/Saxon" and
    # "COVID-/19" keep their hyphen.
    first, second = match.group(1), match.group(2)
    return f"{first}{second}" if second.islower() else f"{first}-{second}"


# PDF -------------------------------------------------------------------------------------


class PdfPages:
    """A PDF opened for page-by-page extraction (bounded work per step). The time limit
    (`seconds`, default MAX_PDF_SECONDS) runs from opening and is checked before each
    page; pypdf offers no way to stop inside a page."""

    def __init__(
        self, data: bytes, name: str, max_pages: int, *, seconds: float | None = None
    ) -> None:
        from pypdf import PdfReader

        limit = MAX_PDF_SECONDS if seconds is None else seconds
        self._deadline = _Deadline(name, limit, f"{_SPLIT_IT} and send them one by one.")
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

    def page_images(self, index: int) -> list[bytes]:
        """The pictures drawn on page `index` (a scan's page is one), for OCR."""
        self._deadline.check()
        try:
            return [image.data for image in self._reader.pages[index].images]
        except Exception as err:  # as in page_blocks: a damaged page
            raise _damaged(self.name) from err

    def page_blocks(self, index: int) -> list[Block]:
        """The paragraphs of page `index` (0-based); pages are numbered from 1."""
        self._deadline.check()
        try:
            raw = self._reader.pages[index].extract_text() or ""
        except Exception as err:  # as above: IndexError, NotImplementedError, RecursionError...
            raise _damaged(self.name) from err
        paragraphs = re.split(r"\n\s*\n", raw)
        blocks = [Block(clean(p), index + 1) for p in paragraphs]
        return [b for b in blocks if b.text]


def _damaged(name: str) -> ExtractionError:
    return ExtractionError(f"{name} looks damaged: I could not read it as a PDF.")


def has_text_layer(blocks: list[Block], pages: int) -> bool:
    chars = sum(len(b.text) for b in blocks)
    return chars >= MIN_CHARS_PER_PAGE * max(1, pages) // 2


def check_text_layer(name: str, blocks: list[Block], pages: int) -> None:
    if not has_text_layer(blocks, pages):
        raise ExtractionError(
            f"{name} has no text layer (it looks like scanned images), and no text could "
            "be recognised in its pages. Export it with text, or send a sharper scan."
        )


# DOCX ------------------------------------------------------------------------------------


def docx_blocks(data: bytes, name: str, *, seconds: float | None = None) -> list[Block]:
    """Paragraphs and table rows in document order; Heading/Title styles name sections.
    Past `seconds` (default MAX_DOCX_SECONDS) it stops with a message for the student."""
    from lxml import etree  # here: only a .docx needs lxml, and it is slow to import

    limit = MAX_DOCX_SECONDS if seconds is None else seconds
    deadline = _Deadline(name, limit, f"{_SPLIT_IT}, or save it as PDF, and send it again.")
    _refuse_long_directory(data, name)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _refuse_zip_bomb(archive, name)
            styles = _style_names(archive, deadline)
            with archive.open(DOCX_DOCUMENT) as stream:
                return _docx_blocks(docx_text.body_items(stream, deadline.check), styles)
    except ExtractionError:
        raise
    # What a damaged zip or XML raises, found by fuzzing: lxml's errors, zlib's, KeyError
    # for a missing part, NotImplementedError for an unknown compression method...
    except (
        zipfile.BadZipFile,
        KeyError,
        etree.LxmlError,
        zlib.error,
        ValueError,
        EOFError,
        OSError,
        NotImplementedError,
        RecursionError,
    ) as err:
        raise _damaged_docx(name) from err


def _style_names(archive: zipfile.ZipFile, deadline: _Deadline) -> dict[str, str] | None:
    """Style ids and names, or None when the document has no styles part."""
    if DOCX_STYLES not in archive.namelist():
        return None
    with archive.open(DOCX_STYLES) as stream:
        return docx_text.heading_styles(stream, deadline.check)


def _is_heading(style_id: str | None, styles: dict[str, str] | None) -> bool:
    if not style_id:
        return False
    # Word stores built-in names in English ("heading 1", "Title") whatever the UI language.
    name = (style_id if styles is None else styles.get(style_id, "")).lower()
    return name.startswith("heading") or name == "title"


def _docx_blocks(
    items: Iterator[docx_text.Paragraph | docx_text.Row], styles: dict[str, str] | None
) -> list[Block]:
    blocks: list[Block] = []
    section: str | None = None
    for item in items:
        if isinstance(item, docx_text.Row):
            cells = [clean(cell) for cell in item.cells]
            text = " | ".join(c for c in cells if c)
            if text:
                blocks.append(Block(text, None, section))
            continue
        text = clean(item.text)
        if text and _is_heading(item.style, styles):
            section = text[:300]
        elif text:
            blocks.append(Block(text, None, section))
    return blocks


def _damaged_docx(name: str) -> ExtractionError:
    return ExtractionError(f"{name} looks damaged: I could not read it as a DOCX.")


def _refuse_long_directory(data: bytes, name: str) -> None:
    if archives.too_many_entries(data):
        raise ExtractionError(
            f"{name} lists far more parts than a document has (a zip bomb?); I won't open it."
        )


def _refuse_zip_bomb(archive: zipfile.ZipFile, name: str) -> None:
    """Each part's announced size bounds what it inflates to (zipfile stops there), so the
    announced sizes are checked before anything is inflated."""
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    worst = max((info.file_size / max(info.compress_size, 1) for info in infos), default=0)
    if total > MAX_DOCX_INFLATED or worst > MAX_DOCX_RATIO:
        raise ExtractionError(
            f"{name} expands to far more data than a document holds (a zip bomb?); I won't open it."
        )
