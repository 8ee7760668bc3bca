"""The data directory and the secret key are their owner's only, from the moment they exist."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.settings import Settings


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 0: any restriction must come from how Teddy creates the file, not from the umask."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_is_created_for_its_owner_only(
    tmp_path: Path, permissive_umask: None
) -> None:
    home = tmp_path / "teddy-home"
    Settings(teddy_home=home, _env_file=None).home()
    assert mode(home) == 0o700


def test_the_secret_key_file_is_created_0600_and_kept(
    tmp_path: Path, permissive_umask: None
) -> None:
    settings = Settings(teddy_home=tmp_path / "h", _env_file=None)
    key = settings.resolved_secret_key()
    path = tmp_path / "h" / "secret_key"
    assert mode(path) == 0o600
    assert len(key) >= 48 and settings.resolved_secret_key() == key


def test_processes_starting_together_agree_on_one_secret_key(tmp_path: Path) -> None:
    home = tmp_path / "h"

    def first_run(_: int) -> str:
        return Settings(teddy_home=home, _env_file=None).resolved_secret_key()

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(first_run, range(32)))
    assert len(keys) == 1
    assert (home / "secret_key").read_text() == keys.pop()
