"""How tasks read in chat, shared by the task commands: a task's line with its tags and
times in the user's zone, what was typed parsed as a task, and the ✓ buttons."""

from __future__ import annotations

from datetime import datetime

from core.chat import Ctx, Reply
from core.chat.markup import escape, shorten
from core.chat.messages import Button
from core.chat.router import INT32_MAX, action_id, parse_number
from core.errors import BadInput
from core.identity.models import User
from core.identity.service import user_zone
from core.tasks.models import Task
from core.tasks.parsing import (
    ParsedTask,
    Priority,
    format_local,
    languages_for,
    local_time,
    parse_task_text,
)

BUTTONS_PER_ROW = 5


def languages(user: User) -> tuple[str, ...]:
    return languages_for(user.locale)


def parse(ctx: Ctx, text: str) -> ParsedTask:
    return parse_task_text(text, ctx.clock.now(), user_zone(ctx.user), languages(ctx.user))


def default_minutes(ctx: Ctx) -> list[int]:
    """The deployment's reminder offsets, for users who never chose their own."""
    return list(ctx.services.settings.task_reminder_minutes)


def task_number(args: str, usage: str) -> tuple[int, str]:
    """The task number that starts `args`, and the rest of the text."""
    head, _, rest = args.strip().partition(" ")
    if not head:
        raise BadInput(f"Which task? `{usage}` — the number from /tasks.")
    number = parse_number(head, INT32_MAX)
    if number is None:
        raise BadInput(f"“{escape(shorten(head, 20))}” is not a task number. `{usage}`, e.g. 3.")
    return number, rest.strip()


def when(ctx: Ctx, moment: datetime) -> str:
    zone = user_zone(ctx.user)
    return format_local(local_time(moment, zone), ctx.clock.now().astimezone(zone))


def tags(task: Task) -> str:
    found = []
    if task.subject:
        found.append(f"#{escape(task.subject)}")
    if task.priority != Priority.MEDIUM:
        found.append(f"!{Priority(task.priority).label}")
    return " · ".join(found)


def task_line(ctx: Ctx, task: Task, names: dict[int, str]) -> str:
    parts = [f"**{task.number}**. {escape(task.title)}"]
    if task.completed_at is not None:
        who = names.get(task.completed_by_user_id or 0)
        by = f" by {escape(who)}" if who and task.room_id is not None else ""
        parts.append(f"✓ done {when(ctx, task.completed_at)}{by}")
    elif task.due_at is not None:
        late = " ⚠ overdue" if task.due_at < ctx.clock.now() else ""
        parts.append(f"due {when(ctx, task.due_at)}{late}")
    task_tags = tags(task)
    if task_tags:
        parts.append(task_tags)
    return " — ".join(parts)


def private(ctx: Ctx, room_task: bool) -> bool:
    """A personal task's reply in a room goes to the person alone."""
    return ctx.room is not None and not room_task


def room_id_of(ctx: Ctx, room: bool) -> int | None:
    if not room:
        return None
    assert ctx.room is not None
    return ctx.room.id


def done_buttons(tasks: list[Task]) -> list[list[Button]]:
    buttons = [
        Button(f"✓ {t.number}", action_id("tasks.done", t.id))
        for t in tasks
        if t.completed_at is None
    ]
    return [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]


def done_reply(ctx: Ctx, task: Task, *, room: bool) -> Reply:
    if task.completed_at is None:
        return Reply.text(f"Reopened {task_line(ctx, task, {})}", private=private(ctx, room))
    by = f" by {escape(ctx.user.display_name)}" if task.room_id is not None else ""
    return Reply.text(
        f"✓ Done{by}: **{task.number}**. {escape(task.title)}",
        [Button("Undo", action_id("tasks.undo", task.id))],
        private=private(ctx, room),
    )
