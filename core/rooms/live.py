"""The focus session's live message: how it reads, and how updates reach every process
(the outbox for delivery, Redis pub/sub for fan-out)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.chat.markup import escape
from core.chat.messages import Button, Reply
from core.chat.router import action_id
from core.identity.models import Room
from core.identity.service import user_zone
from core.insights.patterns import focus_break_advice
from core.jobs import after_commit
from core.outbox.models import OutboxMessage
from core.outbox.service import Notice, queue_notices
from core.rooms.focus import advance_phases, insert_study_rows, live_id, minutes_left
from core.rooms.linking import chats_of
from core.rooms.membership import room_zone
from core.rooms.models import FocusSession
from core.rooms.pubsub import RoomEvent, RoomEvents
from core.rooms.views import FocusView, focus_views

MAX_NAMES_SHOWN = 40


def render(view: FocusView, now: datetime) -> tuple[str, list[Button]]:
    if view.room is None:
        return render_solo(view, now)
    focus = view.focus
    if focus.phase == "done":
        return _summary(view), []
    zone = room_zone(view.room)
    until = focus.phase_ends_at.astimezone(zone)
    left = minutes_left(focus.phase_ends_at, now)
    label = "🎯 Focus" if focus.phase == "focus" else "☕ Break"
    people = _names(view.present) or "nobody — press Join"
    text = (
        f"**Group focus** · {focus.focus_minutes} min focus, {focus.break_minutes} min break\n"
        f"{label}: **{left} min** left (until {until:%H:%M})\n"
        f"In ({len(view.present)}): {people}"
    )
    buttons = [
        Button("Join", action_id("rooms.join", focus.id)),
        Button("Leave", action_id("rooms.leave", focus.id)),
        Button("Stop", action_id("rooms.stop", focus.id)),
    ]
    return text, buttons


def _names(names: list[str]) -> str:
    """Who is in, shortened for a big (or linked) room: every platform's message limit
    holds and the count stays in front."""
    shown = ", ".join(escape(name) for name in names[:MAX_NAMES_SHOWN])
    hidden = len(names) - MAX_NAMES_SHOWN
    return shown if hidden <= 0 else f"{shown} and {hidden} more"


def render_solo(view: FocusView, now: datetime) -> tuple[str, list[Button]]:
    """A solo session in the person's direct chat: Pause/Resume and Stop."""
    focus = view.focus
    subject = f" · #{escape(focus.subject)}" if focus.subject else ""
    if focus.phase == "done":
        minutes = sum(m for _, m in view.minutes)
        title = "Focus session stopped" if focus.stopped else "Focus session finished"
        logged = f"{minutes} min of study logged" if minutes else "no focus time was logged"
        return f"**{title}**{subject} · {logged}.", []
    zone = user_zone(view.owner) if view.owner is not None else ZoneInfo("UTC")
    header = f"**Focus** · {focus.focus_minutes} min focus, {focus.break_minutes} min break"
    label = "🎯 Focus" if focus.phase == "focus" else "☕ Break"
    stop = Button("Stop", action_id("focus.stop", focus.id))
    if focus.paused_at is not None:
        left = minutes_left(focus.phase_ends_at, focus.paused_at)
        state = f"⏸ Paused in {label[2:].lower()}: **{left} min** left"
        return f"{header}{subject}\n{state}", [
            Button("Resume", action_id("focus.resume", focus.id)),
            stop,
        ]
    left = minutes_left(focus.phase_ends_at, now)
    until = focus.phase_ends_at.astimezone(zone)
    state = f"{label}: **{left} min** left (until {until:%H:%M})"
    if view.advice:
        state += f"\n{view.advice}"
    return f"{header}{subject}\n{state}", [
        Button("Pause", action_id("focus.pause", focus.id)),
        stop,
    ]


def _summary(view: FocusView) -> str:
    focus = view.focus
    title = "Focus session stopped" if focus.stopped else "Focus session finished"
    ranked = sorted(view.minutes, key=lambda item: (-item[1], item[0]))
    lines = [f"- {escape(name)}: {minutes} min" for name, minutes in ranked if minutes > 0]
    if not lines:
        return f"**{title}**\nNo focus time was logged."
    return f"**{title}** · focus time logged:\n" + "\n".join(lines)


def reply(view: FocusView, now: datetime) -> Reply:
    text, buttons = render(view, now)
    return Reply.text(text, buttons, live_id=live_id(view.focus))


def room_events(services: Services) -> RoomEvents:
    return services.room_events


def event(kind: str, view: FocusView, now: datetime) -> RoomEvent:
    assert view.room is not None, "solo sessions have no room to fan out to"
    return chat_events(kind, view, now, [view.room])[0]


