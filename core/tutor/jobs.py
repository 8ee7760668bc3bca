"""Background work of the tutor."""

from __future__ import annotations

from core.jobs import JobContext, job
from core.tutor import conversation
from core.tutor.photo_job import answer_photo

__all__ = ["answer_photo", "summarize_conversation"]


@job("tutor.summarize")
async def summarize_conversation(jc: JobContext, *, conversation_id: int) -> None:
    """Fold old turns into the conversation's rolling summary (idempotent)."""
    async with jc.db.transaction() as session:
        await conversation.summarize(session, jc.services, conversation_id)
