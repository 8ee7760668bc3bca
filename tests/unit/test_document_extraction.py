import pytest

from core.documents.chunking import chunk_blocks
from core.documents.extraction import (
    DOCX,
    MD,
    PDF,
    TXT,
    Block,
    ExtractionError,
    PdfPages,
    check_text_layer,
    clean,
    decode_text,
    docx_blocks,
    sniff,
    text_blocks,
)
from core.documents.summary import ExtractiveSummarizer, key_concepts
from tests import doc_samples


def test_kind_is_sniffed_from_content_not_name() -> None:
    assert sniff(doc_samples.pdf(["hello"]), "notes.txt") == PDF
    assert sniff(doc_samples.docx([("H", ["p"])]), "notes.pdf") == DOCX
    assert sniff(b"# Title\n\ntext", "notes.md") == MD
    assert sniff(b"plain words", "notes.pdf") == TXT


def test_an_executable_renamed_pdf_is_refused() -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(range(256)) * 4
    with pytest.raises(ExtractionError, match="not a PDF, Word"):
        sniff(exe, "lecture.pdf")


def test_empty_file_and_foreign_zip_are_refused() -> None:
    with pytest.raises(ExtractionError, match="empty"):
        sniff(b"", "x.pdf")
    with pytest.raises(ExtractionError, match="zip archive but not a Word"):
        sniff(b"PK\x03\x04garbage", "x.docx")


def test_non_utf8_text_is_decoded_as_windows_1252() -> None:
    assert decode_text("café déjà vu".encode("cp1252")) == "café déjà vu"
    assert decode_text("naïve".encode("utf-16")) == "naïve"
    assert decode_text("\ufeffbom text".encode()) == "bom text"


def test_markdown_headings_name_sections() -> None:
    blocks = text_blocks(
        "intro line\n\n# Cells\nline one\nline two\n\n## ATP\nenergy", markdown=True
    )
    assert blocks == [
        Block("intro line"),
        Block("line one line two", None, "Cells"),
        Block("energy", None, "ATP"),
    ]


def test_pdf_pages_keep_their_numbers() -> None:
    pages = PdfPages(doc_samples.pdf(["first page words", "second page words"]), "a.pdf", 10)
    assert pages.count == 2
    assert pages.page_blocks(1) == [Block("second page words", 2)]


def test_encrypted_corrupt_long_and_image_only_pdfs_fail_clearly() -> None:
    with pytest.raises(ExtractionError, match="password-protected"):
        PdfPages(doc_samples.encrypted_pdf("secret text"), "s.pdf", 10)
    with pytest.raises(ExtractionError, match="damaged"):
        PdfPages(b"%PDF-1.7\n" + b"\x00garbage" * 50, "c.pdf", 10)
    with pytest.raises(ExtractionError, match="has 3 pages; the limit is 2"):
        PdfPages(doc_samples.pdf(["a", "b", "c"]), "long.pdf", 2)
    scans = PdfPages(doc_samples.image_only_pdf(), "scan.pdf", 10)
    blocks = [b for i in range(scans.count) for b in scans.page_blocks(i)]
    with pytest.raises(ExtractionError, match="no text layer"):
        check_text_layer("scan.pdf", blocks, scans.count)


def test_docx_headings_become_sections() -> None:
    data = doc_samples.docx([("Osmosis", ["Water moves across membranes."]), ("Diffusion", ["x"])])
    assert docx_blocks(data, "b.docx") == [
        Block("Water moves across membranes.", None, "Osmosis"),
        Block("x", None, "Diffusion"),
    ]


def test_docx_zip_bomb_is_refused_before_inflating() -> None:
    with pytest.raises(ExtractionError, match="zip bomb"):
        docx_blocks(doc_samples.docx_zip_bomb(), "bomb.docx")


def test_chunks_never_span_pages_and_overlap_within_a_page() -> None:
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(60)]
    blocks = [Block(" ".join(sentences[:40]), 1), Block(" ".join(sentences[40:]), 2)]
    chunks = chunk_blocks(blocks, target=300, overlap=80)
    assert {c.page for c in chunks} == {1, 2}
    assert all(len(c.text) <= 300 for c in chunks)
    page1 = [c for c in chunks if c.page == 1]
    assert page1[0].text.split(". ")[-1] in page1[1].text  # overlap carries the last sentence
    assert "Sentence number 40 " not in " ".join(c.text for c in page1)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_a_sentence_longer_than_a_chunk_is_cut() -> None:
    chunks = chunk_blocks([Block("word " * 500)], target=200, overlap=0)
    assert len(chunks) > 5 and all(len(c.text) <= 200 for c in chunks)


def test_extractive_summary_picks_central_sentences_and_concepts() -> None:
    text = (
        "Photosynthesis converts light energy into chemical energy in plants. "
        "The weather was nice on the day of the lecture. "
        "Chlorophyll absorbs light energy for photosynthesis in the chloroplast. "
        "Photosynthesis produces glucose and oxygen from light energy and water. "
    )
    summary = ExtractiveSummarizer(sentences_wanted=2).summary(text)
    assert "weather" not in summary and "Photosynthesis" in summary
    assert "light energy" in key_concepts(text)


def test_a_word_hyphenated_across_lines_is_joined_in_text_files() -> None:
    text = "Plants make sugar by photo-\nsynthesis in the Anglo-\nSaxon way since COVID-\n19."
    assert text_blocks(text, markdown=False) == [
        Block("Plants make sugar by photosynthesis in the Anglo-Saxon way since COVID-19.")
    ]


def test_a_word_hyphenated_across_lines_is_joined_in_pdfs() -> None:
    assert clean("the mito-\n  chondria and a well- known fact") == (
        "the mitochondria and a well- known fact"
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_text_is_read_with_or_without_a_byte_order_mark(encoding: str) -> None:
    text = "Résumé of lecture 3\n\nÉnergie: the cell's ATP, café.\n"
    data = text.encode(encoding)
    assert sniff(data, "notes.txt") == TXT
    assert sniff(data, "notes.md") == MD
    assert decode_text(data) == text


def test_bytes_windows_1252_leaves_undefined_fall_back_to_latin_1() -> None:
    # 0x81 has no character in Windows-1252; Latin-1 maps every byte.
    data = "Ångström".encode("latin-1") + b" \x81 " + "naïve".encode("latin-1")
    assert decode_text(data) == "Ångström \x81 naïve"
    assert decode_text("“smart” quotes €".encode("cp1252")) == "“smart” quotes €"


def test_binary_with_many_zero_bytes_is_still_not_text() -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" * 64
    with pytest.raises(ExtractionError, match="not a PDF, Word"):
        sniff(exe, "notes.txt")


def test_a_pdf_past_its_time_limit_stops_before_the_next_page() -> None:
    data = doc_samples.pdf(["first page words", "second page words"])
    pages = PdfPages(data, "slow.pdf", 10, seconds=0.0)
    with pytest.raises(ExtractionError, match=r"slow\.pdf took too long to read \(over 0 s"):
        pages.page_blocks(0)
    assert PdfPages(data, "slow.pdf", 10, seconds=60).page_blocks(1) == [
        Block("second page words", 2)
    ]
