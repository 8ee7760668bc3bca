"""A photo sent to the tutor (lecture notes, a problem): checked and shrunk by the chat
handler, then, in the photo job (core.tutor.jobs), either handed to a vision model as a
picture or, without one, its text recognised locally (core.documents.ocr) and quoted to the
model as data. The picture waits for the job in its pending row only, and is removed from
it when the answer is queued."""

from __future__ import annotations

import asyncio
import base64
import io
from dataclasses import dataclass

from core.chat.messages import Attachment, Incoming
from core.documents import ocr
from core.errors import BadInput
from core.settings import Settings
from core.tutor import prompts

# Vision models scale pictures down to about this anyway; OCR reads print at this size.
MAX_SIDE = 2048
# Width x height of a picture we agree to open (a small file can unpack to gigabytes).
MAX_PIXELS = 40_000_000
MAX_RECOGNISED_CHARS = 6_000

NOTHING_READ = (
    "I couldn't read any text in that photo. Try a sharper, well-lit photo taken straight "
    "on, or type the question."
)
NO_READER = (
    "I can't read photos here yet: the AI model is not set up for pictures and text "
    "recognition is not installed. Ask the admin to set `LLM_VISION=true` with a vision "
    "model, or to install Study Teddy's `ocr` extra. Meanwhile, type the question."
)
NOT_A_PICTURE = "I couldn't open {name} as a picture. Send a JPEG or PNG photo."


@dataclass(frozen=True)
class PhotoQuestion:
    """What goes to the tutor: `text` is the student's message as stored; `image_url`
    (vision) is the picture for this call only; `recognised` (OCR) is the text read."""

    text: str
    image_url: str | None = None
    recognised: str = ""


def the_photo(incoming: Incoming) -> Attachment:
    """The first picture of the message (Telegram sends one per message; the others of a
    Discord message are left out, and the reply says so)."""
    return incoming.attachments[0]


async def picture_of(settings: Settings, photo: Attachment, *, vision: bool) -> bytes:
    """The photo fetched, checked and shrunk (quick: the chat handler does this). `BadInput`
    with a clear message when it is too large, not a picture, or cannot be read here."""
    max_bytes = settings.max_upload_mb * 1_048_576
    if photo.size > max_bytes:
        raise BadInput(
            f"That photo is {photo.size / 1_048_576:.1f} MB; the limit is "
            f"{settings.max_upload_mb} MB."
        )
    if not vision and not ocr.available():
        raise BadInput(NO_READER)
    data = await photo.fetch()
    if len(data) > max_bytes:
        raise BadInput(f"That photo is over the {settings.max_upload_mb} MB limit.")
    return await asyncio.to_thread(shrunk_jpeg, data, photo.name)


async def read(picture: bytes, caption: str, *, vision: bool) -> PhotoQuestion:
    """The tutor's input for a shrunk picture: the picture itself for a `vision` model,
    else its recognised text (slow: the photo job does this). `BadInput` when nothing
    legible is in it."""
    question = caption.strip() or prompts.PHOTO_QUESTION
    if vision:
        url = "data:image/jpeg;base64," + base64.b64encode(picture).decode()
        return PhotoQuestion(f"(photo attached) {question}", image_url=url)
    lines = await asyncio.to_thread(ocr.recognise, picture)
    recognised = " ".join(" ".join(lines).split())[:MAX_RECOGNISED_CHARS]
    if not recognised:
        raise BadInput(NOTHING_READ)
    text = prompts.PHOTO_TEXT.format(question=question, text=prompts.inert(recognised))
    return PhotoQuestion(text, recognised=recognised)


def shrunk_jpeg(data: bytes, name: str) -> bytes:
    """The picture upright (EXIF rotation applied), at most MAX_SIDE a side, as JPEG."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise BadInput(f"{name} is too large a picture; send a smaller photo.")
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise BadInput(NOT_A_PICTURE.format(name=name)) from None
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
