"""A zip's central directory is measured from its end record, before zipfile parses it."""

from __future__ import annotations

import io
import zipfile

import pytest

from core import archives
from core.documents.extraction import ExtractionError, docx_blocks, sniff
from core.errors import BadInput
from core.flashcards.importing import parse_apkg
from tests.anki_samples import zip_of_empty_entries


def directory_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(46 + len(i.filename.encode()) + len(i.extra) for i in archive.infolist())


def test_the_directory_size_is_read_from_the_end_record() -> None:
    data = zip_of_empty_entries(1000)
    assert archives.central_directory_bytes(data) == directory_size(data)
    assert archives.central_directory_bytes(b"not a zip") is None


def test_a_zip64_directory_is_measured_from_its_zip64_record() -> None:
    data = zip_of_empty_entries(70_000)  # over 65,535 entries: zipfile writes zip64 records
    assert archives.central_directory_bytes(data) == directory_size(data)


@pytest.fixture(scope="module")
def crowded() -> bytes:
    """A DOCX-shaped zip (and an Anki package) whose file list is over the limit."""
    entries = archives.MAX_CENTRAL_DIRECTORY_BYTES // 50
    members = ("[Content_Types].xml", "word/document.xml", "collection.anki2")
    data = zip_of_empty_entries(entries, members)
    assert archives.too_many_entries(data)
    return data


def test_a_document_listing_too_many_parts_is_refused_unopened(crowded: bytes) -> None:
    with pytest.raises(ExtractionError, match="lists far more parts than a document has"):
        sniff(crowded, "many.docx")
    with pytest.raises(ExtractionError, match="lists far more parts"):
        docx_blocks(crowded, "many.docx")


def test_an_anki_package_listing_too_many_files_is_refused_unopened(crowded: bytes) -> None:
    with pytest.raises(BadInput, match="lists far more files than a deck has"):
        parse_apkg(crowded)
