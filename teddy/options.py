"""What every `teddy` command shares: the `--home` option and reading the settings.
Imported by every command module at `teddy --help`, so the settings load lazily."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from core.settings import Settings

home_option = click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), help="Data directory (TEDDY_HOME)."
)


def read_settings(home: Path | None) -> Settings:
    """The settings, with `--home` (when given) as the data directory."""
    from core.settings import Settings

    if home is not None:
        os.environ["TEDDY_HOME"] = str(home)
    return Settings()


def load_settings(home: Path | None) -> Settings:
    """`read_settings`, and logging configured from them (for long-running commands)."""
    from core.logs import configure_logging

    settings = read_settings(home)
    configure_logging(settings.log_level, settings.log_format)
    return settings
