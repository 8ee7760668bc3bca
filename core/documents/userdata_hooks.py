"""What linking two users means for documents beyond moving rows (see
core.accounts.userdata): documents, chunks and the BM25 statistics are keyed by a scope
string `u:<user id>`, which moves to the surviving user; a document both users uploaded
(same content) is kept once. Deleting a user also deletes the scope's statistics."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.capability import UserDataHooks
from core.documents.indexing import remove_chunks
from core.documents.models import Document
from core.documents.retrieval import user_scope


async def merge_scopes(session: AsyncSession, source_id: int, target_id: int) -> None:
    old, new = user_scope(source_id), user_scope(target_id)
    duplicates = await session.scalars(
        select(Document).where(
            Document.scope == old,
            Document.content_hash.in_(select(Document.content_hash).where(Document.scope == new)),
        )
    )
    for document in list(duplicates):
        await remove_chunks(session, document)
        await session.delete(document)
    await session.flush()
    params = {"old": old, "new": new}
    for statement in (
        "UPDATE documents SET scope = :new WHERE scope = :old",
        "UPDATE document_chunks SET scope = :new WHERE scope = :old",
        """INSERT INTO document_scope_stats (scope, chunks, total_length)
           SELECT :new, chunks, total_length FROM document_scope_stats WHERE scope = :old
           ON CONFLICT (scope) DO UPDATE SET
             chunks = document_scope_stats.chunks + excluded.chunks,
             total_length = document_scope_stats.total_length + excluded.total_length""",
        "DELETE FROM document_scope_stats WHERE scope = :old",
        """INSERT INTO document_lexeme_stats (scope, lexeme, df)
           SELECT :new, lexeme, df FROM document_lexeme_stats WHERE scope = :old
           ORDER BY lexeme
           ON CONFLICT (scope, lexeme) DO UPDATE SET
             df = document_lexeme_stats.df + excluded.df""",
        "DELETE FROM document_lexeme_stats WHERE scope = :old",
    ):
        await session.execute(text(statement), params)


async def delete_scope(session: AsyncSession, user_id: int) -> None:
    """The statistics hold the words of the user's documents: they go with them."""
    params = {"scope": user_scope(user_id)}
    await session.execute(text("DELETE FROM document_lexeme_stats WHERE scope = :scope"), params)
    await session.execute(text("DELETE FROM document_scope_stats WHERE scope = :scope"), params)


HOOKS = UserDataHooks(merge=merge_scopes, delete=delete_scope)
