"""Sample documents made on the fly for the document tests (PDF, DOCX, zip bombs...)."""

from __future__ import annotations

import io
import zipfile

from docx import Document as DocxDocument
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def pdf(pages: list[str]) -> bytes:
    """A PDF with one paragraph of text per page (a real text layer)."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    for text in pages:
        y = 800
        words = text.split()
        line: list[str] = []
        for word in words:
            line.append(word)
            if len(" ".join(line)) > 80:
                c.drawString(50, y, " ".join(line))
                y -= 14
                line = []
        if line:
            c.drawString(50, y, " ".join(line))
        c.showPage()
    c.save()
    return buffer.getvalue()


def image_only_pdf(pages: int = 2) -> bytes:
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    for _ in range(pages):
        c.rect(100, 100, 300, 400, fill=1)
        c.showPage()
    c.save()
    return buffer.getvalue()


def encrypted_pdf(text: str) -> bytes:
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf([text]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx(sections: list[tuple[str, list[str]]]) -> bytes:
    document = DocxDocument()
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_zip_bomb() -> bytes:
    """A DOCX-shaped zip whose document.xml inflates to 300 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(300):
                member.write(block)
    return out.getvalue()


WORD_NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
)


def docx_with_body(body: str, *, replace: dict[str, bytes | None] | None = None) -> bytes:
    """A real DOCX (python-docx's own template: styles, relationships) whose body is the
    given WordprocessingML; `replace` swaps or (None) drops other parts."""
    template = io.BytesIO()
    DocxDocument().save(template)
    document = (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f"<w:document {WORD_NS}><w:body>{body}<w:sectPr/></w:body></w:document>"
    ).encode()
    parts = {"word/document.xml": document, **(replace or {})}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for name in source.namelist():
            part = parts[name] if name in parts else source.read(name)
            if part is not None:
                target.writestr(name, part)
    return out.getvalue()


def w_paragraph(text: str, style: str | None = None) -> str:
    """A paragraph in WordprocessingML, split into two runs the way Word writes them."""
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    half = len(text) // 2
    bold, plain = '<w:rPr><w:b/><w:sz w:val="24"/></w:rPr>', '<w:rPr><w:sz w:val="24"/></w:rPr>'
    return (
        f'<w:p w:rsidR="00A1B2C3">{props}'
        f'<w:r>{bold}<w:t xml:space="preserve">{text[:half]}</w:t></w:r>'
        f'<w:r>{plain}<w:t xml:space="preserve">{text[half:]}</w:t></w:r></w:p>'
    )


def w_table(rows: list[list[str]]) -> str:
    cells = "".join(
        "<w:tr>"
        + "".join(f'<w:tc><w:tcPr><w:tcW w:w="2000"/></w:tcPr>{w_paragraph(c)}</w:tc>' for c in row)
        + "</w:tr>"
        for row in rows
    )
    return f"<w:tbl><w:tblPr/><w:tblGrid/>{cells}</w:tbl>"


def large_docx(sections: int) -> bytes:
    """A long lecture: per section a Heading 1, ten paragraphs and a three-row table;
    about 7.4 KB of document XML per section."""
    body: list[str] = []
    for s in range(sections):
        body.append(w_paragraph(f"Chapter {s}", "Heading1"))
        body.extend(
            w_paragraph(f"Paragraph {s}.{p}: the mitochondria make ATP for the cell. " * 4)
            for p in range(10)
        )
        body.append(w_table([["Term", "Meaning"], [f"ATP {s}", "energy"], [f"DNA {s}", "code"]]))
    return docx_with_body("".join(body))
