"""The study plan page: the plan /plan shows, exams added and deleted and study hours set
with the same core calls as chat, refused input kept in its box, each student's own."""

from __future__ import annotations

import html

from fastapi import FastAPI
from sqlalchemy import text

from teddy.runtime import Runtime
from tests.integration.test_web import app, browser, csrf_of, sign_up

__all__ = ["app"]  # the web fixture, shared with test_web


async def test_the_plan_page_adds_an_exam_sets_hours_and_plans_for_them(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "ana@example.org")
        empty = html.unescape((await client.get("/plan")).text)
        assert "Nothing to plan yet" in empty and "No upcoming exams." in empty
        assert '<a href="/plan">Plan</a>' in empty  # in the nav
        token = await csrf_of(client, "/plan")
        added = await client.post(
            "/plan/exams", data={"csrf": token, "text": "Chemistry final fri"}
        )
        assert added.status_code == 303
        hours = await client.post(
            "/plan/hours", data={"csrf": token, "text": "3h weekdays, sat off, sun off"}
        )
        assert hours.status_code == 303
        page = html.unescape((await client.get("/plan")).text)
    assert "<td>Chemistry final</td><td>Fri 27 Nov (in 2 days)</td>" in page
    assert "Study for Chemistry final (2 days to go) — 45 min" in page
    assert "<li><strong>Exam: Chemistry final</strong></li>" in page
    assert "Hours: Mon–Fri 3h, Sat–Sun off." in page
    assert "<h3>Today <small>· 45 min of 3h</small></h3>" in page


async def test_refused_input_is_explained_and_kept_in_its_box(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "ana@example.org")
        token = await csrf_of(client, "/plan")
        no_date = await client.post("/plan/exams", data={"csrf": token, "text": "Chemistry final"})
        assert no_date.status_code == 400
        page = html.unescape(no_date.text)
        assert 'role="alert">When is “Chemistry final”?' in page
        assert 'value="Chemistry final"' in page
        bad_hours = await client.post("/plan/hours", data={"csrf": token, "text": "lots please"})
        assert bad_hours.status_code == 400
        assert 'value="lots please"' in html.unescape(bad_hours.text)
        assert (await client.get("/plan?days=31")).status_code == 422


async def test_a_student_sees_and_deletes_only_their_own_exams(core: Runtime, app: FastAPI) -> None:
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "ana@example.org")
        await sign_up(ben, "ben@example.org", "Ben")
        token = await csrf_of(ana, "/plan")
        await ana.post("/plan/exams", data={"csrf": token, "text": "Latin oral fri"})
        async with core.db.transaction() as session:
            exam_id = await session.scalar(text("SELECT id FROM insight_exams"))
        bens = html.unescape((await ben.get("/plan")).text)
        assert "Latin" not in bens and "No upcoming exams." in bens
        ben_token = await csrf_of(ben, "/plan")
        refused = await ben.post(f"/plan/exams/{exam_id}/delete", data={"csrf": ben_token})
        assert refused.status_code == 404 and "That exam is gone already" in refused.text
        assert "Latin oral" in (await ana.get("/plan")).text
        deleted = await ana.post(f"/plan/exams/{exam_id}/delete", data={"csrf": token})
        assert deleted.status_code == 303
        assert "No upcoming exams." in (await ana.get("/plan")).text
