"""The optimize job fits FSRS to each student's own reviews and keeps a fit only when it
predicts their held-out reviews better (real PostgreSQL; histories simulated by FSRS)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime

import pytest
from fsrs import ReviewLog as FsrsReviewLog
from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy import select

from core.flashcards import fitting, jobs, service
from core.flashcards.models import Deck, FlashCard, Note, ReviewLog, StudyPrefs
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver
from tests.support.fsrs_students import simulate
from tests.support.installed import skip_module_unless_installed

skip_module_unless_installed("torch", "pandas")

# Students who remember new cards six times longer than FSRS's defaults assume, or a third.
STRONG = [w * 6 if i < 4 else w for i, w in enumerate(DEFAULT_PARAMETERS)]
WEAK = [w * 0.3 if i < 4 else w for i, w in enumerate(DEFAULT_PARAMETERS)]


async def deck_of(core: Runtime, chat: ChatDriver, name: str) -> Deck:
    await chat.say(f"/deck {name}")
    async with core.db.transaction() as session:
        deck = await session.scalar(select(Deck).where(Deck.name == name))
        assert deck is not None
        return deck


async def add_cards(core: Runtime, deck: Deck, count: int) -> list[int]:
    async with core.db.transaction() as session:
        notes = [
            Note(deck_id=deck.id, kind="basic", front=f"q{i}", back=f"a{i}", content_hash=f"h{i}")
            for i in range(count)
        ]
        session.add_all(notes)
        await session.flush()
        cards = [FlashCard(note_id=note.id, deck_id=deck.id, ordinal=0) for note in notes]
        session.add_all(cards)
        await session.flush()
        return [card.id for card in cards]


async def store_history(
    core: Runtime, user_id: int, deck: Deck, card_ids: Sequence[int], logs: Sequence[FsrsReviewLog]
) -> None:
    """The simulated reviews as the app would have logged them; simulated card n is
    card_ids[n - 1]."""
    async with core.db.transaction() as session:
        session.add_all(
            ReviewLog(
                user_id=user_id,
                card_id=card_ids[log.card_id - 1],
                deck_id=deck.id,
                rating=int(log.rating),
                reviewed_at=log.review_datetime,
                state_before=2,
                due_after=log.review_datetime,
            )
            for log in logs
        )


async def prefs_of(core: Runtime, user_id: int) -> StudyPrefs | None:
    async with core.db.transaction() as session:
        return await session.get(StudyPrefs, user_id)


async def held_out_loss(core: Runtime, user_id: int, parameters: Sequence[float]) -> float:
    """Log loss of `parameters` on the last 20% (by time) of the user's stored reviews."""
    async with core.db.transaction() as session:
        logs = fitting.by_time(jobs.to_fsrs_logs(await service.review_logs_for(session, user_id)))
    return fitting.log_loss(fitting.predictions(parameters, logs, fitting.split_index(len(logs))))


async def student(
    core: Runtime, chat: ChatDriver, deck_name: str, logs: Sequence[FsrsReviewLog]
) -> int:
    deck = await deck_of(core, chat, deck_name)
    card_ids = await add_cards(core, deck, max(log.card_id for log in logs))
    await store_history(core, deck.owner_id, deck, card_ids, logs)
    return deck.owner_id


async def optimize(core: Runtime) -> None:
    await run_job("flashcards.optimize", JobContext(core.db, core.services), {})


async def test_a_student_whose_memory_differs_from_the_defaults_gets_a_fit_that_predicts_better(
    core: Runtime, make_chat, clock
) -> None:  # type: ignore[no-untyped-def]
    alice = make_chat("alice")
    logs = simulate(STRONG, days=50, new_per_day=10, seed=7)
    assert len(logs) >= jobs.MIN_REVIEWS_TO_OPTIMIZE
    user_id = await student(core, alice, "Bio", logs)

    await optimize(core)

    prefs = await prefs_of(core, user_id)
    assert prefs is not None and prefs.parameters is not None
    assert prefs.optimized_at == clock.now() and prefs.optimized_reviews == len(logs)
    fitted_loss = await held_out_loss(core, user_id, prefs.parameters)
    assert fitted_loss < await held_out_loss(core, user_id, DEFAULT_PARAMETERS)
    reply = await alice.say("/retention")
    assert "your own (fitted to your reviews)" in reply
    assert f"last fitted to your reviews on 25 Nov 2026 ({len(logs):,} reviews)" in reply


