"""The insights page's calibration is replayed once per change of the student's reviews
(or scheduler), shared by the page and its two images, and never another student's."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fsrs import Scheduler
from sqlalchemy import text

from core.flashcards.models import StudyPrefs
from core.identity.models import User
from core.insights import calibration_cache
from core.insights.calibration import ReviewEvent, predictions
from teddy.runtime import Runtime
from tests.conftest import T0
from tests.integration.test_insights_web import give_reviewed_deck
from tests.integration.test_web import app, browser, sign_up

__all__ = ["app"]  # the web fixture, shared with test_web


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of reviews replayed, one entry per replay."""
    done: list[int] = []

    def counted(events: Sequence[ReviewEvent], scheduler: Scheduler) -> list[tuple[float, bool]]:
        done.append(len(events))
        return predictions(events, scheduler)

    monkeypatch.setattr(calibration_cache, "predictions", counted)
    return done


async def student_with_deck(core: Runtime, client: httpx.AsyncClient, name: str, cards: int) -> int:
    """Signs `name` up in `client` and gives them a reviewed deck; their user id."""
    await sign_up(client, f"{name.lower()}@example.org", name)
    async with core.db.transaction() as session:
        found = await session.scalar(
            text("SELECT id FROM users WHERE display_name = :n"), {"n": name}
        )
    assert isinstance(found, int)
    await give_reviewed_deck(core, found, cards)
    return found


async def run_sql(core: Runtime, sql: str, **params: object) -> None:
    async with core.db.transaction() as session:
        await session.execute(text(sql), params)


async def test_one_replay_serves_the_page_and_both_images_until_a_review_changes(
    core: Runtime, app: FastAPI, replays: list[int]
) -> None:
    async with browser(app) as client:
        ana = await student_with_deck(core, client, "Ana", 30)
        first = html.unescape((await client.get("/insights")).text)
        forecast = await client.get("/insights/forecast.png")
        curve = await client.get("/insights/calibration.png")
        again = html.unescape((await client.get("/insights")).text)
        assert replays == [90]
        assert "Calibration over 60 reviews" in first and "you recalled 83%" in first
        assert again == first
        assert forecast.content.startswith(b"\x89PNG") and curve.content.startswith(b"\x89PNG")

        # A review of every card yesterday, all forgotten: 30 more predictions.
        await run_sql(
            core,
            "INSERT INTO flashcard_reviews (user_id, card_id, deck_id, rating, reviewed_at,"
            " state_before, due_after) SELECT user_id, card_id, deck_id, 1, :at, 2, :at"
            " FROM flashcard_states WHERE user_id = :u",
            u=ana,
            at=T0 - timedelta(days=1),
        )
        reviewed = html.unescape((await client.get("/insights")).text)
        assert "Calibration over 90 reviews" in reviewed and "you recalled 56%" in reviewed
        assert (await client.get("/insights/calibration.png")).status_code == 200
        assert replays == [90, 120]

        # Deleting a card deletes its reviews (3 predictions) without a newer review id.
        await run_sql(
            core,
            "DELETE FROM flashcard_cards WHERE id = (SELECT min(card_id) FROM flashcard_states"
            " WHERE user_id = :u)",
            u=ana,
        )
        deleted = html.unescape((await client.get("/insights")).text)
        assert "Calibration over 87 reviews" in deleted
        assert replays == [90, 120, 116]


async def test_new_fsrs_parameters_replay_the_reviews_again(
    core: Runtime, app: FastAPI, replays: list[int]
) -> None:
    async with browser(app) as client:
        ana = await student_with_deck(core, client, "Ana", 30)
        await client.get("/insights")
        forgetful = list(Scheduler().parameters)
        forgetful[0] = forgetful[1] = forgetful[2] = forgetful[3] = 0.1
        async with core.db.transaction() as session:
            prefs = await session.get(StudyPrefs, ana)
            assert prefs is not None  # made with the deck
            prefs.parameters = forgetful
        page = html.unescape((await client.get("/insights")).text)
    assert replays == [90, 90]
    assert "Calibration over 60 reviews" in page and "you remember more than FSRS" in page


async def test_each_student_gets_their_own_calibration_from_the_cache(
    core: Runtime, app: FastAPI, replays: list[int]
) -> None:
    async with browser(app) as ana_client, browser(app) as bob_client:
        await student_with_deck(core, ana_client, "Ana", 30)
        await student_with_deck(core, bob_client, "Bob", 6)
        ana_page = html.unescape((await ana_client.get("/insights")).text)
        bob_page = html.unescape((await bob_client.get("/insights")).text)
        bob_curve = await bob_client.get("/insights/calibration.png")
        ana_curve = await ana_client.get("/insights/calibration.png")
        bob_again = html.unescape((await bob_client.get("/insights")).text)
        ana_again = html.unescape((await ana_client.get("/insights")).text)
    assert replays == [90, 18]  # once each, then from the cache
    assert "Calibration over 60 reviews" in ana_page and ana_again == ana_page
    assert "Calibration: 12 of the 20 reviews" in bob_page and bob_again == bob_page
    assert "Calibration over" not in bob_page
    assert bob_curve.status_code == 404 and ana_curve.status_code == 200


class BrokenRedis:
    """A cache whose server has gone away: every command raises, as redis-py does."""

    def __init__(self) -> None:
        self.calls = 0

    async def get(self, name: str) -> object:
        self.calls += 1
        raise ConnectionError("Redis went away")

    async def set(self, name: str, value: str, ex: int) -> object:
        self.calls += 1
        raise ConnectionError("Redis went away")


async def test_a_cache_that_is_down_means_computing_again_not_a_failure(
    core: Runtime, replays: list[int]
) -> None:
    broken = BrokenRedis()
    async with core.db.transaction() as session:
        ana = User(display_name="Ana")
        session.add(ana)
        await session.flush()
        user_id = ana.id
    await give_reviewed_deck(core, user_id, 30)
    async with core.db.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        first = await calibration_cache.user_calibration(session, user, Scheduler(), broken)
        again = await calibration_cache.user_calibration(session, user, Scheduler(), broken)
    assert replays == [90, 90] and broken.calls == 4
    assert first == again and first.predictions == 60
