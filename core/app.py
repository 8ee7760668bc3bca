"""Assembles the core from its capabilities, listed once in `capabilities()`. Adapters
build a `Dispatcher` from `build_router()`; workers and `teddy jobs` call `load_jobs()`;
Alembic reads `Base.metadata` after `load_models()`; the data export and /stats read what
each capability declares. A new capability package adds one `Capability` here."""

from __future__ import annotations

import functools
from types import ModuleType

from core.capability import ActivitySource, Capability, DigestLines
from core.chat.router import Router


def model_modules() -> tuple[ModuleType, ...]:
    """Every capability's models, so that `Base.metadata` holds every table. Cheaper than
    `capabilities()` (no commands, no jobs): Alembic and the schema readers use it."""
    from core.accounts import models as accounts
    from core.analytics import models as analytics
    from core.documents import models as documents
    from core.flashcards import models as flashcards
    from core.identity import models as identity
    from core.insights import models as insights
    from core.installations import models as installations
    from core.maintenance import models as maintenance
    from core.outbox import models as outbox
    from core.rooms import models as rooms
    from core.tasks import models as tasks
    from core.tutor import models as tutor

    return (
        identity,
        rooms,
        tasks,
        flashcards,
        documents,
        tutor,
        accounts,
        analytics,
        insights,
        outbox,
        maintenance,
        installations,
    )


def load_models() -> None:
    model_modules()


