"""What the schema alone does not say about a person's flashcards (see
core.accounts.userdata). Deleting a user deletes the decks they own, and with them the
other learners' review log of those decks (a room's deck: the database cascades), so those
learners' stats are recounted; the user's own rollup goes with the user."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.capability import UserDataHooks
from core.flashcards.activity import recount, reviewers
from core.flashcards.models import Deck, ReviewLog


async def recount_other_learners(session: AsyncSession, user_id: int) -> None:
    others = ReviewLog.deck_id.in_(select(Deck.id).where(Deck.owner_id == user_id)) & (
        ReviewLog.user_id != user_id
    )
    affected = await reviewers(session, others)
    if affected:
        await session.execute(delete(ReviewLog).where(others))
        await recount(session, affected)


HOOKS = UserDataHooks(delete=recount_other_learners)
