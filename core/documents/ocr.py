"""Text recognition for scanned PDFs (pages that are pictures, no text layer), locally
with RapidOCR (`rapidocr-onnxruntime`, the optional `ocr` extra: its ONNX models ship in
the wheel). Without the package, scans are refused as before."""

from __future__ import annotations

import importlib.util
import io
from functools import lru_cache
from typing import Any

from core.documents.extraction import Block, clean

# Below this confidence a line is more likely noise than text.
MIN_SCORE = 0.5
MAX_IMAGES_PER_PAGE = 8


def available() -> bool:
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def recognise(image: bytes) -> list[str]:
    """The lines of text in one picture, top to bottom ([] when none was found)."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as opened:
        picture = opened.convert("RGB")
    import numpy

    found, _ = _engine()(numpy.asarray(picture))
    return [str(text) for _, text, score in found or () if float(score) >= MIN_SCORE]


def page_blocks(images: list[bytes], page: int) -> list[Block]:
    """One block of recognised text per picture on the page (numbered from 1)."""
    blocks = []
    for image in images[:MAX_IMAGES_PER_PAGE]:
        text = clean(" ".join(recognise(image)))
        if text:
            blocks.append(Block(text, page))
    return blocks
