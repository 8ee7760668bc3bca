"""Counting what tests left in the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from teddy.runtime import Runtime


async def count(core: Runtime, model: type[Any]) -> int:
    """How many rows the model's table holds."""
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)
