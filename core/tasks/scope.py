"""Which tasks a user may see and change (their own, and their rooms' tasks while they are
members), and the checks every title, subject and due time passes before it is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput, Forbidden, NotFound
from core.identity.models import Membership
from core.tasks.models import Task
from core.tasks.parsing import MAX_AHEAD, MAX_SUBJECT, MAX_TITLE, YEARS_AHEAD


async def check_member(session: AsyncSession, user_id: int, room_id: int) -> None:
    found = await session.scalar(
        select(Membership.id).where(Membership.room_id == room_id, Membership.user_id == user_id)
    )
    if found is None:
        raise Forbidden("Only members of this room can see its tasks.")


async def owner_filter(
    session: AsyncSession, user_id: int, room_id: int | None
) -> ColumnElement[bool]:
    if room_id is None:
        return Task.user_id == user_id
    await check_member(session, user_id, room_id)
    return Task.room_id == room_id


def visible_to(user_id: int) -> ColumnElement[bool]:
    member_rooms = select(Membership.room_id).where(Membership.user_id == user_id)
    return (Task.user_id == user_id) | Task.room_id.in_(member_rooms)


async def task_by_number(
    session: AsyncSession, user_id: int, number: int, *, room_id: int | None = None
) -> Task:
    owner = await owner_filter(session, user_id, room_id)
    task = await session.scalar(select(Task).where(owner, Task.number == number))
    if task is None:
        where = "in this room" if room_id is not None else "in your list"
        raise NotFound(f"There is no task {number} {where}.", "Send /tasks all to see them.")
    return task


async def task_by_id(session: AsyncSession, user_id: int, task_id: int) -> Task:
    """A task the user owns, or a task of a room they are a member of."""
    task = await session.scalar(select(Task).where(Task.id == task_id, visible_to(user_id)))
    if task is None:
        raise NotFound("That task doesn't exist any more.")
    return task


def clean_text(text: str, what: str) -> str:
    # PostgreSQL text cannot hold NUL nor a lone surrogate (not UTF-8); refuse them here
    # rather than fail in the database.
    if "\x00" in text:
        raise BadInput(f"The {what} contains a NUL character; remove it.")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise BadInput(f"The {what} contains a broken character (a lone surrogate).") from None
    return text


def clean_title(title: str) -> str:
    cleaned = " ".join(clean_text(title, "title").split())
    if not cleaned:
        raise BadInput("A task needs a title.", "e.g. /task Lab report fri 5pm #chem !high")
    if len(cleaned) > MAX_TITLE:
        raise BadInput(f"That title is {len(cleaned):,} characters; keep it under {MAX_TITLE}.")
    return cleaned


def clean_subject(subject: str | None) -> str | None:
    if subject is None:
        return None
    cleaned = clean_text(subject, "subject").strip().lstrip("#").lower()
    bad = not cleaned or len(cleaned) > MAX_SUBJECT or "\x00" in cleaned
    if bad or any(c.isspace() for c in cleaned):
        raise BadInput(f"A subject is one word of at most {MAX_SUBJECT} characters, like #chem.")
    return cleaned


def check_future(due_at: datetime | None, now: datetime) -> None:
    if due_at is None:
        return
    if due_at <= now:
        raise BadInput("That due time is in the past; give a time that is still ahead.")
    if due_at - now > MAX_AHEAD:
        raise BadInput(
            f"That time is more than {YEARS_AHEAD} years ahead; give one before "
            f"{now + MAX_AHEAD:%d %b %Y}."
        )
