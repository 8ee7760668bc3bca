"""Reading what the core answered and queued in tests."""

from __future__ import annotations

from sqlalchemy import select

from core.chat import Reply
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime


def button(replies: list[Reply], prefix: str) -> str:
    """The action of the last button whose label starts with `prefix`."""
    for reply in reversed(replies):
        for b in reply.buttons:
            if b.label.startswith(prefix):
                return b.action
    raise AssertionError(f"no {prefix!r} button in {[b.label for r in replies for b in r.buttons]}")


async def outbox_texts(core: Runtime, kind: str | None = None) -> list[str]:
    """The text of every message in the outbox (of one kind, when given), oldest first."""
    query = select(OutboxMessage.text).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    async with core.db.transaction() as session:
        return list(await session.scalars(query))