@functools.cache
def capabilities() -> tuple[Capability, ...]:
    """Every capability, in the order help lists their commands."""
    from core.accounts import commands as accounts_commands
    from core.accounts import jobs as accounts_jobs
    from core.accounts import models as accounts_models
    from core.analytics import commands as analytics_commands
    from core.analytics import models as analytics_models
    from core.analytics import userdata_hooks as analytics_userdata
    from core.documents import commands as documents_commands
    from core.documents import jobs as documents_jobs
    from core.documents import models as documents_models
    from core.documents import userdata_hooks as documents_userdata
    from core.flashcards import commands as flashcards_commands
    from core.flashcards import jobs as flashcards_jobs
    from core.flashcards import models as flashcards_models
    from core.flashcards import userdata_hooks as flashcards_userdata
    from core.identity import commands as identity_commands
    from core.identity import models as identity_models
    from core.insights import commands as insights_commands
    from core.insights import jobs as insights_jobs
    from core.insights import models as insights_models
    from core.insights import plans as insights_plans
    from core.installations import models as installations_models
    from core.maintenance import jobs as maintenance_jobs
    from core.maintenance import models as maintenance_models
    from core.outbox import models as outbox_models
    from core.rooms import commands as rooms_commands
    from core.rooms import jobs as rooms_jobs
    from core.rooms import models as rooms_models
    from core.rooms import userdata_hooks as rooms_userdata
    from core.tasks import commands as tasks_commands
    from core.tasks import jobs as tasks_jobs
    from core.tasks import models as tasks_models
    from core.tasks import userdata_hooks as tasks_userdata
    from core.tutor import commands as tutor_commands
    from core.tutor import jobs as tutor_jobs
    from core.tutor import models as tutor_models

    return (
        Capability(
            "identity",
            identity_models,
            router=identity_commands.router,
            exported=("identities", "memberships", "linked_chats"),
        ),
        Capability(
            "rooms",
            rooms_models,
            router=rooms_commands.router,
            jobs=rooms_jobs,
            userdata=rooms_userdata.HOOKS,
            migrations_branch="rooms",
            exported=("study_sessions", "focus_sessions", "focus_participants"),
            activity=(
                ActivitySource("study_sessions", "started_at", "study_minutes", amount="minutes"),
            ),
            # Only a hash of each one-time code, for 15 minutes: nothing to give back.
            private=("room_link_codes",),
        ),
        Capability(
            "tasks",
            tasks_models,
            router=tasks_commands.router,
            jobs=tasks_jobs,
            userdata=tasks_userdata.HOOKS,
            migrations_branch="tasks",
            exported=(
                "tasks",
                "reminders",
                "calendar_tokens",
                "task_digests",
                "task_preferences",
                "task_undo",
            ),
            activity=(
                ActivitySource("tasks", "completed_at", "tasks_done"),
                ActivitySource("tasks", "created_at", "tasks_added"),
                ActivitySource("reminders", "created_at", "reminders_set"),
            ),
        ),
        Capability(
            "flashcards",
            flashcards_models,
            router=flashcards_commands.router,
            jobs=flashcards_jobs,
            userdata=flashcards_userdata.HOOKS,
            migrations_branch="flashcards",
            exported=(
                "flashcard_decks",
                "flashcard_notes",
                "flashcard_cards",
                "flashcard_states",
                "flashcard_sessions",
                "flashcard_reviews",
                "flashcard_prefs",
                "flashcard_undo",
            ),
            activity=(
                ActivitySource("flashcard_reviews", "reviewed_at", "cards_reviewed"),
                ActivitySource(
                    "flashcard_reviews", "reviewed_at", "cards_kept", where="rating > 1"
                ),
                ActivitySource("flashcard_decks", "created_at", "decks_made", owner="owner_id"),
            ),
        ),
        Capability(
            "documents",
            documents_models,
            router=documents_commands.router,
            jobs=documents_jobs,
            userdata=documents_userdata.HOOKS,
            migrations_branch="documents",
            exported=("documents", "document_files", "document_chunks"),
            activity=(
                ActivitySource("documents", "created_at", "documents_added", owner="owner_user_id"),
            ),
        ),
        Capability(
            "tutor",
            tutor_models,
            router=tutor_commands.router,
            jobs=tutor_jobs,
            migrations_branch="tutor",
            exported=(
                "tutor_conversations",
                "tutor_messages",
                "tutor_quizzes",
                "tutor_usage",
                "tutor_card_drafts",
                "tutor_tool_proposals",
            ),
            activity=(
                ActivitySource("tutor_quizzes", "created_at", "tutor_work"),
                ActivitySource("tutor_card_drafts", "created_at", "tutor_work"),
            ),
        ),
        Capability(
            "accounts",
            accounts_models,
            router=accounts_commands.router,
            jobs=accounts_jobs,
            migrations_branch="web",
            exported=("api_tokens",),
            private=("web_sessions", "link_codes"),
        ),
        Capability(
            "analytics",
            analytics_models,
            router=analytics_commands.router,
            userdata=analytics_userdata.HOOKS,
            migrations_branch="analytics",
            # Derived from the tables above, exported too: the days as /stats showed them.
            exported=("daily_activity",),
        ),
        Capability(
            "insights",
            insights_models,
            router=insights_commands.router,
            jobs=insights_jobs,
            migrations_branch="insights",
            digest=insights_plans.digest_lines,
            digest_wanted=insights_plans.DIGEST_WANTED_SQL,
            exported=(
                "insight_exams",
                "insight_study_hours",
                "insight_goals",
                "insight_badges",
                "insight_weekly_reports",
            ),
        ),
        Capability("outbox", outbox_models, exported=("outbox",)),
        Capability(
            "maintenance",
            maintenance_models,
            jobs=maintenance_jobs,
            migrations_branch="maintenance",
        ),
        Capability("installations", installations_models, migrations_branch="installations"),
    )


def load_jobs() -> None:
    """Import every capability's jobs module, so its jobs and sweeps are registered."""
    capabilities()


def build_router() -> Router:
    """One router with every capability's commands, buttons and suggestions."""
    router = Router()
    for capability in capabilities():
        if capability.router is not None:
            router.include(capability.router)
    return router


def exported_tables() -> frozenset[str]:
    return frozenset(t for c in capabilities() for t in c.exported)


def private_tables() -> frozenset[str]:
    return frozenset(t for c in capabilities() for t in c.private)


def activity_sources() -> tuple[ActivitySource, ...]:
    return tuple(source for c in capabilities() for source in c.activity)


def digest_sources() -> tuple[DigestLines, ...]:
    return tuple(c.digest for c in capabilities() if c.digest is not None)


def digest_conditions() -> tuple[str, ...]:
    return tuple(c.digest_wanted for c in capabilities() if c.digest_wanted is not None)
