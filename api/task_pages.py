"""The tasks page: add with the `/task` syntax, edit inline, delete with a short undo,
priority, a subject filter, and a due field read like chat reads it. Every rule is in
core.tasks; this turns forms into calls and keeps the typed text when it is refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.pages import page, see_other
from api.web import CurrentUser, RowId, SignedIn, Tx, Viewer, check_csrf, load_user, state
from core.errors import BadInput, NotFound, TeddyError
from core.identity.models import User
from core.identity.service import user_zone
from core.tasks import service as tasks
from core.tasks import undo as task_undo
from core.tasks.models import Task, TaskUndo
from core.tasks.parsing import (
    PRIORITY_WORDS,
    Priority,
    format_local,
    languages_for,
    parse_task_text,
)
from core.tasks.service import TaskChanges

router = APIRouter(include_in_schema=False)
UNDO_MINUTES = int(task_undo.UNDO_FOR.total_seconds() // 60)
PRIORITIES = [(p.label, p.label.title()) for p in Priority]
# Open tasks a page: each carries its inline edit form, so a long list is paged.
OPEN_PAGE = 50
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def _due_text(task: Task, zone: ZoneInfo, now: datetime) -> str:
    """The due time as the edit field shows it (and reads back unchanged)."""
    if task.due_at is None:
        return ""
    return format_local(task.due_at.astimezone(zone), now.astimezone(zone))


def _read_due(text: str, user: User, now: datetime) -> tuple[datetime | None, bool]:
    """The due field, read with the `/task` parser: (moment, cleared). Raises BadInput
    with chat's own message when it is not a date, or is in the past."""
    if not text.strip() or text.strip().lower() in ("none", "off", "never"):
        return None, True
    parsed = parse_task_text(f"due {text}", now, user_zone(user), languages_for(user.locale))
    return (parsed.due.at if parsed.due else None), parsed.clear_due


async def _render(
    request: Request,
    session: AsyncSession,
    who: Viewer,
    status: int = 200,
    *,
    subject: str | None = None,
    offset: int = 0,
    **extra: Any,
) -> Response:
    now = state(request).now()
    user = await load_user(session, who)
    zone = user_zone(user)
    shown = await tasks.list_tasks(
        session,
        who.user_id,
        "open",
        now=now,
        zone=zone,
        subject=subject,
        limit=OPEN_PAGE,
        offset=offset,
    )
    done = await tasks.list_tasks(session, who.user_id, "done", now=now, zone=zone, limit=20)
    undo = await _pending_undo(session, who, request.query_params.get("undo", ""), now)
    changed = await _changed_task(session, who, request.query_params.get("changed", ""))
    return page(
        request,
        "tasks.html",
        status,
        who=who,
        csrf=who.csrf_token,
        open_tasks=shown.tasks,
        open_page=shown,
        done_tasks=done.tasks,
        subjects=await tasks.open_subjects(session, who.user_id),
        subject=(subject or "").lstrip("#").lower(),
        zone=zone,
        now=now,
        due_text=lambda task: _due_text(task, zone, now),
        priorities=PRIORITIES,
        priority_label=lambda value: Priority(value).label,
        undo=undo,
        changed_task=changed,
        undo_minutes=UNDO_MINUTES,
        **extra,
    )


async def _changed_task(session: AsyncSession, who: Viewer, task_id: str) -> Task | None:
    """The task just saved (to say how it was stored), wherever it is in the list."""
    if not task_id.isascii() or not task_id.isdigit() or len(task_id) > 18:
        return None
    try:
        return await tasks.task_by_id(session, who.user_id, int(task_id))
    except TeddyError:
        return None


async def _pending_undo(
    session: AsyncSession, who: Viewer, entry_id: str, now: datetime
) -> TaskUndo | None:
    """The deletion the page offers to undo, while it still can be undone."""
    if not entry_id.isdigit() or len(entry_id) > 18:
        return None
    try:
        return await task_undo.entry_for(session, who.user_id, int(entry_id), now)
    except TeddyError:
        return None


@router.get("/tasks")
async def tasks_page(
    request: Request, who: SignedIn, session: Tx, subject: str = "", offset: Offset = 0
) -> Response:
    # No savepoint: a subject that is not one word is refused before any statement runs.
    try:
        return await _render(request, session, who, subject=subject or None, offset=offset)
    except BadInput as err:
        return await _render(request, session, who, 400, error=err.plain)


