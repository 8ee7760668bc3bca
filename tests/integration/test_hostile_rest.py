"""The REST task routes and the calendar feed with hostile input: clear 422s, never a 500,
and a feed that still serves when a task sits at the end of the calendar."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from core.tasks.models import Task
from teddy.runtime import Runtime
from tests.integration.tasks_helpers import task_count
from tests.integration.test_rest_resources import api, app, bearer  # noqa: F401 (fixtures)
from tests.integration.test_web import browser


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Essay", "due_at": "9999-12-31T23:00:00+00:00"},
        {"title": "Essay", "due_at": "9999-12-31T23:00:00-05:00"},
        {"title": "Essay", "due_at": "2037-01-01T00:00:00+00:00"},
        {"text": "Essay 9999-12-31"},
        {"text": "Essay in 99999999 days"},
    ],
)
async def test_rest_refuses_a_due_date_beyond_ten_years_with_a_422(
    app: FastAPI,  # noqa: F811
    api: httpx.AsyncClient,  # noqa: F811
    core: Runtime,
    body: dict[str, str],
) -> None:
    headers = await bearer(app, "ana@example.org", "Ana")
    made = await api.post("/api/v1/tasks", json=body, headers=headers)
    assert made.status_code == 422, made.text
    assert await task_count(core) == 0


async def test_rest_refuses_moving_a_task_beyond_ten_years(
    app: FastAPI,  # noqa: F811
    api: httpx.AsyncClient,  # noqa: F811
) -> None:
    headers = await bearer(app, "ana@example.org", "Ana")
    made = await api.post("/api/v1/tasks", json={"text": "Essay fri"}, headers=headers)
    task_id = made.json()["id"]
    moved = await api.patch(
        f"/api/v1/tasks/{task_id}", json={"due_at": "9999-01-01T00:00:00Z"}, headers=headers
    )
    assert moved.status_code == 422 and "10 years" in moved.text


async def test_rest_refuses_a_title_with_a_lone_surrogate_with_a_422(
    app: FastAPI,  # noqa: F811
    api: httpx.AsyncClient,  # noqa: F811
    core: Runtime,
) -> None:
    headers = {**await bearer(app, "ana@example.org", "Ana"), "content-type": "application/json"}
    for body in ('{"title": "Essay \\ud800"}', '{"title": "Essay", "subject": "\\udfff"}'):
        made = await api.post("/api/v1/tasks", content=body, headers=headers)
        assert made.status_code == 422, made.text
    assert await task_count(core) == 0


async def test_the_calendar_feed_serves_a_task_due_at_the_end_of_year_9999(
    app: FastAPI,  # noqa: F811
    core: Runtime,
    chat,  # type: ignore[no-untyped-def]
) -> None:
    await chat.say("/task Far away fri")
    async with core.db.transaction() as session:
        task = await session.scalar(select(Task))
        assert task is not None
        task.due_at = task.due_at.replace(year=9999, month=12, day=31, hour=23, minute=59)
    url = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", await chat.say("/calendar"))
    assert url is not None
    async with browser(app) as client:
        feed = await client.get(f"/calendar/{url.group(1)}.ics")
    assert feed.status_code == 200 and "Far away" in feed.text
