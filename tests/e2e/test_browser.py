"""The web companion in a real browser: headless Chromium (Debian's package) driven by
Playwright, against `teddy api` and `teddy chat` running as a user would run them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.web_seed import seed_history
from core.identity.models import Identity, User
from teddy.runtime import Runtime
from teddy.servers import Servers
from tests.e2e.web_process import running_api

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


@pytest.fixture
def web_server(
    tmp_path: Path, servers: Servers, core: object
) -> Iterator[tuple[str, dict[str, str]]]:
    with running_api(tmp_path, servers) as running:
        yield running


def console(env: dict[str, str], user: str, *lines: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "teddy", "chat", "--jsonl", "--user", user],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


async def seed_month(core: Runtime, platform: str, external_id: str) -> None:
    async with core.db.transaction() as session:
        user = await session.scalar(
            select(User)
            .join(Identity, Identity.user_id == User.id)
            .where(Identity.platform == platform, Identity.external_id == external_id)
        )
        assert user is not None
        await seed_history(session, user, days=30, now=datetime.now(UTC))


async def test_sign_in_see_the_dashboard_and_link_a_console_account(
    web_server, core, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright

    base, env = web_server
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        page = await browser.new_page(viewport={"width": 1100, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        await page.goto(f"{base}/signup")
        await page.fill("input[name=name]", "Ana")
        await page.fill("input[name=email]", "ana@example.org")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/dashboard")
        await page.click("text=Sign out")
        await page.wait_for_url(f"{base}/login")

        await page.fill("input[name=email]", "ana@example.org")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("form[action='/login'] button[type=submit]")
        await page.wait_for_url(f"{base}/dashboard")
        assert "Hi Ana" in await page.inner_text("h1")
        charts = await page.evaluate(
            "['activity-chart', 'study-chart', 'due-chart'].map(id => !!Chart.getChart(id))"
        )
        assert charts == [True, True, True]

        answer = console(env, "ana-laptop", "/settings tz Asia/Tokyo", "/link")
        code = str(answer[-1]["text"]).split("code: ")[1].split(" ")[0]
        await page.goto(f"{base}/link")
        await page.fill("input[name=code]", code)
        await page.click("form[action='/link'] button[type=submit]")
        await page.wait_for_selector("#linked-ok", timeout=90_000)
        assert "console" in await page.inner_text("#identities")
        await page.goto(f"{base}/settings")
        # The code's maker (the console account) keeps its profile; the browser stays signed in.
        assert await page.input_value("input[name=timezone]") == "Asia/Tokyo"
        assert await page.input_value("input[name=email]") == "ana@example.org"

        await page.goto(f"{base}/tasks")
        await page.fill("input[name=text]", "Lab report fri 5pm #chem")
        await page.click("form[action='/tasks'] button[type=submit]")
        await page.wait_for_selector("#open-tasks >> text=Lab report")
        await page.click("#open-tasks button[aria-label='done Lab report']")
        await page.wait_for_selector("#done-tasks >> text=Lab report")

        notes = tmp_path / "cells.txt"
        notes.write_text("Mitochondria make ATP for the cell.")
        await page.goto(f"{base}/documents")
        await page.set_input_files("input[name=file]", str(notes))
        await page.click("form[action='/documents'] button[type=submit]")
        await page.wait_for_selector("#documents >> text=cells.txt")

        await seed_month(core, "console", "ana-laptop")
        await page.goto(f"{base}/dashboard?period=month")
        assert int((await page.inner_text("#tile-streak .value")).split()[0]) > 0
        await browser.close()
        assert problems == []
