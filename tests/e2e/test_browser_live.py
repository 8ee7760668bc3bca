"""Live pages in a real browser (Debian's Chromium through Playwright) against `teddy api`:
a PDF uploaded and asked about, the answer streaming in with a citation that opens its
passage; a room's focus session changing phase on the page while another member joins
from the console (`teddy chat --jsonl`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from teddy.servers import Servers
from tests.e2e.test_browser import CHROMIUM, LAUNCH_ARGS
from tests.e2e.test_browser_study import sign_up
from tests.e2e.web_process import running_api
from tests.integration.test_tutor_grounded import KREBS, cite_the_passage_with, pdf_bytes
from tests.support.fake_llm import FakeLLM, FakeLLMThread

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
LECTURE = [
    "Glycolysis splits glucose into two pyruvate molecules in the cytoplasm.",
    KREBS,
    "The electron transport chain makes most of the ATP.",
]


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLMThread() as fake:
        yield fake


@pytest.fixture
def web_server(
    tmp_path: Path, servers: Servers, core: object, llm: FakeLLM
) -> Iterator[tuple[str, dict[str, str]]]:
    model = {"LLM_BASE_URL": llm.base_url, "LLM_MODEL": "fake-model", "LLM_API_KEY": "k"}
    with running_api(tmp_path, servers, model) as running:
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


def console(env: dict[str, str], user: str, room: str | None, *lines: str) -> list[Any]:
    """`teddy chat --jsonl` as `user` (in `room`); lines are text or {"action": ...}."""
    where = ["--room", room] if room else []
    done = subprocess.run(
        [sys.executable, "-m", "teddy", "chat", "--jsonl", "--user", user, *where],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


async def test_a_pdf_is_uploaded_and_asked_about_with_a_streamed_cited_answer(
    web_server, browser_page, llm, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    base, _ = web_server
    page = browser_page
    llm.default = cite_the_passage_with("mitochondrial matrix")
    llm.chunk_delay = 0.15  # slow enough to watch the answer grow
    pdf = tmp_path / "lecture-3.pdf"
    pdf.write_bytes(pdf_bytes(LECTURE))
    await sign_up(page, base, "asker@example.org")
    await page.goto(f"{base}/documents")
    await page.set_input_files("#document-file", str(pdf))
    await page.click("form[action='/documents'] button[type=submit]")
    ask = page.locator("a[aria-label='ask about lecture-3.pdf']")
    await expect(ask).to_be_visible(timeout=90_000)  # the page reloads itself when read
    await ask.click()
    await page.fill("#ask-question", "Where does the Krebs cycle take place?")
    await page.keyboard.press("Enter")
    await page.wait_for_function(
        "() => { const a = document.getElementById('answer');"
        " return a.textContent.length > 0 && !a.dataset.done; }"
    )
    partial = await page.inner_text("#answer")
    await page.wait_for_selector("#answer[data-done]", timeout=30_000)
    final = await page.inner_text("#answer")
    assert partial != final and final.startswith(partial.rstrip())
    number = re.search(r"matrix \[(\d+)\]", final)
    assert number, final
    source = page.locator(f"#source-{number.group(1)}")
    assert not await source.locator(".passage").is_visible()
    await page.click(f"a.cite[data-source='{number.group(1)}']")
    await expect(source.locator(".passage")).to_be_visible()
    assert "mitochondrial matrix" in await source.locator(".passage").inner_text()
    assert "lecture-3.pdf p.2" in await source.locator("summary").inner_text()
    assert page.problems == []


async def test_a_rooms_focus_session_changes_phase_live_as_a_member_joins_from_the_console(
    web_server, browser_page, core: Runtime
) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    base, env = web_server
    page = browser_page
    console(env, "ana-phone", "g1", "/room")
    code = str(console(env, "ana-phone", None, "/link")[-1]["text"]).split("code: ")[1]
    await sign_up(page, base, "roomie@example.org")
    await page.goto(f"{base}/link")
    await page.fill("input[name=code]", code.split(" ")[0])
    await page.click("form[action='/link'] button[type=submit]")
    await page.wait_for_selector("#linked-ok", timeout=90_000)
    started = console(env, "ana-phone", "g1", "/focus 25 5")
    join = next(b["action"] for m in started for b in m.get("buttons", []) if b["label"] == "Join")

    await page.goto(f"{base}/rooms")
    await page.click("a[href^='/rooms/']")
    await expect(page.locator("#live-state")).to_have_text("Live.")
    await expect(page.locator("#focus-phase")).to_have_attribute("data-phase", "focus")
    await expect(page.locator("#focus-present")).to_contain_text("In (1)")

    console(env, "ben-phone", "g1", "/room", json.dumps({"action": join}))
    await expect(page.locator("#focus-present")).to_contain_text("In (2)", timeout=5_000)
    assert await page.get_attribute("#room-live", "data-event") == "focus.joined"

    # The sweep (a worker's job) runs here, with its clock past the focus phase's end.
    core.services.clock = FixedClock(datetime.now(UTC) + timedelta(minutes=26))
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
    await expect(page.locator("#focus-phase")).to_have_attribute(
        "data-phase", "break", timeout=1_000
    )
    await expect(page.locator("#today-minutes")).to_have_text("50 min")
    await page.click("#focus-stop")
    await expect(page.locator("#focus-phase")).to_have_attribute("data-phase", "none")
    assert page.problems == []
