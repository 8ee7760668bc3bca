"""What goes under a tutor answer, in chat or from the photo job: the proposed changes
waiting for a press, a provider error, and their buttons."""

from __future__ import annotations

from collections.abc import Sequence

from core.chat import Button
from core.chat.markup import escape
from core.chat.router import action_id
from core.tutor.proposals import Proposed
from core.tutor.turn import TurnResult


def answer_extras(result: TurnResult, note: str = "") -> tuple[str, list[list[Button]]]:
    """What goes under a tutor answer: `note`, the proposed changes, a provider error;
    and their buttons (Confirm/Cancel per proposal, Try again)."""
    footers = [note] if note else []
    if result.proposals:
        footers.append(_proposals_note(result.proposals))
    rows = _proposal_buttons(result.proposals)
    if result.error is not None:
        footers.append(
            f"⚠️ {escape(result.error)} Your message is saved: tap Try again in a moment."
        )
        rows.append([Button("Try again", action_id("tutor.retry", result.message_id))])
    return "\n\n".join(footers), rows


def _proposals_note(proposed: Sequence[Proposed]) -> str:
    """The changes waiting for a press, in Teddy's words (the model's text above them can
    say anything)."""
    if len(proposed) == 1:
        lines = [f"**I'd like to {escape(proposed[0].summary)}.**"]
    else:
        lines = ["**I'd like to:**"]
        lines += [f"{n}. {escape(p.summary)}" for n, p in enumerate(proposed, 1)]
    lines.append("Nothing happens until you press Confirm; only you can confirm it.")
    if any(p.after_reading for p in proposed):
        lines.append(
            "⚠️ I proposed this after I read documents or search results: check it, and "
            "don't confirm a change you did not ask for."
        )
    return "\n".join(lines)


def _proposal_buttons(proposed: Sequence[Proposed]) -> list[list[Button]]:
    """One row per proposal: Confirm and Cancel (numbered when there are several)."""
    rows: list[list[Button]] = []
    for n, p in enumerate(proposed, 1):
        suffix = f" {n}" if len(proposed) > 1 else ""
        confirm = Button(f"Confirm{suffix}", action_id("tutor.tool_ok", p.id))
        rows.append([confirm, Button(f"Cancel{suffix}", action_id("tutor.tool_no", p.id))])
    return rows
