"""Shapes of tasks for the REST API (the API helper maps them to routes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.tasks.models import Task
from core.tasks.parsing import MAX_SUBJECT, MAX_TITLE, PRIORITY_WORDS, Priority
from core.tasks.service import TaskChanges

PriorityName = Literal["high", "medium", "low"]


class TaskOut(BaseModel):
    id: int
    number: int
    title: str
    notes: str
    subject: str | None
    priority: PriorityName
    due_at: datetime | None
    completed_at: datetime | None
    completed_by_user_id: int | None
    room_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls(
            id=task.id,
            number=task.number,
            title=task.title,
            notes=task.notes,
            subject=task.subject,
            priority=Priority(task.priority).label,
            due_at=task.due_at,
            completed_at=task.completed_at,
            completed_by_user_id=task.completed_by_user_id,
            room_id=task.room_id,
            created_at=task.created_at,
            updated_at=task.updated_at,
        )


class TaskCreate(BaseModel):
    """Either `text` in the chat syntax ("Lab report fri 5pm #chem !high") or the fields."""

    text: str | None = Field(default=None, max_length=2000)
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    due_at: datetime | None = None
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    priority: PriorityName = "medium"
    notes: str = Field(default="", max_length=5000)


class TaskUpdate(BaseModel):
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    due_at: datetime | None = None
    clear_due: bool = False
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    priority: PriorityName | None = None
    notes: str | None = Field(default=None, max_length=5000)
    completed: bool | None = None

    def changes(self) -> TaskChanges:
        return TaskChanges(
            title=self.title,
            due_at=self.due_at,
            clear_due=self.clear_due,
            subject=self.subject,
            priority=PRIORITY_WORDS[self.priority] if self.priority else None,
            notes=self.notes,
        )
