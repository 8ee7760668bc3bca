"""The attack list (tests/attack_list.py) replayed end to end through `teddy chat`."""

from __future__ import annotations

from pathlib import Path

from teddy.runtime import Runtime
from teddy.servers import Servers
from tests.attack_list import Console, report, run_attacks


def test_every_attack_in_the_list_gets_a_clear_answer(
    core: Runtime, servers: Servers, tmp_path: Path
) -> None:
    outcomes = run_attacks(Console(tmp_path, servers.database_url, servers.redis_url))
    assert len(outcomes) >= 25
    assert [line for line in report(outcomes) if not line.startswith("ok")] == []