@router.post("/tasks")
async def add_task(request: Request, who: SignedIn, user: CurrentUser, session: Tx) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    text = form.get("text", "")
    try:
        async with session.begin_nested():
            parsed = parse_task_text(text, web.now(), user_zone(user), languages_for(user.locale))
            task = await tasks.create_task(
                session,
                who.user_id,
                title=parsed.title,
                now=web.now(),
                due_at=parsed.due.at if parsed.due else None,
                subject=parsed.subject,
                priority=parsed.priority or Priority.MEDIUM,
                reminder_minutes=web.settings.task_reminder_minutes,
            )
            task_id = task.id
    except TeddyError as err:
        # The typed text stays in the box, so one wrong word is not the whole task again.
        return await _render(request, session, who, 400, error=err.plain, text=text)
    return see_other(f"/tasks?changed={task_id}")


@router.get("/tasks/read-due")
async def read_due(request: Request, user: CurrentUser, text: str = "") -> Response:
    """How the due field reads as it is typed (tasks.js shows it next to the field)."""
    now = state(request).now()
    try:
        due, cleared = _read_due(text[:200], user, now)
    except BadInput as err:
        return JSONResponse({"ok": False, "message": err.plain})
    if cleared or due is None:
        return JSONResponse({"ok": True, "message": "No due date."})
    zone = user_zone(user)
    when = format_local(due.astimezone(zone), now.astimezone(zone))
    return JSONResponse({"ok": True, "message": f"Due {when}."})


@router.post("/tasks/{task_id}/edit")
async def edit_task(
    request: Request, task_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    form = await check_csrf(request, who.csrf_token)
    web = state(request)
    now = web.now()
    try:
        async with session.begin_nested():
            task = await tasks.task_by_id(session, who.user_id, task_id)
            due_field = form.get("due", "")
            unchanged = due_field.strip() == _due_text(task, user_zone(user), now)
            due, cleared = (None, False) if unchanged else _read_due(due_field, user, now)
            subject = form.get("subject", "").strip()
            priority = PRIORITY_WORDS.get(form.get("priority", "").strip().lower())
            changes = TaskChanges(
                title=form.get("title", ""),
                due_at=due,
                clear_due=cleared,
                subject=subject or None,
                clear_subject=not subject,
                priority=priority,
            )
            await tasks.update_task(
                session,
                who.user_id,
                task_id,
                changes,
                now=now,
                reminder_minutes=web.settings.task_reminder_minutes,
            )
    except NotFound:
        raise
    except TeddyError as err:
        return await _render(
            request, session, who, 400, error=err.plain, editing=task_id, typed=dict(form)
        )
    return see_other(f"/tasks?changed={task_id}")


@router.post("/tasks/{task_id}/toggle")
async def toggle_task(request: Request, task_id: RowId, who: SignedIn, session: Tx) -> Response:
    await check_csrf(request, who.csrf_token)
    web = state(request)
    await tasks.complete_task(
        session,
        who.user_id,
        task_id,
        now=web.now(),
        reminder_minutes=web.settings.task_reminder_minutes,
    )
    return see_other("/tasks")


@router.post("/tasks/{task_id}/delete")
async def delete_task(request: Request, task_id: RowId, who: SignedIn, session: Tx) -> Response:
    """Delete, keeping the task for chat's undo (`core.tasks.undo`, 10 minutes)."""
    await check_csrf(request, who.csrf_token)
    now = state(request).now()
    before = task_undo.snapshot(await tasks.task_by_id(session, who.user_id, task_id))
    await tasks.delete_task(session, who.user_id, task_id)
    entry = await task_undo.record(session, who.user_id, "deleted", task_id, before, now)
    return see_other(f"/tasks?undo={entry.id}")


@router.post("/tasks/undo/{entry_id}")
async def undo_delete(request: Request, entry_id: RowId, who: SignedIn, session: Tx) -> Response:
    await check_csrf(request, who.csrf_token)
    web = state(request)
    entry = await task_undo.entry_for(session, who.user_id, entry_id, web.now())
    task = await task_undo.undo(
        session, who.user_id, entry, web.now(), list(web.settings.task_reminder_minutes)
    )
    return see_other(f"/tasks?changed={task.id}")
