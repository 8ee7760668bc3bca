"""The task lists (/tasks and /roomtasks): which view was asked for, one page of it, and
the "More ▸" button that pages on."""

from __future__ import annotations

from core.chat import Ctx, Reply
from core.chat.markup import escape
from core.chat.messages import MAX_ACTION_BYTES, Button
from core.chat.router import action_id, parse_number
from core.errors import BadInput
from core.identity.service import user_zone
from core.tasks import service
from core.tasks.service import TaskPage
from core.tasks.task_text import done_buttons, private, room_id_of, task_line

TASKS_USAGE = "/tasks [today|week|overdue|done|all|#subject]"
PAGE_SIZE = 15
HEADINGS = {
    "open": "open tasks",
    "today": "tasks due today",
    "week": "tasks due this week",
    "overdue": "overdue tasks",
    "done": "done tasks",
    "all": "tasks",
}


def view_arg(args: str) -> tuple[str, str | None]:
    """The view and the #subject asked for; the open tasks when nothing was."""
    arg = args.strip().lower()
    if not arg:
        return "open", None
    if arg.startswith("#") and len(arg) > 1:
        return "open", arg[1:]
    if arg in service.VIEWS:
        return arg, None
    raise BadInput(f"I can list: today, week, overdue, done, all or #subject. `{TASKS_USAGE}`")


async def list_page(ctx: Ctx, view: str, subject: str | None, offset: int, *, room: bool) -> Reply:
    page = await service.list_tasks(
        ctx.session,
        ctx.user.id,
        view,
        now=ctx.clock.now(),
        zone=user_zone(ctx.user),
        subject=subject,
        room_id=room_id_of(ctx, room),
        limit=PAGE_SIZE,
        offset=offset,
    )
    return _render_page(ctx, page, await _names(ctx, page), room=room)


async def page_action(ctx: Ctx, payload: str, *, room: bool) -> Reply:
    """The "More ▸" button: `view:offset`."""
    view, _, offset_text = payload.rpartition(":")
    offset = parse_number(offset_text)
    if offset is None:
        return Reply.text("That button has expired. Send /tasks again.")
    chosen, subject = view_arg(view)
    if room and ctx.room is None:
        return Reply.text("That list belongs to a room.")
    return await list_page(ctx, chosen, subject, offset, room=room)


async def _names(ctx: Ctx, page: TaskPage) -> dict[int, str]:
    ids = {t.completed_by_user_id for t in page.tasks if t.completed_by_user_id is not None}
    return await service.display_names(ctx.session, ids)


def _heading(page: TaskPage, room: bool) -> str:
    what = HEADINGS[page.view]
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
            private=private(ctx, room),
        )
    lines = [_heading(page, room)]
    lines += [f"- {task_line(ctx, t, names)}" for t in page.tasks]
    rows = done_buttons([t for t in page.tasks if t.completed_at is None])
    if page.has_more:
        shown = page.offset + len(page.tasks)
        lines.append(f"Showing {page.offset + 1}–{shown} of {page.total}.")
        name = "tasks.rpage" if room else "tasks.page"
        view = f"#{page.subject}" if page.subject else page.view
        action = action_id(name, view, shown)
        if len(action.encode()) <= MAX_ACTION_BYTES:  # a long non-ASCII #subject may not fit
            rows.append([Button("More ▸", action)])
    return Reply.text("\n".join(lines), rows, private=private(ctx, room))
