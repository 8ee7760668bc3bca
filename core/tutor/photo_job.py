"""The photo job: a photo's reading (a vision model, or text recognition) and the tutor's
answer, out of the chat handler's transaction. The handler records the job with the shrunk
picture (`submit`) and answers "Reading your photo…" at once; the job replaces that
message with the answer through the outbox. Idempotent: the picture is removed from the
job's row in the transaction that queues the answer, so a second run finds nothing to do."""

from __future__ import annotations

import base64
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat import Button
from core.chat.markup import escape
from core.chat.messages import Conversation
from core.errors import TeddyError
from core.identity.models import Room, User
from core.jobs import JobContext, JobQueue, enqueue_after_commit, job
from core.maintenance.models import PendingJob
from core.outbox.models import OutboxMessage
from core.outbox.service import Notice, queue_notices
from core.tutor import photos, prompts, service, turn
from core.tutor.footers import answer_extras

log = logging.getLogger(__name__)

PHOTO_JOB = "tutor.photo"
KIND = "tutor"
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
    chat: Conversation,
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
        chat_id=None if chat.is_direct else chat.external_id,
        platform=chat.platform,
    )
    return token


@dataclass(frozen=True)
class Asked:
    """Who sent the photo and where the answer goes."""

    token: str
    user_id: int
    room_id: int | None
    # The group chat it was sent in (an outbox chat id); None in a direct chat.
    chat_id: str | None
    platform: str | None


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
    chat_id: str | None = None,
    platform: str | None = None,
) -> None:
    if picture is None:
        return  # answered by an earlier run
    asked = Asked(token, user_id, room_id, chat_id, platform)
    try:
        question = await photos.read(base64.b64decode(picture), caption, vision=vision)
    except TeddyError as err:
        await _answer(jc, asked, escape(err.message))
        return
    except Exception:
        log.exception("reading a photo failed")
        await _answer(jc, asked, FAILED)
        return
    if service.ports(jc.services).llm is None:
        text = (
            f"Text I read from your photo:\n\n{escape(question.recognised)}\n\n"
            f"{prompts.CONNECT_MODEL}"
        )
        await _answer(jc, asked, text)
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
        await _converse(jc, asked, key, question, "\n".join(notes))
    except Exception:
        log.exception("answering a photo failed")
        await _answer(jc, asked, FAILED)


async def _converse(
    jc: JobContext, asked: Asked, key: str, question: photos.PhotoQuestion, note: str
) -> None:
    async with jc.db.transaction() as session:
        user = await session.get(User, asked.user_id)
        room = await session.get(Room, asked.room_id) if asked.room_id is not None else None
        if user is None or (asked.room_id is not None and room is None):
            await _drop_picture(session, asked.token)  # the account or room went meanwhile
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
        await _queue(session, jc, asked, user, room, text, buttons)


async def _answer(jc: JobContext, asked: Asked, text: str) -> None:
    async with jc.db.transaction() as session:
        user = await session.get(User, asked.user_id)
        room = await session.get(Room, asked.room_id) if asked.room_id is not None else None
        if user is None:
            await _drop_picture(session, asked.token)
        else:
            await _queue(session, jc, asked, user, room, text, [])


async def _queue(
    session: AsyncSession,
    jc: JobContext,
    asked: Asked,
    user: User,
    room: Room | None,
    text: str,
    buttons: list[Button],
) -> None:
    """The answer in place of the "Reading" message, at once: in the group chat it was
    sent in (only there, as a chat reply: not to the other chats of a linked room), else
    the student's direct chat; and the picture dropped from the job's row."""
    now = jc.services.clock.now()
    key, live = f"photo:{asked.token}", live_id(asked.token)
    if room is not None and asked.chat_id is not None and asked.platform is not None:
        await session.execute(
            insert(OutboxMessage)
            .values(
                dedupe_key=key,
                room_id=room.id,
                platform=asked.platform,
                chat_id=asked.chat_id,
                kind=KIND,
                live_id=live,
                text=text,
                buttons=[{"label": b.label, "action": b.action} for b in buttons],
                deliver_after=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
    else:
        notice = Notice(
            KIND,
            text,
            key,
            now,
            user=None if room is not None else user,
            room=room,
            buttons=buttons,
            respect_quiet_hours=False,  # an answer to what they just sent
            live_id=live,
        )
        await queue_notices(session, [notice])
    await _drop_picture(session, asked.token)


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
