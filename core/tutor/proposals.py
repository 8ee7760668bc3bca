"""Changes the model proposed, waiting for the asker's press.

A proposal is stored (so it survives a restart), belongs to the person whose question led
to it, and runs at most once: only their Confirm within `PROPOSAL_TTL` runs it; anyone
else's press, a second press or a late one does nothing and says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.errors import TeddyError
from core.identity.models import Room, User
from core.tutor import tools
from core.tutor.models import TutorToolProposal

PROPOSAL_TTL = timedelta(hours=24)
MAX_PER_TURN = 3
# Ids come from buttons, which anyone can forge: bound them before they reach SQL.
MAX_ID_DIGITS = 18

# How each final status reads in "That was already …".
SETTLED = {"done": "confirmed", "cancelled": "cancelled", "failed": "failed", "expired": "expired"}
NOT_YOURS = (
    "Only the person who asked can confirm or cancel this (or it no longer exists). "
    "Nothing was done."
)


@dataclass(frozen=True)
class Proposed:
    """A stored proposal as the reply shows it."""

    id: int
    summary: str
    # Proposed after the model read tool results (documents, search hits) in this turn.
    after_reading: bool = False


@dataclass(frozen=True)
class Decision:
    """What a press did, in words for the person who pressed."""

    message: str


def for_model(summary: str) -> str:
    """What the model is told instead of a result: nothing has happened yet."""
    return (
        f"not done yet. Proposed to the student: {summary}. It happens only if they "
        "press Confirm under your answer. Tell them briefly what you proposed; do not say "
        "it is done."
    )


async def propose(
    tc: tools.ToolContext, plan: tools.Plan, now: datetime, *, after_reading: bool
) -> Proposed:
    """Store a planned change for the asker to confirm; `after_reading` when the model
    had read tool results (documents, search hits) before asking for it."""
    proposal = TutorToolProposal(
        user_id=tc.user.id,
        room_id=tc.room.id if tc.room is not None else None,
        tool=plan.tool,
        arguments=plan.arguments,
        summary=plan.summary,
        status="pending",
        result="",
        expires_at=now + PROPOSAL_TTL,
    )
    tc.session.add(proposal)
    await tc.session.flush()
    return Proposed(proposal.id, plan.summary, after_reading)


def parse_id(payload: str) -> int | None:
    """A proposal id from a button payload; None for anything that is not one."""
    if not payload.isascii() or not payload.isdigit() or len(payload) > MAX_ID_DIGITS:
        return None
    return int(payload)


async def decide(
    session: AsyncSession,
    services: Services,
    user: User,
    room: Room | None,
    payload: str,
    *,
    confirm: bool,
) -> Decision:
    """Confirm (run the change) or cancel the user's own pending proposal."""
    proposal_id = parse_id(payload)
    proposal = None
    if proposal_id is not None:
        proposal = await session.scalar(
            select(TutorToolProposal)
            .where(TutorToolProposal.id == proposal_id, TutorToolProposal.user_id == user.id)
            .with_for_update()
        )
    if proposal is None:
        return Decision(NOT_YOURS)
    if proposal.status != "pending":
        settled = SETTLED.get(proposal.status, proposal.status)
        return Decision(f"That was already {settled}; nothing more was done.")
    now = services.clock.now()
    proposal.decided_at = now
    if now >= proposal.expires_at:
        proposal.status = "expired"
        hours = int(PROPOSAL_TTL.total_seconds() // 3600)
        return Decision(
            f"That proposal expired (they last {hours} hours), so nothing was done. "
            "Ask me again if you still want it."
        )
    if not confirm:
        proposal.status = "cancelled"
        return Decision("Cancelled; nothing was done.")
    return await _run(session, services, user, room, proposal)


async def _run(
    session: AsyncSession,
    services: Services,
    user: User,
    room: Room | None,
    proposal: TutorToolProposal,
) -> Decision:
    tc = tools.ToolContext(session, user, room, services)
    try:
        result = await tools.apply(tc, proposal.tool, proposal.arguments)
    except TeddyError as err:
        proposal.status = "failed"
        proposal.result = err.message
        reason = err.message if err.message.endswith(".") else err.message + "."
        return Decision(f"I couldn't do that: {reason} Nothing was changed.")
    proposal.status = "done"
    proposal.result = result
    return Decision(f"Done: {result}")
