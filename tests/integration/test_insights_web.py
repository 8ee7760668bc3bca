"""Insights on the web: weekly goals on the dashboard, only the signed-in student's."""

from __future__ import annotations

import html
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import text

from core.identity.models import User
from teddy.runtime import Core
from tests.conftest import T0
from tests.integration.test_web import app, browser, sign_up

__all__ = ["app"]  # the web fixture, shared with test_web


async def test_the_dashboard_shows_this_weeks_goal_progress(core: Core, app: FastAPI) -> None:
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
