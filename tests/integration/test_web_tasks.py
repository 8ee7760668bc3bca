"""The tasks page: inline edits, delete with undo, priority, subject filter, and a due
field read like chat reads it."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from core.clock import FixedClock
from core.settings import Settings
from teddy.runtime import Runtime
from tests.integration.test_web import browser, csrf_of, sign_up


@pytest.fixture
async def app(core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


async def add(client: httpx.AsyncClient, text: str) -> str:
    token = await csrf_of(client, "/tasks")
    added = await client.post("/tasks", data={"csrf": token, "text": text})
    assert added.status_code == 303, added.text
    return str(added.headers["location"]).split("changed=")[1]


def edit_form(token: str, **fields: str) -> dict[str, str]:
    return {
        "csrf": token,
        "title": "Lab report",
        "due": "",
        "subject": "",
        "priority": "medium",
    } | (fields)


async def test_adding_says_how_the_text_was_read(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "add@example.org")
        task_id = await add(client, "Lab report fri 5pm #chem !high")
        page = await client.get(f"/tasks?changed={task_id}")
        saved = re.search(r'id="saved"[^>]*>([^<]+)<', page.text)
        assert saved
        assert re.search(
            r"Saved #1 Lab report, due Fri \d\d \w{3} 17:00, #chem, high", saved.group(1)
        )


async def test_a_date_that_cannot_be_read_keeps_the_typed_text_in_the_form(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "keep@example.org")
        token = await csrf_of(client, "/tasks")
        typed = "Essay for Dr. Smith due yesterday #english"
        refused = await client.post("/tasks", data={"csrf": token, "text": typed})
        assert refused.status_code == 400 and "in the past" in html.unescape(refused.text)
        assert f'value="{html.escape(typed)}"' in refused.text


async def test_editing_a_task_inline_changes_title_due_subject_and_priority(
    app: FastAPI, clock: FixedClock
) -> None:
    async with browser(app) as client:
        await sign_up(client, "edit@example.org")
        task_id = await add(client, "Lab report #chem")
        token = await csrf_of(client, "/tasks")
        form = edit_form(token, title="Lab report v2", due="tomorrow 9am", subject="bio")
        saved = await client.post(f"/tasks/{task_id}/edit", data={**form, "priority": "high"})
        assert saved.status_code == 303
        page = await client.get(saved.headers["location"])
        tomorrow = (clock.now() + timedelta(days=1)).strftime("%a %d %b")
        assert f"Saved #1 Lab report v2, due {tomorrow} 09:00, #bio, high priority" in page.text
        # Saving again with the due field as shown keeps the due time (it is not re-read).
        shown = re.search(rf'id="due-{task_id}" name="due" value="([^"]+)"', page.text)
        assert shown and shown.group(1) == f"{tomorrow} 09:00"
        clock.advance(timedelta(days=3))  # now in the past: an unchanged field must not fail
        again = await client.post(
            f"/tasks/{task_id}/edit",
            data=edit_form(token, title="Lab report v3", due=shown.group(1), subject="bio"),
        )
        assert again.status_code == 303
        cleared = await client.post(f"/tasks/{task_id}/edit", data=edit_form(token))
        page = await client.get(cleared.headers["location"])
        assert "Saved #1 Lab report, no due date, medium priority" in page.text
        assert "#bio" not in page.text


async def test_an_unreadable_due_date_is_explained_and_the_edit_form_keeps_it(
    app: FastAPI,
) -> None:
    async with browser(app) as client:
        await sign_up(client, "due@example.org")
        task_id = await add(client, "Read chapter 4")
        token = await csrf_of(client, "/tasks")
        form = edit_form(token, title="Read chapter 5", due="when pigs fly")
        refused = await client.post(f"/tasks/{task_id}/edit", data=form)
        text = html.unescape(refused.text)
        assert refused.status_code == 400 and "couldn't read “when pigs fly” as a date" in text
        assert 'value="when pigs fly"' in refused.text and 'value="Read chapter 5"' in refused.text
        assert re.search(r'<details class="edit" open>', refused.text)
        assert "Read chapter 4" in (await client.get("/tasks")).text  # nothing half-saved
        reading = await client.get("/tasks/read-due", params={"text": "fri 5pm"})
        assert reading.json()["ok"] and re.match(
            r"Due Fri \d\d \w{3} 17:00\.", reading.json()["message"]
        )
        bad = (await client.get("/tasks/read-due", params={"text": "when pigs fly"})).json()
        assert not bad["ok"] and "couldn't read" in bad["message"]


async def test_a_deleted_task_can_be_undone_for_a_short_time(
    app: FastAPI, clock: FixedClock
) -> None:
    async with browser(app) as client:
        await sign_up(client, "undo@example.org")
        task_id = await add(client, "Lab report fri 5pm #chem !high")
        token = await csrf_of(client, "/tasks")
        deleted = await client.post(f"/tasks/{task_id}/delete", data={"csrf": token})
        page = await client.get(deleted.headers["location"])
        undo = re.search(r'action="(/tasks/undo/\d+)"', page.text)
        assert undo and "Deleted #1 Lab report." in page.text
        assert 'id="open-tasks"' in page.text and "#1 Lab report</span>" not in page.text
        undone = await client.post(undo.group(1), data={"csrf": token})
        assert undone.headers["location"] == f"/tasks?changed={task_id}"
        page = await client.get(undone.headers["location"])
        assert "#1 Lab report</span>" in page.text and "#chem" in page.text and "high" in page.text
        again = await client.post(undo.group(1), data={"csrf": token})
        assert again.status_code == 404
        deleted = await client.post(f"/tasks/{task_id}/delete", data={"csrf": token})
        clock.advance(timedelta(minutes=11))
        page = await client.get(deleted.headers["location"])
        assert 'id="undo"' not in page.text  # no offer once it is too late
        late_url = str(deleted.headers["location"]).replace("/tasks?undo=", "/tasks/undo/")
        late = await client.post(late_url, data={"csrf": token})
        assert late.status_code == 400 and "too late" in late.text


async def test_the_subject_filter_shows_only_that_subjects_tasks(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "subject@example.org")
        await add(client, "Titration #chem")
        await add(client, "Essay #english")
        page = await client.get("/tasks?subject=chem")
        assert "Titration" in page.text and "Essay" not in page.text
        assert 'href="/tasks?subject=english"' in page.text
        bad = await client.get("/tasks?subject=two words")
        assert bad.status_code == 400 and "one word" in bad.text


async def test_another_users_task_answers_404_to_every_task_form(app: FastAPI) -> None:
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "ana-tasks@example.org")
        task_id = await add(ana, "Private plan")
        await sign_up(ben, "ben-tasks@example.org", "Ben")
        token = await csrf_of(ben, "/tasks")
        for action, form in (
            ("edit", edit_form(token, title="Hijacked")),
            ("delete", {"csrf": token}),
            ("toggle", {"csrf": token}),
        ):
            answer = await ben.post(f"/tasks/{task_id}/{action}", data=form)
            assert answer.status_code == 404, action
        ana_token = await csrf_of(ana, "/tasks")
        deleted = await ana.post(f"/tasks/{task_id}/delete", data={"csrf": ana_token})
        undo_url = str(deleted.headers["location"]).replace("/tasks?undo=", "/tasks/undo/")
        assert "Private plan" not in (await ben.get(deleted.headers["location"])).text
        assert (await ben.post(undo_url, data={"csrf": token})).status_code == 404
        assert (await ana.post(undo_url, data={"csrf": ana_token})).status_code == 303
        assert "Private plan" in (await ana.get("/tasks")).text


async def test_a_long_list_is_paged_with_every_subject_offered(app: FastAPI) -> None:
    async with browser(app) as client, browser(app) as ben:
        await sign_up(client, "many@example.org")
        for n in range(1, 55):
            await add(client, f"Chore {n}")
        last = await add(client, "Map quiz #geo")  # number 55: on the second page
        first = (await client.get("/tasks")).text
        assert len(re.findall(r'<li class="task" id="task-', first)) == 50
        assert "1–50 of 55 open" in first and 'href="/tasks?offset=50"' in first
        assert "Map quiz" not in first
        assert 'href="/tasks?subject=geo"' in first  # offered though not on this page
        second = (await client.get("/tasks?offset=50")).text
        assert len(re.findall(r'<li class="task" id="task-', second)) == 5
        assert "51–55 of 55 open" in second and "Map quiz" in second
        assert 'id="tasks-previous"' in second and 'id="tasks-next"' not in second
        saved = (await client.get(f"/tasks?changed={last}")).text
        assert "Saved #55 Map quiz, no due date, #geo" in saved  # found beyond the page
        assert (await client.get("/tasks?offset=-1")).status_code == 422
        await sign_up(ben, "ben-many@example.org", "Ben")
        assert "Map quiz" not in (await ben.get(f"/tasks?changed={last}")).text
