"""Shared set-up for the document benchmarks: the whole core on embedded servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench._common import bench_core as shared_bench_core
from core.chat.messages import Sender
from core.documents.embeddings import Embedder
from core.identity.models import User
from core.identity.service import user_for_sender
from teddy.runtime import Runtime


@asynccontextmanager
async def bench_core(home: Path | None, embedder: Embedder | None) -> AsyncIterator[Runtime]:
    """The core on embedded PostgreSQL in `home` (a temporary directory by default), with
    this embedder (None: keyword search only)."""
    async with shared_bench_core(home, max_upload_mb=25) as core:
        core.services.embedder = embedder
        yield core


async def bench_user(core: Runtime, name: str) -> User:
    async with core.db.transaction() as session:
        return await user_for_sender(
            session, Sender("bench", name, name), core.services.clock.now()
        )