async def test_a_fit_that_predicts_the_held_out_reviews_worse_keeps_the_current_parameters(
    core: Runtime, make_chat, clock
) -> None:  # type: ignore[no-untyped-def]
    # Strong memory for 40 days, then weak: the fit learns the first 80% (strong) while the
    # current parameters (weak, from an earlier fit) describe the last 20%.
    bob = make_chat("bob")
    logs = simulate(STRONG, days=50, new_per_day=10, seed=8, changes={40: WEAK})
    user_id = await student(core, bob, "Chem", logs)
    async with core.db.transaction() as session:
        await service.save_parameters(session, user_id, WEAK, 10, datetime(2026, 1, 1))

    await optimize(core)

    prefs = await prefs_of(core, user_id)
    assert prefs is not None
    assert prefs.parameters == pytest.approx(WEAK)
    # The attempt is recorded, so the job waits for a fifth more reviews before the next.
    assert prefs.optimized_at == clock.now() and prefs.optimized_reviews == len(logs)
    async with core.db.transaction() as session:
        assert await service.users_to_optimize(session, jobs.MIN_REVIEWS_TO_OPTIMIZE) == []
    assert "your own (fitted to your reviews)" in await bob.say("/retention")


async def test_a_student_with_too_few_reviews_is_not_fitted(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    carol = make_chat("carol")
    logs = simulate(STRONG, days=20, new_per_day=10, seed=9)
    assert len(logs) < jobs.MIN_REVIEWS_TO_OPTIMIZE
    user_id = await student(core, carol, "Art", logs)

    await optimize(core)

    prefs = await prefs_of(core, user_id)
    assert prefs is None or (prefs.parameters is None and prefs.optimized_at is None)
    reply = await carol.say("/retention")
    assert "the FSRS defaults" in reply
    assert f"Not fitted to your reviews yet: that happens once you have {1000:,}" in reply


async def test_each_student_is_fitted_on_their_own_reviews_of_the_same_cards(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    # Three students review the same cards (as members of a room deck would): a strong and a
    # weak one with enough reviews each, and one whose few reviews would pass the threshold
    # only if the others' were counted.
    alice, bob, dan = make_chat("alice"), make_chat("bob"), make_chat("dan")
    strong_logs = simulate(STRONG, days=50, new_per_day=10, seed=10)
    weak_logs = simulate(WEAK, days=40, new_per_day=10, seed=11)
    few_logs = simulate(WEAK, days=20, new_per_day=10, seed=12)
    deck = await deck_of(core, alice, "Shared")
    card_ids = await add_cards(core, deck, 500)
    strong_id, weak_id = deck.owner_id, (await deck_of(core, bob, "Own")).owner_id
    few_id = (await deck_of(core, dan, "Dan's")).owner_id
    await store_history(core, strong_id, deck, card_ids, strong_logs)
    await store_history(core, weak_id, deck, card_ids, weak_logs)
    await store_history(core, few_id, deck, card_ids, few_logs)

    await optimize(core)

    strong, weak = await prefs_of(core, strong_id), await prefs_of(core, weak_id)
    assert strong is not None and strong.parameters is not None
    assert weak is not None and weak.parameters is not None
    assert strong.optimized_reviews == len(strong_logs)
    assert weak.optimized_reviews == len(weak_logs)
    # Each fit predicts its own student better than the other student's fit does.
    assert await held_out_loss(core, strong_id, strong.parameters) < await held_out_loss(
        core, strong_id, weak.parameters
    )
    assert await held_out_loss(core, weak_id, weak.parameters) < await held_out_loss(
        core, weak_id, strong.parameters
    )
    few = await prefs_of(core, few_id)
    assert few is None or few.optimized_at is None


def test_the_bots_and_the_api_never_load_the_optimizer() -> None:
    """Building the router loads every command and job module, as each bot and the API do."""
    code = (
        "import sys\n"
        "from core.app import build_router\n"
        "build_router()\n"
        "print(sorted(m for m in ('torch', 'pandas', 'fsrs.optimizer') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
