"""A scanned PDF (pages that are pictures, no text layer) is read with local OCR, so it
can be searched and cited by page like any other; a scan with nothing legible says so."""

from __future__ import annotations

import io
import re

from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader
from sqlalchemy import select

from core.documents import ocr
from core.documents.models import Document
from teddy.runtime import Runtime
from tests.integration.test_tutor_grounded import cite_the_passage_with, text_of, upload
from tests.integration.tutor_fixtures import fake_llm, fake_llm_server, tutor_core
from tests.support.chat_driver import ChatDriver
from tests.support.fake_llm import FakeLLM

__all__ = ["fake_llm", "fake_llm_server", "tutor_core"]

SCANNED = [
    "Glycolysis splits glucose in the cytoplasm.",
    "The Krebs cycle runs in the mitochondrial matrix.",
]


def scanned_pdf(pages: list[str]) -> bytes:
    """Each page a picture of its text, saved by Pillow: a PDF with no text layer."""
    font = ImageFont.load_default(size=36)
    pictures = []
    for line in pages:
        picture = Image.new("RGB", (1240, 400), "white")
        ImageDraw.Draw(picture).text((60, 150), line, fill="black", font=font)
        pictures.append(picture)
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="PDF", save_all=True, append_images=pictures[1:])
    return buffer.getvalue()


def test_the_scan_made_here_really_has_no_text_layer() -> None:
    reader = PdfReader(io.BytesIO(scanned_pdf(SCANNED)))
    assert [page.extract_text().strip() for page in reader.pages] == ["", ""]
    assert ocr.available()


async def test_a_scanned_pdf_is_recognised_searched_and_cited_by_page(
    tutor_core: Runtime, fake_llm: FakeLLM, chat: ChatDriver
) -> None:
    tutor_core.services.embedder = None  # keyword retrieval: deterministic
    await upload(tutor_core, chat, "scan.pdf", scanned_pdf(SCANNED), "application/pdf")
    found = await chat.say("/search mitochondrial matrix")
    assert "scan.pdf p.2" in found, found
    fake_llm.default = cite_the_passage_with("mitochondrial matrix")
    answer = text_of(await chat.send("/ask where does the krebs cycle run?"))
    number = re.search(r"matrix \[(\d+)\]", answer)
    assert number is not None, answer
    assert f"[{number.group(1)}] scan.pdf p.2" in answer


async def test_a_scan_with_nothing_legible_says_no_text_could_be_recognised(
    tutor_core: Runtime, chat: ChatDriver
) -> None:
    blank = Image.new("RGB", (600, 400), "white")
    buffer = io.BytesIO()
    blank.save(buffer, format="PDF")
    await upload(tutor_core, chat, "blank.pdf", buffer.getvalue(), "application/pdf")
    async with tutor_core.db.transaction() as session:
        [document] = list(await session.scalars(select(Document)))
    assert document.error is not None and "no text could be recognised" in document.error
