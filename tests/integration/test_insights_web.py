"""Insights on the web: weekly goals on the dashboard, and the insights page with
predicted retention and calibration, each only the signed-in student's."""

from __future__ import annotations

import html
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import text

from core.flashcards import service as flashcards
from core.flashcards.notes import NoteDraft
from core.identity.models import User
from teddy.runtime import Runtime
from tests.conftest import T0
from tests.integration.test_web import app, browser, sign_up

__all__ = ["app"]  # the web fixture, shared with test_web


async def test_the_dashboard_shows_this_weeks_goal_progress(core: Runtime, app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "ana@example.org")
        async with core.db.transaction() as session:
            ana = await session.scalar(text("SELECT id FROM users"))
            stranger = User(display_name="Other")
            session.add(stranger)
            await session.flush()
            other = stranger.id
            for owner, minutes in ((ana, 90), (other, 600)):
                await session.execute(
                    text(
                        "INSERT INTO study_sessions (user_id, source, started_at, ended_at,"
                        " minutes) VALUES (:u, 'manual', :t, :t, :m)"
                    ),
                    {"u": owner, "t": T0 - timedelta(hours=1), "m": minutes},
                )
            await session.execute(
                text(
                    "INSERT INTO insight_goals (user_id, metric, target)"
                    " VALUES (:u, 'minutes', 120), (:o, 'reviews', 50)"
                ),
                {"u": ana, "o": other},
            )
        page = html.unescape((await client.get("/dashboard")).text)
    assert "Weekly goals" in page
    assert "Study time: 1h30 of 2h ▓▓▓▓▓▓▓▓░░ 75%" in page
    assert '<progress max="120" value="90">' in page
    assert "Cards reviewed" not in page  # the other student's goal


async def give_reviewed_deck(core: Runtime, user_id: int, cards: int) -> None:
    """A deck whose cards were each reviewed 40, 30 and 10 days ago (every third card
    forgotten the last time), with the memory state left by those reviews."""
    async with core.db.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        deck, _ = await flashcards.use_deck(session, user, "Chemistry")
        drafts = [NoteDraft("basic", f"element {n}", f"answer {n}") for n in range(cards)]
        await flashcards.add_notes(session, user, deck, drafts, T0 - timedelta(days=41))
        for days_ago in (40, 30, 10):
            await session.execute(
                text(
                    "INSERT INTO flashcard_reviews (user_id, card_id, deck_id, rating,"
                    " reviewed_at, state_before, due_after)"
                    " SELECT user_id, card_id, deck_id,"
                    "  CASE WHEN :late AND card_id % 3 = 0 THEN 1 ELSE 3 END, :at, 2, :at"
                    " FROM flashcard_states WHERE user_id = :u"
                ),
                {"u": user_id, "at": T0 - timedelta(days=days_ago), "late": days_ago == 10},
            )
        await session.execute(
            text(
                "UPDATE flashcard_states SET stability = 20, difficulty = 5, state = 2,"
                " last_review = :r, due = :d WHERE user_id = :u"
            ),
            {"u": user_id, "r": T0 - timedelta(days=10), "d": T0 + timedelta(days=10)},
        )


async def test_the_insights_page_shows_only_the_viewers_retention_and_calibration(
    core: Runtime, app: FastAPI
) -> None:
    async with browser(app) as ana_client, browser(app) as bob_client:
        await sign_up(ana_client, "ana@example.org", "Ana")
        await sign_up(bob_client, "bob@example.org", "Bob")
        async with core.db.transaction() as session:
            ana = await session.scalar(text("SELECT id FROM users WHERE display_name = 'Ana'"))
        await give_reviewed_deck(core, ana, 30)
        page = html.unescape((await ana_client.get("/insights")).text)
        forecast = await ana_client.get("/insights/forecast.png")
        calibration = await ana_client.get("/insights/calibration.png")
        bob_page = html.unescape((await bob_client.get("/insights")).text)
        bob_image = await bob_client.get("/insights/forecast.png")
    assert "<td>Chemistry</td>" in page and "30" in page
    # 60 predictions: 30 after ten days (all recalled), 30 after twenty (a third forgotten).
    assert "Calibration over 60 reviews" in page and "you recalled 83%" in page
    assert forecast.headers["content-type"] == "image/png"
    assert forecast.content.startswith(b"\x89PNG")
    assert calibration.content.startswith(b"\x89PNG")
    assert forecast.headers["cache-control"] == "private, no-store"
    assert "No flashcards yet" in bob_page and "Chemistry" not in bob_page
    assert bob_image.status_code == 404
