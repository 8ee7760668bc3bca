"""Which tests share a pytest-xdist worker (`--dist loadgroup`). A pytest plugin:
tests/conftest.py loads it.

Each worker has its own embedded PostgreSQL and Redis (the session fixtures start them in
a temporary directory of their own), so most tests may run anywhere. A test module whose
fixtures are module-scoped (`teddy up` started once, an embedding service, network
namespaces) runs on one worker: split over several, each would pay for the fixture again.
The tests that drive Chromium take turns on one worker: several browsers at once, each
with the `teddy api` it talks to, slow every page on two cores past the tests' waits; so
do the tests that run the whole of `teddy up` (each of its processes, its own servers),
which time how fast it stops.
"""

from __future__ import annotations

import pytest

_SHARED_SCOPES = frozenset({"module", "class", "package"})
# Path prefix of test modules -> the group they share.
_GROUPS_BY_PATH = {"tests/e2e/test_browser": "chromium", "tests/e2e/test_up": "teddy-up"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks (it names the groups then)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = group_of(item)
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))


def group_of(item: pytest.Item) -> str | None:
    """The group named for its path, else the module's path when the test uses a fixture
    set up once for several tests."""
    path = item.nodeid.split("::", 1)[0]
    for prefix, group in _GROUPS_BY_PATH.items():
        if path.startswith(prefix):
            return group
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    for definitions in info.name2fixturedefs.values():
        if any(definition.scope in _SHARED_SCOPES for definition in definitions):
            return path
    return None
