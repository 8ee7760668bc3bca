"""Each process's entry module imports on its own, in a fresh interpreter: the tests
import `core.chat` first (through the fixtures), which hides an import cycle that only a
process starting from another module meets."""

from __future__ import annotations

import subprocess
import sys

import pytest

ENTRY_MODULES = [
    "teddy.cli",
    "teddy.cli_telegram",
    "teddy.cli_slack",
    "teddy.cli_discord",
    "teddy.cli_api",
    "teddy.embed_service",
    "bots.live",
    "bots.console",
    "bots.telegram.run",
    "bots.slack.run",
    "bots.discord.run",
    "bots.delivery",
    "api.app",
    "workers.app",
    "core.rooms.pubsub",
    "core.outbox.service",
    "core.app",
]


@pytest.mark.parametrize("module", ENTRY_MODULES)
def test_an_entry_module_imports_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
