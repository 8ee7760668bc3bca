"""Shared set-up for the document benchmarks: the whole core on embedded servers."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from core.chat.messages import Sender
from core.clock import SystemClock
from core.documents.embeddings import EXTRA_KEY, Embedder
from core.identity.models import User
from core.identity.service import user_for_sender
from core.settings import Settings
from teddy.runtime import Core, open_core


@asynccontextmanager
async def bench_core(home: Path | None, embedder: Embedder | None) -> AsyncIterator[Core]:
    """The core on embedded PostgreSQL in `home` (a temporary directory by default)."""
    directory = home or Path(tempfile.mkdtemp(prefix="teddy-bench-"))
    settings = Settings(teddy_home=directory, max_upload_mb=25, _env_file=None)  # type: ignore[call-arg]
    async with open_core(settings, clock=SystemClock()) as core:
        core.services.extra[EXTRA_KEY] = embedder
        yield core


async def bench_user(core: Core, name: str) -> User:
    async with core.db.transaction() as session:
        return await user_for_sender(
            session, Sender("bench", name, name), core.services.clock.now()
        )
