"""Studying in a real browser (Debian's Chromium through Playwright) against `teddy api`:
reviewing with the keyboard only, editing and deleting a task with undo, the API docs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from teddy.servers import Servers
from tests.e2e.test_browser import CHROMIUM, LAUNCH_ARGS, PASSWORD, console
from tests.e2e.web_process import running_api

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


@pytest.fixture
def web_server(
    tmp_path: Path, servers: Servers, core: object
) -> Iterator[tuple[str, dict[str, str]]]:
    with running_api(tmp_path, servers) as running:
        yield running


@pytest.fixture
async def browser_page(web_server: tuple[str, dict[str, str]]) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        page = await browser.new_page(viewport={"width": 1100, "height": 900})
        page.problems = []
        page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        yield page
        await browser.close()


async def sign_up(page: Any, base: str, email: str) -> None:
    await page.goto(f"{base}/signup")
    await page.fill("input[name=name]", "Ana")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/dashboard")


async def tab_to(page: Any, text: str, limit: int = 40) -> None:
    """Press Tab until the focused control's text is `text`, as a keyboard user would."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement && document.activeElement.innerText")
        if focused and focused.strip().startswith(text):
            return
    raise AssertionError(f"no control {text!r} reachable with Tab")


async def test_ten_cards_are_reviewed_with_the_keyboard_only(web_server, browser_page) -> None:  # type: ignore[no-untyped-def]
    base, env = web_server
    page = browser_page
    cards = [f"/card Capital {n} | City {n}" for n in range(1, 11)]
    answer = console(env, "ana-phone", "/deck Geography", *cards, "/link")
    code = str(answer[-1]["text"]).split("code: ")[1].split(" ")[0]
    await sign_up(page, base, "keys@example.org")
    await page.goto(f"{base}/link")
    await page.fill("input[name=code]", code)
    await page.click("form[action='/link'] button[type=submit]")
    await page.wait_for_selector("#linked-ok", timeout=90_000)

    await page.goto(f"{base}/review")
    await tab_to(page, "Review all due cards")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    grades = ["3", "4", "2", "3", "3", "4", "3", "2", "4", "3"]
    fronts = []
    for key in grades:
        await page.wait_for_selector("#card-front")
        fronts.append(await page.inner_text("#card-front"))
        assert not await page.is_visible("#card-answer")
        await page.keyboard.press("Space")
        await page.wait_for_selector("#card-answer", state="visible")
        assert (await page.inner_text("#card-answer")).startswith("City")
        async with page.expect_navigation():
            await page.keyboard.press(key)
    await page.wait_for_selector("#review-summary")
    assert await page.inner_text("#reviewed-count") == "10"
    summary = await page.inner_text("#review-summary")
    assert "Hard 2" in summary and "Good 5" in summary and "Easy 3" in summary
    assert sorted(fronts) == sorted(f"Capital {n}" for n in range(1, 11))
    assert page.problems == []


async def test_a_task_is_edited_inline_deleted_and_the_delete_undone(
    web_server, browser_page
) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    base, _ = web_server
    page = browser_page
    await sign_up(page, base, "tasks@example.org")
    await page.goto(f"{base}/tasks")
    await page.fill("#new-task", "Lab report #chem")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#saved")
    await page.click("summary[aria-label='edit Lab report']")
    await page.fill("input[name=title]", "Lab report final")
    due = page.locator("input[name=due]")
    await due.fill("when pigs fly")
    reading = page.locator(".due-read").first
    await expect(reading).to_contain_text("couldn't read")
    await due.fill("tomorrow 9am")
    await expect(reading).to_contain_text("09:00")
    assert (await reading.inner_text()).startswith("Due ")
    await page.select_option("select[name=priority]", "high")
    await page.click(".edit-form button[type=submit]")
    await page.wait_for_selector("#saved")
    saved = await page.inner_text("#saved")
    assert "Lab report final" in saved and "09:00" in saved and "high priority" in saved

    await page.click("button[aria-label='delete Lab report final']")
    await page.wait_for_selector("#undo")
    assert "Lab report final" not in await page.inner_text("#open-tasks")
    await page.click("#undo-button")
    await page.wait_for_selector("#saved")
    assert "Lab report final" in await page.inner_text("#open-tasks")
    assert "high" in await page.inner_text("#open-tasks")
    assert page.problems == []


async def test_api_docs_render_from_local_files_and_empty_hints_stay_together(
    web_server, browser_page
) -> None:  # type: ignore[no-untyped-def]
    base, _ = web_server
    page = browser_page
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    await page.goto(f"{base}/docs")
    await page.wait_for_url(f"{base}/api/docs")
    await page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    assert "/api/v1/me" in await page.inner_text("#swagger-ui")
    assert outside == []
    await sign_up(page, base, "empty@example.org")
    await page.goto(f"{base}/decks")
    gap = await page.evaluate(
        """() => {
          const li = document.querySelector('#decks li.empty');
          const last = li.querySelector('code:last-of-type');
          return li.getBoundingClientRect().right - last.getBoundingClientRect().right;
        }"""
    )
    assert gap > 200  # the hint reads as one sentence, not spread to the right edge
    assert page.problems == []


async def test_a_document_being_read_shows_its_progress_and_then_its_summary(
    web_server, browser_page, core
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select, update

    from core.documents import service as documents
    from core.documents.models import PROCESSING, READY, Document
    from core.identity.models import User

    base, _ = web_server
    page = browser_page
    await sign_up(page, base, "upload@example.org")
    # Queued but not ingested (the API process's inline queue would finish before the page
    # loads): this test moves it along itself, as a worker would.
    async with core.db.transaction() as session:
        user = await session.scalar(select(User).where(User.email == "upload@example.org"))
        document, _ = await documents.receive_file(
            session, user=user, room=None, name="cells.txt", data=b"Cells.", max_bytes=10_000
        )
        document_id = document.id
    await page.goto(f"{base}/documents")
    status = page.locator(f"#status-{document_id}")
    assert (await status.inner_text()).startswith("queued")
    async with core.db.transaction() as session:
        await session.execute(
            update(Document).where(Document.id == document_id).values(status=PROCESSING)
        )
    await page.wait_for_selector(f"#status-{document_id} >> text=processing", timeout=10_000)
    async with core.db.transaction() as session:
        await session.execute(
            update(Document)
            .where(Document.id == document_id)
            .values(status=READY, summary="Cells are small.", key_concepts=["cells"])
        )
    # documents.js follows the status and reloads the list once the document is read.
    await page.wait_for_selector("#documents .summary >> text=Cells are small.", timeout=10_000)
    assert "ready" in await status.inner_text()
    assert page.problems == []
