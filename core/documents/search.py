"""Search that outlives its embeddings service: when the endpoint that embeds the query
(`teddy embed`, or a provider) is down, the same search runs on keywords alone and says so."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from core.documents.embeddings import Embedder, EmbeddingsUnavailable
from core.documents.retrieval import Passage, search_passages

log = logging.getLogger(__name__)

KEYWORD_ONLY_NOTE = (
    "_Search by meaning is unavailable right now: these results match your words only._"
)


@dataclass(frozen=True)
class Found:
    """Passages, and the note to show with them when the search was keyword-only."""

    passages: list[Passage] = field(default_factory=list)
    note: str | None = None


async def find_passages(
    session: AsyncSession,
    *,
    user_id: int,
    room_id: int | None,
    query: str,
    limit: int,
    embedder: Embedder | None,
) -> Found:
    """`search_passages`, falling back to keyword (BM25) search when the query cannot be
    embedded. The failure happens before any vector SQL, so the transaction is intact."""
    try:
        passages = await search_passages(
            session, user_id=user_id, room_id=room_id, query=query, limit=limit, embedder=embedder
        )
        return Found(passages)
    except EmbeddingsUnavailable as err:
        log.warning("query embedding failed, searching by keywords only: %s", err.message)
    passages = await search_passages(
        session, user_id=user_id, room_id=room_id, query=query, limit=limit, embedder=None
    )
    return Found(passages, KEYWORD_ONLY_NOTE)
