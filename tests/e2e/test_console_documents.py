"""Done-means of the documents issue, as a person runs it: `teddy chat --jsonl` with files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.documents.embeddings import LocalEmbedder
from teddy.servers import Servers
from tests import doc_samples
from tests.e2e.test_console import run_chat

PAGES = [
    "Week three covers cellular respiration and the electron transport chain in detail.",
    "Mitochondria generate most of the chemical energy that powers a cell.",
    "Exam logistics: the final is in room 204; bring a calculator and a pencil.",
]


def test_console_session_ingests_pdf_docx_md_searches_and_deletes(
    tmp_path: Path, servers: Servers, core: object
) -> None:
    local = LocalEmbedder.available()
    os.environ["EMBEDDINGS_PROVIDER"] = "local" if local else "none"
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        pdf = tmp_path / "lecture-3.pdf"
        pdf.write_bytes(doc_samples.pdf(PAGES))
        docx = tmp_path / "reading.docx"
        docx.write_bytes(
            doc_samples.docx([("Glossary", ["A xenolith is a rock fragment enclosed in magma."])])
        )
        md = tmp_path / "plan.md"
        md.write_text("# Plan\n\nRevise the Krebs cycle on Friday.\n")
        lines = [json.dumps({"file": str(p)}) for p in (pdf, docx, md)]
        out = run_chat(tmp_path, servers, lines, "--user", "dana")
        texts = [str(o["text"]) for o in out]
        assert texts[:3] == [
            "Got lecture-3.pdf. Reading it…",
            "Got reading.docx. Reading it…",
            "Got plan.md. Reading it…",
        ]
        assert any("Reading lecture-3.pdf… 3/3 pages" in t for t in texts)
        assert any("Read lecture-3.pdf: 3 pages" in t for t in texts)
        assert sum("Key concepts" in t or "Search it with /search" in t for t in texts) == 3

        queries = ["/search xenolith", "/doc del 2", "/search xenolith"]
        if local:
            queries.append("/search which organelle is the powerhouse supplying power")
        out = run_chat(tmp_path, servers, queries, "--user", "dana")
        texts = [str(o["text"]) for o in out]
        assert "reading.docx § Glossary" in texts[0] and "xenolith" in texts[0]
        assert "Deleted reading.docx" in texts[1]
        assert "reading.docx" not in texts[2]
        if local:
            assert "lecture-3.pdf p.2" in texts[3].splitlines()[2]
    finally:
        os.environ.pop("EMBEDDINGS_PROVIDER", None)
