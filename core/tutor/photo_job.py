"""The photo job: a photo's reading (a vision model, or text recognition) and the tutor's
answer, out of the chat handler's transaction. The handler records the job with the shrunk
picture (`submit`) and answers "Reading your photo…" at once; the job replaces that
message with the answer through the outbox. Idempotent: the picture is removed from the
job's row in the transaction that queues the answer, so a second run finds nothing to do."""

from __future__ import annotations

import base64
import logging
import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat import Button
from core.chat.markup import escape
from core.errors import TeddyError
from core.identity.models import Room, User
from core.jobs import JobContext, JobQueue, enqueue_after_commit, job
from core.maintenance.models import PendingJob
from core.outbox.service import Notice, queue_notices
from core.tutor import photos, prompts, service, turn
from core.tutor.footers import answer_extras

log = logging.getLogger(__name__)

PHOTO_JOB = "tutor.photo"
FAILED = "Something went wrong while reading your photo. Send it again in a moment."


def live_id(token: str) -> str:
    """The message that says "Reading your photo…" and is replaced by the answer."""
    return f"photo-{token}"


async def submit(
    session: AsyncSession,
    queue: JobQueue,
    user: User,
    room: Room | None,
    *,
    key: str,
    caption: str,
    picture: bytes,
    vision: bool,
    several: bool,
) -> str:
    """Record the photo job in the caller's transaction (sent once it commits); returns
    the token of its live message."""
    token = uuid.uuid4().hex[:16]
    await enqueue_after_commit(
        session,
        queue,
        PHOTO_JOB,
        token=token,
        user_id=user.id,
        room_id=room.id if room is not None else None,
        key=key,
        caption=caption,
        picture=base64.b64encode(picture).decode(),
        vision=vision,
        several=several,
    )
    return token


@job(PHOTO_JOB)
async def answer_photo(
    jc: JobContext,
    *,
    token: str,
    user_id: int,
    room_id: int | None,
    key: str,
    caption: str,
    picture: str | None = None,
    vision: bool = False,
    several: bool = False,
) -> None:
    if picture is None:
        return  # answered by an earlier run
    try:
        question = await photos.read(base64.b64decode(picture), caption, vision=vision)
    except TeddyError as err:
        await _answer(jc, token, user_id, room_id, escape(err.message))
        return
    except Exception:
        log.exception("reading a photo failed")
        await _answer(jc, token, user_id, room_id, FAILED)
        return
    if service.ports(jc.services).llm is None:
        text = (
            f"Text I read from your photo:\n\n{escape(question.recognised)}\n\n"
            f"{prompts.CONNECT_MODEL}"
        )
        await _answer(jc, token, user_id, room_id, text)
        return
    notes = []
    if question.recognised:
        notes.append(
            "📷 _I read the text from your photo with text recognition; "
            "it may have misread a word or two._"
        )
    if several:
        notes.append("_I looked at the first picture only: send one per message._")
    try:
        await _converse(jc, token, user_id, room_id, key, question, "\n".join(notes))
    except Exception:
        log.exception("answering a photo failed")
        await _answer(jc, token, user_id, room_id, FAILED)


async def _converse(
    jc: JobContext,
    token: str,
    user_id: int,
    room_id: int | None,
    key: str,
    question: photos.PhotoQuestion,
    note: str,
) -> None:
    async with jc.db.transaction() as session:
        user = await session.get(User, user_id)
        room = await session.get(Room, room_id) if room_id is not None else None
        if user is None or (room_id is not None and room is None):
            await _drop_picture(session, token)  # the account or room was deleted meanwhile
            return

        async def ignore(_: str) -> None:
            return None

        try:
            result = await turn.tutor_turn(
                session,
                jc.services,
                user,
                room,
                key,
                question.text,
                ignore,
                image_url=question.image_url,
                counted=True,  # by the chat handler
            )
        except TeddyError as err:
            text, buttons = escape(err.message), []
        else:
            footer, rows = answer_extras(result, note)
            body = escape(result.text) if result.text.strip() else ""
            text = "\n\n".join(p for p in (body, footer) if p)
            buttons = [button for row in rows for button in row]
        await _queue(session, jc, token, user, room, text, buttons)


async def _answer(jc: JobContext, token: str, user_id: int, room_id: int | None, text: str) -> None:
    async with jc.db.transaction() as session:
        user = await session.get(User, user_id)
        room = await session.get(Room, room_id) if room_id is not None else None
        if user is None:
            await _drop_picture(session, token)
        else:
            await _queue(session, jc, token, user, room, text, [])


async def _queue(
    session: AsyncSession,
    jc: JobContext,
    token: str,
    user: User,
    room: Room | None,
    text: str,
    buttons: list[Button],
) -> None:
    """The answer in place of the "Reading" message (in the room, else the student's
    direct chat, at once), and the picture dropped from the job's row."""
    now = jc.services.clock.now()
    notice = Notice(
        "tutor",
        text,
        f"photo:{token}",
        now,
        user=None if room is not None else user,
        room=room,
        buttons=buttons,
        respect_quiet_hours=False,  # an answer to what they just sent
        live_id=live_id(token),
    )
    await queue_notices(session, [notice])
    await _drop_picture(session, token)


async def _drop_picture(session: AsyncSession, token: str) -> None:
    await session.execute(
        update(PendingJob)
        .where(
            PendingJob.done_at.is_(None),
            PendingJob.job == PHOTO_JOB,
            PendingJob.kwargs["token"].astext == token,
        )
        .values(kwargs=PendingJob.kwargs.op("-")("picture"))
    )
