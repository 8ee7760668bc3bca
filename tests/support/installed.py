"""Skip a test module when an optional extra is not installed, without importing it:
`pytest.importorskip("torch")` at the top of a module would import torch (seconds) in
every process that collects the suite, each pytest-xdist worker included, whether or not
it runs one of the module's tests."""

from __future__ import annotations

from importlib.util import find_spec

import pytest


def skip_module_unless_installed(*modules: str) -> None:
    missing = [name for name in modules if find_spec(name) is None]
    if missing:
        pytest.skip(f"could not import {', '.join(missing)}", allow_module_level=True)
