"""REST routes for the caller's tasks (/api/v1/tasks): thin wrappers over
core.tasks.service; domain errors become HTTP statuses in api.app's one handler."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.rest import ApiCaller, ApiUser
from api.schemas.tasks import TaskCreate, TaskOut, TaskUpdate
from api.web import RowId, Tx, state
from core.tasks import service as tasks

router = APIRouter(prefix="/api/v1", tags=["tasks"])
View = Literal["open", "today", "week", "overdue", "done", "all"]


class TaskList(BaseModel):
    tasks: list[TaskOut]
    total: int
    view: View
    offset: int
    limit: int
    has_more: bool


def _reminders(request: Request) -> list[int]:
    return list(state(request).settings.task_reminder_minutes)


@router.get("/tasks", response_model=TaskList)
async def list_tasks(
    request: Request,
    who: ApiCaller,
    session: Tx,
    view: View = "open",
    subject: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=20, ge=1, le=100),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> TaskList:
    web = state(request)
    page = await tasks.list_tasks(
        session, who.user_id, view, now=web.now(), subject=subject, limit=limit, offset=offset
    )
    return TaskList(
        tasks=[TaskOut.of(t) for t in page.tasks],
        total=page.total,
        view=view,
        offset=offset,
        limit=limit,
        has_more=page.has_more,
    )


@router.post("/tasks", response_model=TaskOut, status_code=201)
async def create_task(
    request: Request, who: ApiCaller, user: ApiUser, session: Tx, body: TaskCreate
) -> TaskOut:
    web = state(request)
    new = body.resolve(user, web.now())
    task = await tasks.create_task(
        session,
        who.user_id,
        title=new.title,
        now=web.now(),
        due_at=new.due_at,
        subject=new.subject,
        priority=new.priority,
        notes=new.notes,
        reminder_minutes=_reminders(request),
    )
    return TaskOut.of(task)


@router.get("/tasks/{task_id}", response_model=TaskOut)
async def get_task(request: Request, who: ApiCaller, session: Tx, task_id: RowId) -> TaskOut:
    return TaskOut.of(await tasks.task_by_id(session, who.user_id, task_id))


@router.patch("/tasks/{task_id}", response_model=TaskOut)
async def update_task(
    request: Request, who: ApiCaller, session: Tx, task_id: RowId, body: TaskUpdate
) -> TaskOut:
    web = state(request)
    minutes = _reminders(request)
    task = await tasks.update_task(
        session, who.user_id, task_id, body.changes(), now=web.now(), reminder_minutes=minutes
    )
    if body.completed is not None:
        task = await tasks.complete_task(
            session,
            who.user_id,
            task_id,
            now=web.now(),
            done=body.completed,
            reminder_minutes=minutes,
        )
    return TaskOut.of(task)


@router.delete("/tasks/{task_id}", status_code=204)
async def delete_task(request: Request, who: ApiCaller, session: Tx, task_id: RowId) -> None:
    await tasks.delete_task(session, who.user_id, task_id)
