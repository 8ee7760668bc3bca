"""`teddy up` with the local model: one `teddy embed` child holds it, and the API asks it
for query embeddings without ever loading torch."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import psutil
import pytest

from core.documents.embeddings import LOCAL_MODEL, LocalEmbedder
from teddy.supervisor import UpState
from tests.e2e.test_up import status, up, wait_until

__all__ = ["up"]  # the fixture, shared with test_up

pytestmark = pytest.mark.skipif(
    not LocalEmbedder.available(), reason="the local-embeddings extra is not installed"
)


def test_teddy_up_serves_the_model_from_one_embed_child_and_the_api_loads_no_torch(
    up: tuple[subprocess.Popen[bytes], Path, Path],
) -> None:
    process, home, log = up

    def started() -> bool:
        assert process.poll() is None, log.read_text()
        report = status(home)
        return "embed      running" in report and "api        running" in report

    def api_environment() -> dict[str, str]:
        """The API child's environment; empty while it is not (or no longer) running: an
        API that exited, say on a port another test's process still held, is restarted
        by the supervisor under a new pid."""
        state = UpState.read(home / "run" / "up.json")
        assert state is not None
        pid = {c.name: c.pid for c in state.children}["api"]
        try:
            return psutil.Process(pid).environ()
        except psutil.Error:
            return {}

    wait_until(started, 180, "teddy up to start", log)
    wait_until(lambda: "TEDDY_HOME" in api_environment(), 120, "the API to run", log)
    url = api_environment()["EMBEDDINGS_URL"]
    state = UpState.read(home / "run" / "up.json")
    assert state is not None
    pids = {c.name: c.pid for c in state.children}
    api = psutil.Process(pids["api"])
    assert "EMBEDDINGS_URL" not in psutil.Process(pids["worker"]).environ()

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, 240, "teddy embed to load the model", log)
    body = {"model": LOCAL_MODEL, "input": "a question"}
    answer = httpx.post(f"{url}/v1/embeddings", json=body, timeout=30).json()
    assert len(answer["data"][0]["embedding"]) == 384
    mapped = {m.path for m in api.memory_maps()}
    assert not [path for path in mapped if "torch" in path], "the API loaded torch"
