"""The focus session's live message: how it reads, and how updates reach every process
(the outbox for delivery, Redis pub/sub for fan-out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.chat.markup import escape
from core.chat.messages import Button, Reply
from core.chat.router import action_id
from core.identity.service import user_zone
from core.insights.patterns import focus_break_advice
from core.jobs import after_commit
from core.notify.service import Notice, queue_notices
from core.rooms.models import FocusSession
from core.rooms.pubsub import RoomEvent, RoomEvents
from core.rooms.service import (
    FocusView,
    advance_phases,
    focus_views,
    insert_study_rows,
    live_id,
    minutes_left,
    room_zone,
)


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
    people = ", ".join(escape(name) for name in view.present) or "nobody — press Join"
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
    text, buttons = render(view, now)
    return RoomEvent(
        type=kind,
        room_id=view.room.id,
        platform=view.room.platform,
        chat_id=view.room.external_id.split("/", 1)[0],
        live_id=live_id(view.focus),
        text=text,
        buttons=[{"label": b.label, "action": b.action} for b in buttons],
    )


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
            events.append(event(kind, view, now))
        advanced.append(Advanced(view, phase_changed, due_at))
    await queue_notices(session, notices)
    publish_after_commit(session, services, events)
    return advanced
