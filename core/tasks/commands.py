"""Task commands. Each works on the person's own tasks and, with a `room` prefix, on the
tasks a room shares (/task + /roomtask, /tasks + /roomtasks, /done + /roomdone, /edit +
/roomedit, /del + /roomdel): one handler and one row of `PAIRS` per pair. The router also
includes /remind, /reminders and /snooze (reminder_commands), /calendar
(calendar_commands) and /undo."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat import Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.router import CHOICE, INTEGER, Handler, Param, Suggestion, parse_number
from core.errors import BadInput
from core.identity.models import Room, User
from core.tasks import (
    calendar_commands,
    reminder_commands,
    service,
    task_views,
    undo,
    undo_commands,
)
from core.tasks.parsing import Priority
from core.tasks.service import TaskChanges
from core.tasks.task_text import (
    default_minutes,
    done_buttons,
    done_reply,
    parse,
    private,
    room_id_of,
    tags,
    task_line,
    task_number,
    when,
)

router = Router()

PRIORITIES = ("high", "medium", "low")

# (ctx, args, room) -> reply: the work of one command pair, `room` telling which of the two.
PairHandler = Callable[[Ctx, str, bool], Awaitable[Reply]]


# Adding --------------------------------------------------------------------


async def _add(ctx: Ctx, args: str, room: bool) -> Reply:
    command = "/roomtask" if room else "/task"
    if not args.strip():
        return Reply.text(
            f"What's the task? `{command} <title> [due] [#subject] [!priority]`, "
            f"e.g. {command} Lab report fri 5pm #chem !high"
        )
    parsed = parse(ctx, args)
    if not parsed.title:
        raise BadInput(f"That has no title. `{command} Lab report fri 5pm`")
    task = await service.create_task(
        ctx.session,
        ctx.user.id,
        title=parsed.title,
        now=ctx.clock.now(),
        due_at=parsed.due.at if parsed.due else None,
        subject=parsed.subject,
        priority=parsed.priority or Priority.MEDIUM,
        room_id=room_id_of(ctx, room),
        reminder_minutes=default_minutes(ctx),
    )
    edit = "/roomedit" if room else "/edit"
    task_tags = tags(task)
    lines = [
        f"Added **{task.number}**. {escape(task.title)}" + (f" — {task_tags}" if task_tags else "")
    ]
    if task.due_at is not None:
        lines.append(f"due {when(ctx, task.due_at)} — reply {edit} {task.number} to change")
    else:
        lines.append(f"No due date. Add one with {edit} {task.number} fri 5pm.")
    # What the parser guessed or left alone ("!urgent" taken as !high), said, not hidden.
    lines.extend(f"({escape(note)})" for note in parsed.notes)
    return Reply.text("\n".join(lines), done_buttons([task]), private=private(ctx, room))


# Listing -------------------------------------------------------------------


async def _list(ctx: Ctx, args: str, room: bool) -> Reply:
    view, subject = task_views.view_arg(args)
    return await task_views.list_page(ctx, view, subject, 0, room=room)


# Changing ------------------------------------------------------------------


async def _done(ctx: Ctx, args: str, room: bool) -> Reply:
    usage = "/roomdone <n>" if room else "/done <n>"
    number, _ = task_number(args, usage)
    task = await service.task_by_number(
        ctx.session, ctx.user.id, number, room_id=room_id_of(ctx, room)
    )
    before = undo.snapshot(task)
    task = await service.complete_task(
        ctx.session,
        ctx.user.id,
        task.id,
        now=ctx.clock.now(),
        reminder_minutes=default_minutes(ctx),
    )
    await undo.record(ctx.session, ctx.user.id, "done", task.id, before, ctx.clock.now())
    return done_reply(ctx, task, room=room)


async def _edit(ctx: Ctx, args: str, room: bool) -> Reply:
    usage = ("/roomedit" if room else "/edit") + " <n> <new text with the same syntax as /task>"
    number, rest = task_number(args, usage)
    if not rest:
        raise BadInput(f"What should change? `{usage}`, e.g. {number} fri 6pm !high")
    task = await service.task_by_number(
        ctx.session, ctx.user.id, number, room_id=room_id_of(ctx, room)
    )
    parsed = parse(ctx, rest)
    changes = TaskChanges(
        title=parsed.title or None,
        due_at=parsed.due.at if parsed.due else None,
        clear_due=parsed.clear_due,
        subject=parsed.subject,
        priority=parsed.priority,
    )
    task = await service.update_task(
        ctx.session,
        ctx.user.id,
        task.id,
        changes,
        now=ctx.clock.now(),
        reminder_minutes=default_minutes(ctx),
    )
    return Reply.text(f"Updated {task_line(ctx, task, {})}", private=private(ctx, room))


async def _delete(ctx: Ctx, args: str, room: bool) -> Reply:
    number, _ = task_number(args, "/roomdel <n>" if room else "/del <n>")
    task = await service.task_by_number(
        ctx.session, ctx.user.id, number, room_id=room_id_of(ctx, room)
    )
    before = undo.snapshot(task)
    deleted = await service.delete_task(ctx.session, ctx.user.id, task.id)
    entry = await undo.record(
        ctx.session, ctx.user.id, "deleted", deleted.id, before, ctx.clock.now()
    )
    return Reply.text(
        f"Deleted **{deleted.number}**. {escape(deleted.title)}",
        [undo_commands.undo_button(entry.id)],
        private=private(ctx, room),
    )


# The pairs -----------------------------------------------------------------


def _task_params(title: str) -> tuple[Param, ...]:
    return (
        Param("title", title, required=True),
        Param("due", "when it is due, e.g. fri 5pm, tomorrow, in 3 days"),
        Param("subject", "a subject tag, e.g. chem", prefix="#"),
        Param("priority", "high, medium or low", CHOICE, choices=PRIORITIES, prefix="!"),
    )


def _list_params(whose: str) -> tuple[Param, ...]:
    return (
        Param(
            "view",
            f"which of {whose} tasks (default: the open ones)",
            CHOICE,
            choices=service.VIEWS,
        ),
        Param("subject", "only this subject", prefix="#"),
    )


def _number_params(room: bool, *more: Param) -> tuple[Param, ...]:
    source, listing = ("roomtask", "/roomtasks") if room else ("task", "/tasks")
    number = Param(
        "number",
        f"the task's number from {listing}",
        INTEGER,
        required=True,
        suggest=source,
        min_value=1,
    )
    return (number, *more)


_CHANGES = Param(
    "changes", "new title, due, #subject or !priority, e.g. fri 6pm !high", required=True
)


@dataclass(frozen=True)
class Usage:
    """What help shows for one command of a pair."""

    usage: str
    summary: str
    params: tuple[Param, ...]


@dataclass(frozen=True)
class CommandPair:
    """A personal command (`name`, in the tasks area) and its room twin (`room` + name,
    in the rooms area, refused outside a room), both run by `handler`."""

    name: str
    handler: PairHandler
    personal: Usage
    room: Usage


PAIRS: tuple[CommandPair, ...] = (
    CommandPair(
        "task",
        _add,
        Usage(
            "/task <title> [due] [#subject] [!high|!medium|!low]",
            "add a task",
            _task_params("what to do, e.g. Lab report (a due date may follow)"),
        ),
        Usage(
            "/roomtask <title> [due] [#subject] [!priority]",
            "add a task shared by this room",
            _task_params("what the room has to do (a due date may follow)"),
        ),
    ),
    CommandPair(
        "tasks",
        _list,
        Usage(
            task_views.TASKS_USAGE,
            "list tasks with buttons to complete them",
            _list_params("your"),
        ),
        Usage(
            "/roomtasks [today|week|overdue|done|all|#subject]",
            "this room's shared tasks",
            _list_params("the room's"),
        ),
    ),
    CommandPair(
        "done",
        _done,
        Usage("/done <n>", "complete task n (again: reopen)", _number_params(False)),
        Usage("/roomdone <n>", "complete room task n (again: reopen)", _number_params(True)),
    ),
    CommandPair(
        "edit",
        _edit,
        Usage(
            "/edit <n> <new text with the same syntax>",
            "change title, due, subject or priority",
            _number_params(False, _CHANGES),
        ),
        Usage("/roomedit <n> <new text>", "change a room task", _number_params(True, _CHANGES)),
    ),
    CommandPair(
        "del",
        _delete,
        Usage("/del <n>", "delete task n", _number_params(False)),
        Usage("/roomdel <n>", "delete room task n", _number_params(True)),
    ),
)


def _bound(handler: PairHandler, room: bool) -> Handler:
    async def run(ctx: Ctx, args: str) -> Reply:
        return await handler(ctx, args, room)

    return run


def register_pair(target: Router, pair: CommandPair) -> None:
    for room, usage in ((False, pair.personal), (True, pair.room)):
        target.command(
            f"room{pair.name}" if room else pair.name,
            usage=usage.usage,
            summary=usage.summary,
            area="rooms" if room else "tasks",
            rooms_only=room,
            params=usage.params,
        )(_bound(pair.handler, room))


for _pair in PAIRS:
    register_pair(router, _pair)


# Suggestions while a task number is typed -----------------------------------


async def _task_suggestions(
    session: AsyncSession, user: User, room_id: int | None, typed: str
) -> list[Suggestion]:
    tasks = await service.open_tasks_matching(session, user.id, typed, room_id=room_id)
    return [Suggestion(f"{t.number}. {t.title}", str(t.number)) for t in tasks]


@router.suggestions("task")
async def suggest_tasks(
    session: AsyncSession, user: User, room: Room | None, typed: str
) -> list[Suggestion]:
    return await _task_suggestions(session, user, None, typed)


@router.suggestions("roomtask")
async def suggest_room_tasks(
    session: AsyncSession, user: User, room: Room | None, typed: str
) -> list[Suggestion]:
    return [] if room is None else await _task_suggestions(session, user, room.id, typed)


# Buttons -------------------------------------------------------------------


@router.action("tasks.page")
async def page_action(ctx: Ctx, payload: str) -> Reply:
    return await task_views.page_action(ctx, payload, room=False)


@router.action("tasks.rpage")
async def room_page_action(ctx: Ctx, payload: str) -> Reply:
    return await task_views.page_action(ctx, payload, room=True)


def _task_id(payload: str) -> int:
    task_id = parse_number(payload)
    if task_id is None:
        raise BadInput("That button has expired. Send /tasks again.")
    return task_id


@router.action("tasks.done")
async def done_action(ctx: Ctx, payload: str) -> Reply:
    before = undo.snapshot(await service.task_by_id(ctx.session, ctx.user.id, _task_id(payload)))
    task = await service.complete_task(
        ctx.session,
        ctx.user.id,
        _task_id(payload),
        now=ctx.clock.now(),
        done=True,
        reminder_minutes=default_minutes(ctx),
    )
    await undo.record(ctx.session, ctx.user.id, "done", task.id, before, ctx.clock.now())
    return done_reply(ctx, task, room=task.room_id is not None)


@router.action("tasks.undo")
async def undo_action(ctx: Ctx, payload: str) -> Reply:
    task = await service.complete_task(
        ctx.session,
        ctx.user.id,
        _task_id(payload),
        now=ctx.clock.now(),
        done=False,
        reminder_minutes=default_minutes(ctx),
    )
    return done_reply(ctx, task, room=task.room_id is not None)


# After this module's own commands, so help lists them in this order.
router.include(reminder_commands.router)
router.include(calendar_commands.router)
router.include(undo_commands.router)
