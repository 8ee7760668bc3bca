"""The Undo button under a graded card, and what `/undo` shows after taking a grade back:
the card again, to answer afresh."""

from __future__ import annotations

from core.chat import Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.messages import Button
from core.chat.router import action_id
from core.errors import BadInput, NotFound
from core.flashcards import service, undo
from core.flashcards.models import GradeUndo
from core.flashcards.scheduling import RATING_LABELS

router = Router()


def undo_button(entry_id: int) -> Button:
    return Button("↩ Undo", action_id("fc.undo", entry_id))


@router.action("fc.undo")
async def undo_action(ctx: Ctx, payload: str) -> Reply:
    if not payload.isdecimal() or len(payload) > 18:
        raise BadInput("That button has expired.")
    entry = await undo.entry_for(ctx.session, ctx.user, int(payload), ctx.clock.now())
    return await undo_grade_reply(ctx, entry)


async def undo_grade_reply(ctx: Ctx, entry: GradeUndo) -> Reply:
    """Take the grade back and show the card again, with its session's buttons."""
    now = ctx.clock.now()
    card_id, round_id = entry.card_id, entry.round_id
    rating = await undo.undo_grade(ctx.session, ctx.user, entry)
    card = await service.show_card(ctx.session, ctx.user, card_id, now)
    text = (
        f"↩ Took back **{RATING_LABELS[rating]}**; the card is as it was.\n\n"
        f"_{escape(card.deck_name)}_\n\n{card.question}"
    )
    buttons: list[list[Button]] = []
    if round_id is not None and await _own_round(ctx, round_id):
        shown_ms = int(now.timestamp() * 1000)
        buttons = [
            [Button("Show answer", action_id("fc.show", round_id, card_id, shown_ms))],
            [Button("End session", action_id("fc.end", round_id))],
        ]
    return Reply.text(text, buttons)


async def _own_round(ctx: Ctx, round_id: int) -> bool:
    try:
        await service.get_round(ctx.session, ctx.user, round_id)
    except NotFound:
        return False
    return True
