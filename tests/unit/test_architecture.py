"""core/ is the product: it must not import adapters, SDKs, web frameworks or Celery."""

import ast
from pathlib import Path

FORBIDDEN = {
    "telegram",
    "discord",
    "slack_bolt",
    "slack_sdk",
    "fastapi",
    "starlette",
    "celery",
    "bots",
    "api",
    "workers",
    "teddy",
    "uvicorn",
    "aiohttp",
}
CORE = Path(__file__).resolve().parents[2] / "core"


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_no_outer_layer_or_platform_sdk() -> None:
    offenders = {
        str(path.relative_to(CORE)): sorted(imported_roots(path) & FORBIDDEN)
        for path in CORE.rglob("*.py")
        if imported_roots(path) & FORBIDDEN
    }
    assert offenders == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("from telegram import Bot\nimport celery.app\n")
    assert imported_roots(sample) & FORBIDDEN == {"telegram", "celery"}
