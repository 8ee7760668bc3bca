"""axe-core (vendored from the npm package, MPL-2.0, in tests/support/axe) over every page
in Chromium: no serious or critical WCAG 2.1 A/AA violation. (The screenshots in docs/web/
are written by test_browser_screenshots.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from teddy.servers import Servers
from tests.e2e.test_browser import CHROMIUM, LAUNCH_ARGS, PASSWORD, console
from tests.e2e.web_process import running_api

AXE = Path(__file__).resolve().parents[1] / "support" / "axe" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1100, "height": 900}
RUN_AXE = """async (skip) => {
  const rules = Object.fromEntries(skip.map(id => [id, {enabled: false}]));
  const found = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
    rules,
  });
  return found.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
}"""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


@pytest.fixture
def web_server(
    tmp_path: Path, servers: Servers, core: object
) -> Iterator[tuple[str, dict[str, str]]]:
    with running_api(tmp_path, servers) as running:
        yield running


WIDER_THAN_SCREEN = """() => document.documentElement.scrollWidth > window.innerWidth
  ? [...document.querySelectorAll('body *')]
      .filter(e => e.getBoundingClientRect().right > window.innerWidth)
      .map(e => e.tagName + '.' + e.className).slice(0, 5).join(' ') || 'yes'
  : ''"""


# Swagger UI (vendored as it is) puts a copy button inside each operation's role=button
# header: a structure of its own that no stylesheet of ours can change.
UPSTREAM = {"/api/docs": ["nested-interactive"]}


async def violations(page: Any, path: str = "") -> list[str]:
    # The test's own script goes in past the CSP (bypass_csp); the pages' CSP is unchanged.
    await page.add_script_tag(path=str(AXE))
    found: list[str] = await page.evaluate(RUN_AXE, UPSTREAM.get(path, []))
    return found


async def test_no_page_has_a_serious_or_critical_accessibility_violation(
    web_server, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright

    base, env = web_server
    answer = console(
        env,
        "ana-axe",
        "/deck Biology",
        "/card Mitochondria | powerhouse of the cell",
        "/card Ribosome | makes proteins",
        "/exam Biology midterm in 4 days 9am",
        "/link",
    )
    code = str(answer[-1]["text"]).split("code: ")[1].split(" ")[0]
    report: dict[str, list[str]] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        context = await browser.new_context(
            bypass_csp=True, viewport={"width": 1100, "height": 900}
        )
        page = await context.new_page()

        async def check(path: str) -> None:
            await page.goto(f"{base}{path}")
            if path == "/api/docs":
                await page.wait_for_selector(".opblock-summary-path", timeout=30_000)
            report[path] = await violations(page, path)
            await page.set_viewport_size(PHONE)
            await page.wait_for_timeout(400)  # charts follow the narrower screen
            wider = await page.evaluate(WIDER_THAN_SCREEN) if path != "/api/docs" else ""
            if wider:
                report[path].append(f"wider than a 390 px phone screen: {wider}")
            await page.set_viewport_size(DESKTOP)

        for path in ("/login", "/signup", "/forgot-password"):
            await check(path)
        await page.goto(f"{base}/signup")
        await page.fill("input[name=name]", "Ana")
        await page.fill("input[name=email]", "axe@example.org")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/dashboard")
        await page.goto(f"{base}/link")
        await page.fill("input[name=code]", code)
        await page.click("form[action='/link'] button[type=submit]")
        await page.wait_for_selector("#linked-ok", timeout=90_000)

        await page.goto(f"{base}/tasks")
        await page.fill("#new-task", "Lab report fri 5pm #chem !high")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#saved")
        notes = tmp_path / "cells.txt"
        notes.write_text("Mitochondria make ATP for the cell. Ribosomes make proteins.")
        await page.goto(f"{base}/documents")
        await page.set_input_files("input[name=file]", str(notes))
        await page.click("form[action='/documents'] button[type=submit]")
        await page.wait_for_selector("#documents >> text=cells.txt")
        delete_link = await page.get_attribute("#documents a[href$='/delete']", "href")
        await page.goto(f"{base}/decks")
        deck_link = str(await page.get_attribute("#decks a[href^='/decks/']", "href"))

        for path in (
            "/dashboard",
            "/tasks",
            "/plan",
            "/decks",
            "/review",
            "/documents",
            "/documents/search?q=mitochondria",
            str(delete_link),
            deck_link,
            f"{deck_link}/delete",
            "/rooms",
            "/link",
            "/settings",
            "/api/docs",
        ):
            await check(path)
        await page.goto(f"{base}/review")
        await page.click("#review-all button")
        await page.wait_for_selector("#card-front")
        report["/review/<id> (front)"] = await violations(page)
        await page.keyboard.press("Space")
        report["/review/<id> (answer)"] = await violations(page)
        await page.click("form[action$='/end'] button")
        await page.wait_for_selector("#review-summary")
        report["/review/<id> (summary)"] = await violations(page)
        await browser.close()
    failing = [f"{path}: {problem}" for path, found in report.items() for problem in found]
    assert failing == [], "\n".join(failing)
    assert len(report) == 20
