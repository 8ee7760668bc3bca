"""Assembles the core: every capability's chat router and models. Adapters build a
`Dispatcher` from `build_router()`; Alembic reads `Base.metadata` after `load_models()`."""

from __future__ import annotations

import importlib

from core.chat.router import Router

# One entry per capability package; each has `commands.py` with a `router`, `models.py`,
# and optionally `jobs.py` with its background jobs and sweeps.
CAPABILITIES: tuple[str, ...] = (
    "identity",
    "rooms",
    "tasks",
    "flashcards",
    "documents",
    "tutor",
    "accounts",
    "analytics",
    "insights",
)
MODEL_ONLY: tuple[str, ...] = ("notify", "maintenance", "installations")


def load_models() -> None:
    for name in CAPABILITIES + MODEL_ONLY:
        importlib.import_module(f"core.{name}.models")


def load_jobs() -> None:
    """Import every capability's `jobs` module (where it has one) so its jobs register."""
    load_models()
    for name in CAPABILITIES + MODEL_ONLY:
        try:
            importlib.import_module(f"core.{name}.jobs")
        except ModuleNotFoundError as err:
            if err.name != f"core.{name}.jobs":
                raise


def build_router() -> Router:
    load_models()
    router = Router()
    for name in CAPABILITIES:
        module = importlib.import_module(f"core.{name}.commands")
        router.include(module.router)
    load_jobs()
    return router