def chat_events(
    kind: str, view: FocusView, now: datetime, chats: Sequence[Room]
) -> list[RoomEvent]:
    """One event per chat of the room (a linked room has several, see core.rooms.linking),
    each naming the chat its live message is in."""
    assert view.room is not None, "solo sessions have no room to fan out to"
    text, buttons = render(view, now)
    shown = [{"label": b.label, "action": b.action} for b in buttons]
    return [
        RoomEvent(
            type=kind,
            room_id=view.room.id,
            platform=chat.platform,
            chat_id=chat.external_id.split("/", 1)[0],
            live_id=live_id(view.focus),
            text=text,
            buttons=shown,
        )
        for chat in chats
    ]


async def queue_elsewhere(
    session: AsyncSession,
    view: FocusView,
    now: datetime,
    *,
    chats: Sequence[Room],
    except_chat_id: int,
) -> None:
    """The live message as it now reads, to a linked room's chats other than the one
    answered directly (the outbox sends it, or edits the one sent before). Only the latest
    state matters, so updates of it still waiting for those chats are dropped: a burst of
    Join presses costs each chat one edit at its platform's pace, not one per press."""
    others = [c.id for c in chats if c.id != except_chat_id]
    waiting = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.live_id == live_id(view.focus),
            OutboxMessage.room_id.in_(others),
            OutboxMessage.delivered_at.is_(None),
        )
        .with_for_update(skip_locked=True)  # one being sent now is left to finish
    )
    await session.execute(
        delete(OutboxMessage).where(OutboxMessage.id.in_(waiting.scalar_subquery()))
    )
    text, buttons = render(view, now)
    notice = Notice(
        "focus",
        text,
        f"{live_id(view.focus)}:press:{uuid.uuid4().hex}",
        now,
        room=view.room,
        buttons=buttons,
        respect_quiet_hours=False,
        live_id=live_id(view.focus),
        except_chat_id=except_chat_id,
    )
    await queue_notices(session, [notice])


def publish_after_commit(
    session: AsyncSession, services: Services, events: list[RoomEvent]
) -> None:
    """Fan the events out once the change is committed (never for a rolled-back one)."""
    if not events:
        return
    port = room_events(services)

    async def send() -> None:
        for item in events:
            await port.publish(item)

    after_commit(session, send)


@dataclass(frozen=True)
class Advanced:
    """One focus session the sweep looked at: a phase change (with the end it was due at)
    or a countdown tick."""

    view: FocusView
    phase_changed: bool
    due_at: datetime


async def sweep_due(
    session: AsyncSession, services: Services, now: datetime, *, limit: int = 200
) -> list[Advanced]:
    """Advance up to `limit` due focus sessions and queue their live-message updates.
    Rows locked by another sweep or a button press are skipped (they are handled there).
    Outbox dedupe keys are per session+phase(+minute), so a re-run adds nothing; the
    updates go to the outbox in one multi-row INSERT."""
    due = list(
        await session.scalars(
            select(FocusSession)
            .where(FocusSession.phase != "done", FocusSession.next_update_at <= now)
            .order_by(FocusSession.next_update_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    views = await focus_views(session, due)
    chats = await chats_of(session, [v.room for v in views if v.room is not None])
    changed: dict[int, tuple[bool, datetime]] = {}
    study_rows: list[dict[str, Any]] = []
    for view in views:
        focus = view.focus
        due_at = min(focus.phase_ends_at, focus.next_update_at)
        phase_changed, rows = advance_phases(focus, [p for p, _ in view.participants], now)
        changed[focus.id] = (phase_changed, due_at)
        study_rows += rows
    await insert_study_rows(session, study_rows)
    for view in views:
        if view.owner is not None and view.room is None and view.focus.phase == "break":
            view.advice = await focus_break_advice(
                session, view.owner.id, view.focus.break_minutes, now
            )
    advanced: list[Advanced] = []
    events: list[RoomEvent] = []
    notices: list[Notice] = []
    for view in views:
        phase_changed, due_at = changed[view.focus.id]
        text, buttons = render(view, now)
        key = f"{live_id(view.focus)}:{view.focus.phase_no}"
        if not phase_changed:
            key += f":{minutes_left(view.focus.phase_ends_at, now)}"
        notices.append(
            Notice(
                "focus",
                text,
                key,
                now,
                user=view.owner if view.room is None else None,
                room=view.room,
                buttons=buttons,
                # A timer held until morning would be wrong (see Notice).
                respect_quiet_hours=False,
                live_id=live_id(view.focus),
            )
        )
        kind = "focus.phase" if phase_changed else "focus.tick"
        if view.focus.phase == "done":
            kind = "focus.ended"
        if view.room is not None:
            events.extend(chat_events(kind, view, now, chats[view.room.id]))
        advanced.append(Advanced(view, phase_changed, due_at))
    await queue_notices(session, notices)
    publish_after_commit(session, services, events)
    return advanced
