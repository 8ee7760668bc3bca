"""Assembles the core: every capability's chat router and models. Adapters build a
`Dispatcher` from `build_router()`; Alembic reads `Base.metadata` after `load_models()`."""

from __future__ import annotations

import importlib

from core.chat.router import Router

# One entry per capability package; each has `commands.py` with a `router` and `models.py`.
CAPABILITIES: tuple[str, ...] = ("identity",)
MODEL_ONLY: tuple[str, ...] = ("notify",)


def load_models() -> None:
    for name in CAPABILITIES + MODEL_ONLY:
        importlib.import_module(f"core.{name}.models")


def build_router() -> Router:
    load_models()
    router = Router()
    for name in CAPABILITIES:
        module = importlib.import_module(f"core.{name}.commands")
        router.include(module.router)
    return router
