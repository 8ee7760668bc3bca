"""Tasks: what the REST API takes and gives; `TaskCreate` reads `text` as chat does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import AliasChoices, AwareDatetime, BaseModel, Field, field_validator

from core.errors import BadInput
from core.identity.models import User
from core.identity.service import user_zone
from core.tasks.models import Task
from core.tasks.parsing import (
    MAX_SUBJECT,
    MAX_TITLE,
    PRIORITY_WORDS,
    Priority,
    languages_for,
    parse_task_text,
)
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


def _in_utc(value: datetime | None) -> datetime | None:
    """A time with its zone, as UTC; a time that cannot be (year 9999 west of UTC) is bad
    input rather than an overflow later on."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError as err:
        raise ValueError("That time is out of range.") from err


@dataclass(frozen=True)
class NewTask:
    """The fields `create_task` takes, after reading `text` (if any)."""

    title: str
    due_at: datetime | None
    subject: str | None
    priority: Priority
    notes: str


class TaskCreate(BaseModel):
    """Either `text` in the chat syntax ("Lab report fri 5pm #chem !high") or the fields;
    fields given next to `text` win over what the text says."""

    text: str | None = Field(default=None, max_length=2000)
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    due_at: AwareDatetime | None = None
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    priority: PriorityName | None = None
    notes: str = Field(default="", max_length=5000)

    _utc = field_validator("due_at")(_in_utc)

    def resolve(self, user: User, now: datetime) -> NewTask:
        """The task to create, reading `text` in the user's zone and language."""
        languages = languages_for(user.locale)
        parsed = parse_task_text(self.text, now, user_zone(user), languages) if self.text else None
        title = self.title if self.title is not None else (parsed.title if parsed else "")
        if not title.strip():
            raise BadInput('A task needs a title: send "title" or "text" like "Lab report fri".')
        parsed_due = parsed.due.at if parsed and parsed.due else None
        parsed_subject = parsed.subject if parsed else None
        parsed_priority = parsed.priority if parsed else None
        priority = PRIORITY_WORDS[self.priority] if self.priority else parsed_priority
        return NewTask(
            title=title,
            due_at=self.due_at or parsed_due,
            subject=self.subject if self.subject is not None else parsed_subject,
            priority=priority or Priority.MEDIUM,
            notes=self.notes,
        )


class TaskUpdate(BaseModel):
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    due_at: AwareDatetime | None = None
    clear_due: bool = False
    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    priority: PriorityName | None = None
    notes: str | None = Field(default=None, max_length=5000)
    completed: bool | None = Field(default=None, validation_alias=AliasChoices("completed", "done"))

    _utc = field_validator("due_at")(_in_utc)

    def changes(self) -> TaskChanges:
        return TaskChanges(
            title=self.title,
            due_at=self.due_at,
            clear_due=self.clear_due,
            subject=self.subject,
            priority=PRIORITY_WORDS[self.priority] if self.priority else None,
            notes=self.notes,
        )
