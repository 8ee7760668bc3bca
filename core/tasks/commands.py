"""/task, /tasks, /done, /edit, /del, /remind, /calendar and the room variants; snoozing
lives in reminder_commands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat import Ctx, Reply, Router
from core.chat.markup import escape, shorten
from core.chat.messages import MAX_ACTION_BYTES, Button
from core.chat.router import CHOICE, INT32_MAX, INTEGER, Param, Suggestion, action_id, parse_number
from core.errors import BadInput
from core.identity.models import Room, User
from core.identity.service import user_zone
from core.tasks import jobs as _jobs  # noqa: F401  (registers the sweeps)
from core.tasks import reminder_commands, service, undo, undo_commands
from core.tasks.models import Task
from core.tasks.parsing import (
    ParsedTask,
    Priority,
    format_local,
    languages_for,
    local_time,
    parse_offsets,
    parse_reminder_text,
    parse_task_text,
)
from core.tasks.reminders import before_phrase
from core.tasks.service import TaskChanges, TaskPage

router = Router()

TASK_USAGE = "/task <title> [due] [#subject] [!high|!medium|!low]"
TASKS_USAGE = "/tasks [today|week|overdue|done|all|#subject]"
PAGE_SIZE = 15
BUTTONS_PER_ROW = 5


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


def _number_param(source: str, what: str) -> Param:
    return Param("number", what, INTEGER, required=True, suggest=source, min_value=1)


PRIORITIES = ("high", "medium", "low")


# Helpers -------------------------------------------------------------------


def _languages(user: User) -> tuple[str, ...]:
    return languages_for(user.locale)


def _parse(ctx: Ctx, text: str) -> ParsedTask:
    return parse_task_text(text, ctx.clock.now(), user_zone(ctx.user), _languages(ctx.user))


def _minutes(ctx: Ctx) -> list[int]:
    return list(ctx.services.settings.task_reminder_minutes)


def _number(args: str, usage: str) -> tuple[int, str]:
    head, _, rest = args.strip().partition(" ")
    if not head:
        raise BadInput(f"Which task? `{usage}` — the number from /tasks.")
    number = parse_number(head, INT32_MAX)
    if number is None:
        raise BadInput(f"“{escape(shorten(head, 20))}” is not a task number. `{usage}`, e.g. 3.")
    return number, rest.strip()


def _when(ctx: Ctx, moment: datetime) -> str:
    zone = user_zone(ctx.user)
    return format_local(local_time(moment, zone), ctx.clock.now().astimezone(zone))


def _tags(task: Task) -> str:
    tags = []
    if task.subject:
        tags.append(f"#{escape(task.subject)}")
    if task.priority != Priority.MEDIUM:
        tags.append(f"!{Priority(task.priority).label}")
    return " · ".join(tags)


def task_line(ctx: Ctx, task: Task, names: dict[int, str]) -> str:
    parts = [f"**{task.number}**. {escape(task.title)}"]
    if task.completed_at is not None:
        who = names.get(task.completed_by_user_id or 0)
        by = f" by {escape(who)}" if who and task.room_id is not None else ""
        parts.append(f"✓ done {_when(ctx, task.completed_at)}{by}")
    elif task.due_at is not None:
        late = " ⚠ overdue" if task.due_at < ctx.clock.now() else ""
        parts.append(f"due {_when(ctx, task.due_at)}{late}")
    tags = _tags(task)
    if tags:
        parts.append(tags)
    return " — ".join(parts)


def _private(ctx: Ctx, room_task: bool) -> bool:
    return ctx.room is not None and not room_task


def _room_id(ctx: Ctx, room: bool) -> int | None:
    if not room:
        return None
    assert ctx.room is not None
    return ctx.room.id


# Adding --------------------------------------------------------------------


async def _add(ctx: Ctx, args: str, *, room: bool) -> Reply:
    command = "/roomtask" if room else "/task"
    if not args.strip():
        return Reply.text(
            f"What's the task? `{command} <title> [due] [#subject] [!priority]`, "
            f"e.g. {command} Lab report fri 5pm #chem !high"
        )
    parsed = _parse(ctx, args)
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
        room_id=_room_id(ctx, room),
        reminder_minutes=_minutes(ctx),
    )
    edit = "/roomedit" if room else "/edit"
    tags = _tags(task)
    lines = [f"Added **{task.number}**. {escape(task.title)}" + (f" — {tags}" if tags else "")]
    if task.due_at is not None:
        lines.append(f"due {_when(ctx, task.due_at)} — reply {edit} {task.number} to change")
    else:
        lines.append(f"No due date. Add one with {edit} {task.number} fri 5pm.")
    # What the parser guessed or left alone ("!urgent" taken as !high), said, not hidden.
    lines.extend(f"({escape(note)})" for note in parsed.notes)
    return Reply.text("\n".join(lines), _done_buttons([task]), private=_private(ctx, room))


@router.command(
    "task",
    usage=TASK_USAGE,
    summary="add a task",
    area="tasks",
    params=_task_params("what to do, e.g. Lab report (a due date may follow)"),
)
async def task_cmd(ctx: Ctx, args: str) -> Reply:
    return await _add(ctx, args, room=False)


@router.command(
    "roomtask",
    usage="/roomtask <title> [due] [#subject] [!priority]",
    summary="add a task shared by this room",
    area="rooms",
    rooms_only=True,
    params=_task_params("what the room has to do (a due date may follow)"),
)
async def roomtask_cmd(ctx: Ctx, args: str) -> Reply:
    return await _add(ctx, args, room=True)


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


# Listing -------------------------------------------------------------------


def _view_arg(args: str) -> tuple[str, str | None]:
    arg = args.strip().lower()
    if not arg:
        return "open", None
    if arg.startswith("#") and len(arg) > 1:
        return "open", arg[1:]
    if arg in service.VIEWS:
        return arg, None
    raise BadInput(f"I can list: today, week, overdue, done, all or #subject. `{TASKS_USAGE}`")


async def _list(ctx: Ctx, view: str, subject: str | None, offset: int, *, room: bool) -> Reply:
    page = await service.list_tasks(
        ctx.session,
        ctx.user.id,
        view,
        now=ctx.clock.now(),
        zone=user_zone(ctx.user),
        subject=subject,
        room_id=_room_id(ctx, room),
        limit=PAGE_SIZE,
        offset=offset,
    )
    return _render_page(ctx, page, await _names(ctx, page), room=room)


async def _names(ctx: Ctx, page: TaskPage) -> dict[int, str]:
    ids = {t.completed_by_user_id for t in page.tasks if t.completed_by_user_id is not None}
    return await service.display_names(ctx.session, ids)


def _heading(page: TaskPage, room: bool) -> str:
    what = {
        "open": "open tasks",
        "today": "tasks due today",
        "week": "tasks due this week",
        "overdue": "overdue tasks",
        "done": "done tasks",
        "all": "tasks",
    }[page.view]
    if page.subject:
        what += f" in #{escape(page.subject)}"
    owner = "This room's" if room else "Your"
    return f"**{owner} {what}** ({page.total})"


def _render_page(ctx: Ctx, page: TaskPage, names: dict[int, str], *, room: bool) -> Reply:
    if page.total == 0:
        add = "/roomtask" if room else "/task"
        empty = "Nothing here." if page.view != "open" else "No open tasks."
        return Reply.text(
            f"{_heading(page, room)}\n{empty} Add one with {add} <title> [due].",
            private=_private(ctx, room),
        )
    lines = [_heading(page, room)]
    lines += [f"- {task_line(ctx, t, names)}" for t in page.tasks]
    rows = _done_buttons([t for t in page.tasks if t.completed_at is None])
    if page.has_more:
        shown = page.offset + len(page.tasks)
        lines.append(f"Showing {page.offset + 1}–{shown} of {page.total}.")
        name = "tasks.rpage" if room else "tasks.page"
        view = f"#{page.subject}" if page.subject else page.view
        action = action_id(name, view, shown)
        if len(action.encode()) <= MAX_ACTION_BYTES:  # a long non-ASCII #subject may not fit
            rows.append([Button("More ▸", action)])
    return Reply.text("\n".join(lines), rows, private=_private(ctx, room))


def _done_buttons(tasks: list[Task]) -> list[list[Button]]:
    buttons = [
        Button(f"✓ {t.number}", action_id("tasks.done", t.id))
        for t in tasks
        if t.completed_at is None
    ]
    return [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]


@router.command(
    "tasks",
    usage=TASKS_USAGE,
    summary="list tasks with buttons to complete them",
    area="tasks",
    params=_list_params("your"),
)
async def tasks_cmd(ctx: Ctx, args: str) -> Reply:
    view, subject = _view_arg(args)
    return await _list(ctx, view, subject, 0, room=False)


@router.command(
    "roomtasks",
    usage="/roomtasks [today|week|overdue|done|all|#subject]",
    summary="this room's shared tasks",
    area="rooms",
    rooms_only=True,
    params=_list_params("the room's"),
)
async def roomtasks_cmd(ctx: Ctx, args: str) -> Reply:
    view, subject = _view_arg(args)
    return await _list(ctx, view, subject, 0, room=True)


async def _page_action(ctx: Ctx, payload: str, *, room: bool) -> Reply:
    view, _, offset_text = payload.rpartition(":")
    offset = parse_number(offset_text)
    if offset is None:
        return Reply.text("That button has expired. Send /tasks again.")
    chosen, subject = _view_arg(view)
    if room and ctx.room is None:
        return Reply.text("That list belongs to a room.")
    return await _list(ctx, chosen, subject, offset, room=room)


@router.action("tasks.page")
async def page_action(ctx: Ctx, payload: str) -> Reply:
    return await _page_action(ctx, payload, room=False)


@router.action("tasks.rpage")
async def room_page_action(ctx: Ctx, payload: str) -> Reply:
    return await _page_action(ctx, payload, room=True)


# Changing ------------------------------------------------------------------


async def _done(ctx: Ctx, args: str, *, room: bool) -> Reply:
    usage = "/roomdone <n>" if room else "/done <n>"
    number, _ = _number(args, usage)
    task = await service.task_by_number(
        ctx.session, ctx.user.id, number, room_id=_room_id(ctx, room)
    )
    before = undo.snapshot(task)
    task = await service.complete_task(
        ctx.session, ctx.user.id, task.id, now=ctx.clock.now(), reminder_minutes=_minutes(ctx)
    )
    await undo.record(ctx.session, ctx.user.id, "done", task.id, before, ctx.clock.now())
    return _done_reply(ctx, task, room=room)


def _done_reply(ctx: Ctx, task: Task, *, room: bool) -> Reply:
    if task.completed_at is None:
        return Reply.text(f"Reopened {task_line(ctx, task, {})}", private=_private(ctx, room))
    by = f" by {escape(ctx.user.display_name)}" if task.room_id is not None else ""
    return Reply.text(
        f"✓ Done{by}: **{task.number}**. {escape(task.title)}",
        [Button("Undo", action_id("tasks.undo", task.id))],
        private=_private(ctx, room),
    )


@router.command(
    "done",
    usage="/done <n>",
    summary="complete task n (again: reopen)",
    area="tasks",
    params=(_number_param("task", "the task's number from /tasks"),),
)
async def done_cmd(ctx: Ctx, args: str) -> Reply:
    return await _done(ctx, args, room=False)


@router.command(
    "roomdone",
    usage="/roomdone <n>",
    summary="complete room task n (again: reopen)",
    area="rooms",
    rooms_only=True,
    params=(_number_param("roomtask", "the task's number from /roomtasks"),),
)
async def roomdone_cmd(ctx: Ctx, args: str) -> Reply:
    return await _done(ctx, args, room=True)


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
        reminder_minutes=_minutes(ctx),
    )
    await undo.record(ctx.session, ctx.user.id, "done", task.id, before, ctx.clock.now())
    return _done_reply(ctx, task, room=task.room_id is not None)


@router.action("tasks.undo")
async def undo_action(ctx: Ctx, payload: str) -> Reply:
    task = await service.complete_task(
        ctx.session,
        ctx.user.id,
        _task_id(payload),
        now=ctx.clock.now(),
        done=False,
        reminder_minutes=_minutes(ctx),
    )
    return _done_reply(ctx, task, room=task.room_id is not None)


async def _edit(ctx: Ctx, args: str, *, room: bool) -> Reply:
    usage = ("/roomedit" if room else "/edit") + " <n> <new text with the same syntax as /task>"
    number, rest = _number(args, usage)
    if not rest:
        raise BadInput(f"What should change? `{usage}`, e.g. {number} fri 6pm !high")
    task = await service.task_by_number(
        ctx.session, ctx.user.id, number, room_id=_room_id(ctx, room)
    )
    parsed = _parse(ctx, rest)
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
        reminder_minutes=_minutes(ctx),
    )
    return Reply.text(f"Updated {task_line(ctx, task, {})}", private=_private(ctx, room))


@router.command(
    "edit",
    usage="/edit <n> <new text with the same syntax>",
    summary="change title, due, subject or priority",
    area="tasks",
    params=(
        _number_param("task", "the task's number from /tasks"),
        Param(
            "changes", "new title, due, #subject or !priority, e.g. fri 6pm !high", required=True
        ),
    ),
)
async def edit_cmd(ctx: Ctx, args: str) -> Reply:
    return await _edit(ctx, args, room=False)


@router.command(
    "roomedit",
    usage="/roomedit <n> <new text>",
    summary="change a room task",
    area="rooms",
    rooms_only=True,
    params=(
        _number_param("roomtask", "the task's number from /roomtasks"),
        Param(
            "changes", "new title, due, #subject or !priority, e.g. fri 6pm !high", required=True
        ),
    ),
)
async def roomedit_cmd(ctx: Ctx, args: str) -> Reply:
    return await _edit(ctx, args, room=True)


async def _delete(ctx: Ctx, args: str, *, room: bool) -> Reply:
    number, _ = _number(args, "/roomdel <n>" if room else "/del <n>")
    task = await service.task_by_number(
        ctx.session, ctx.user.id, number, room_id=_room_id(ctx, room)
    )
    before = undo.snapshot(task)
    deleted = await service.delete_task(ctx.session, ctx.user.id, task.id)
    entry = await undo.record(
        ctx.session, ctx.user.id, "deleted", deleted.id, before, ctx.clock.now()
    )
    return Reply.text(
        f"Deleted **{deleted.number}**. {escape(deleted.title)}",
        [undo_commands.undo_button(entry.id)],
        private=_private(ctx, room),
    )


@router.command(
    "del",
    usage="/del <n>",
    summary="delete task n",
    area="tasks",
    params=(_number_param("task", "the task's number from /tasks"),),
)
async def del_cmd(ctx: Ctx, args: str) -> Reply:
    return await _delete(ctx, args, room=False)


@router.command(
    "roomdel",
    usage="/roomdel <n>",
    summary="delete room task n",
    area="rooms",
    rooms_only=True,
    params=(_number_param("roomtask", "the task's number from /roomtasks"),),
)
async def roomdel_cmd(ctx: Ctx, args: str) -> Reply:
    return await _delete(ctx, args, room=True)


# Reminders and the calendar ------------------------------------------------

REMIND_USAGE = "/remind <when> <text>"


@router.command(
    "remind",
    usage=REMIND_USAGE,
    summary="a one-off reminder",
    area="tasks",
    params=(
        Param("when", "e.g. in 20 minutes, tomorrow 9am, fri 17:00", required=True),
        Param("text", "what to remind you of", required=True),
    ),
)
async def remind_cmd(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        raise BadInput(f"`{REMIND_USAGE}`, e.g. /remind tomorrow 9am bring the lab coat")
    found = parse_reminder_text(args, ctx.clock.now(), user_zone(ctx.user), _languages(ctx.user))
    if found is None:
        raise BadInput(
            "I couldn't tell when. Start with the time: /remind in 20 minutes stretch, "
            "/remind tomorrow 9am call mom, /remind fri 17:00 submit essay."
        )
    due, text = found
    twice = await reminder_commands.duplicate_reply(ctx, text, due.at)
    if twice is not None:
        return twice
    reminder = await service.add_reminder(
        ctx.session, ctx.user.id, text, due.at, now=ctx.clock.now()
    )
    return Reply.text(
        f"I'll remind you {_when(ctx, reminder.remind_at)}: {escape(reminder.text)}",
        private=_private(ctx, False),
    )


@router.command(
    "calendar",
    usage="/calendar [reset]",
    summary="a private iCalendar feed URL of your tasks",
    area="tasks",
    params=(
        Param("action", "reset: a new URL (the old one stops working)", CHOICE, choices=("reset",)),
    ),
)
async def calendar_cmd(ctx: Ctx, args: str) -> Reply:
    arg = args.strip().lower()
    if arg not in ("", "reset"):
        raise BadInput("`/calendar` shows your feed URL; `/calendar reset` replaces it.")
    token = await service.calendar_token(
        ctx.session, ctx.user.id, now=ctx.clock.now(), reset=arg == "reset"
    )
    url = service.calendar_url(ctx.services.settings.public_base_url, token)
    intro = "New feed URL; the old one no longer works." if arg else "Your private calendar feed:"
    return Reply.text(
        f"{intro}\n{url}\n\nAdd it in Google Calendar (Other calendars → From URL) or Apple "
        "Calendar (New Calendar Subscription). Anyone with the URL sees your tasks: "
        "/calendar reset makes a new one.",
        private=True,
    )


@router.command(
    "reminders",
    usage="/reminders [1d 1h 0|off]",
    summary="when task reminders arrive, before the due time",
    area="tasks",
    params=(Param("before", "times before the due time, e.g. 1d 1h 0; or off"),),
)
async def reminders_cmd(ctx: Ctx, args: str) -> Reply:
    if args.strip():
        minutes = await service.set_reminder_minutes(
            ctx.session, ctx.user.id, parse_offsets(args), now=ctx.clock.now()
        )
        if not minutes:
            return Reply.text("Task reminders off. Turn them on with /reminders 1h 0.")
        return Reply.text(f"Task reminders: {_offset_list(minutes)}.")
    minutes = await service.reminder_minutes_for(ctx.session, ctx.user.id, _minutes(ctx))
    current = _offset_list(minutes) if minutes else "off"
    return Reply.text(
        f"Task reminders: {current}.\nChange with `/reminders 1d 1h 0` or `/reminders off`."
    )


def _offset_list(minutes: list[int]) -> str:
    return ", ".join(
        "at the due time" if m == 0 else before_phrase(m)[3:] + " before"
        for m in sorted(minutes, reverse=True)
    )


# After this module's own commands, so help lists them in this order.
router.include(reminder_commands.router)
router.include(undo_commands.router)
