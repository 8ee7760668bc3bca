"""`/undo` and the Undo button of a deleted task: the last `/del`, `/done` or review
grade is taken back, within ten minutes."""

from __future__ import annotations

from core.chat import Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.messages import Button
from core.chat.router import action_id
from core.errors import BadInput
from core.flashcards import undo as card_undo
from core.flashcards.undo_commands import undo_grade_reply
from core.tasks import undo
from core.tasks.models import TaskUndo

router = Router()


def undo_button(entry_id: int) -> Button:
    return Button("↩ Undo", action_id("undo.task", entry_id))


@router.command(
    "undo",
    usage="/undo",
    summary="take back your last /del, /done or review grade (within 10 minutes)",
    area="tasks",
)
async def undo_cmd(ctx: Ctx, args: str) -> Reply:
    now = ctx.clock.now()
    task_entry = await undo.latest(ctx.session, ctx.user.id, now)
    grade_entry = await card_undo.latest(ctx.session, ctx.user, now)
    if grade_entry is not None and (
        task_entry is None or grade_entry.created_at >= task_entry.created_at
    ):
        return await undo_grade_reply(ctx, grade_entry)
    if task_entry is not None:
        return await _undo_task(ctx, task_entry)
    return Reply.text(
        "Nothing to undo. I keep /del, /done and review grades undoable for 10 minutes."
    )


@router.action("undo.task")
async def undo_action(ctx: Ctx, payload: str) -> Reply:
    if not payload.isdecimal() or len(payload) > 18:
        raise BadInput("That button has expired.")
    entry = await undo.entry_for(ctx.session, ctx.user.id, int(payload), ctx.clock.now())
    return await _undo_task(ctx, entry)


async def _undo_task(ctx: Ctx, entry: TaskUndo) -> Reply:
    kind = entry.kind
    minutes = list(ctx.services.settings.task_reminder_minutes)
    task = await undo.undo(ctx.session, ctx.user.id, entry, ctx.clock.now(), minutes)
    name = f"**{task.number}**. {escape(task.title)}"
    if kind == "deleted":
        text = f"↩ Restored {name}."
    elif task.completed_at is None:
        text = f"↩ {name} is open again."
    else:
        text = f"↩ {name} is done again."
    private = ctx.room is not None and task.room_id is None
    return Reply.text(text, private=private)
