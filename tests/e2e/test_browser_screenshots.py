"""Every page at desktop and phone (390 px) width, with data in it: each loads without a
script error, fits a phone screen, and axe-core finds no serious or critical violation.
With TEDDY_SCREENSHOTS=1 the screenshots go to docs/web/ (linked from docs/web.md):

    TEDDY_SCREENSHOTS=1 python -m pytest tests/e2e/test_browser_screenshots.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.web_seed import seed_history
from teddy.runtime import Runtime
from tests.e2e.test_browser import CHROMIUM, LAUNCH_ARGS, PASSWORD, seed_month
from tests.e2e.test_browser_accessibility import (
    DESKTOP,
    PHONE,
    WIDER_THAN_SCREEN,
    violations,
)
from tests.e2e.test_browser_live import LECTURE, console, llm, pytestmark, web_server
from tests.integration.test_tutor_grounded import cite_the_passage_with, pdf_bytes
from tests.support.fake_llm import FakeLLM, FakeReply

__all__ = ["llm", "pytestmark", "seed_history", "web_server"]
DOCS_WEB = Path(__file__).resolve().parents[2] / "docs" / "web"


async def test_every_page_at_desktop_and_phone_width(
    web_server, llm: FakeLLM, core: Runtime, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright

    base, env = web_server
    out = DOCS_WEB if os.environ.get("TEDDY_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    llm.default = cite_the_passage_with("mitochondrial matrix")
    cards = [f"/card Capital of country {n} | City {n}" for n in range(1, 6)]
    console(
        env, "ana-shots", None, "/deck Geography", *cards, "/task Lab report fri 5pm #chem !high"
    )
    console(
        env,
        "ana-shots",
        None,
        "/task Read chapter 4 tomorrow #bio",
        "/task Essay plan #history !low",
        "/exam Geography final in 4 days 9am",
        "/hours 2h weekdays, 3h weekends",
    )
    console(env, "ana-shots", "study-group", "/room")
    console(env, "ben-shots", "study-group", "/room")
    started = console(env, "ben-shots", "study-group", "/focus 25 5")
    join = next(b["action"] for m in started for b in m.get("buttons", []) if b["label"] == "Join")
    console(env, "ana-shots", "study-group", json.dumps({"action": join}))
    await seed_month(core, "console", "ana-shots")
    code = str(console(env, "ana-shots", None, "/link")[-1]["text"]).split("code: ")[1]
    pdf = tmp_path / "lecture-3.pdf"
    pdf.write_bytes(pdf_bytes(LECTURE))
    problems: list[str] = []
    report: dict[str, list[str]] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        context = await browser.new_context(bypass_csp=True, viewport=DESKTOP)
        page = await context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        async def shoot(name: str, path: str | None = None, ready: str | None = None) -> None:
            if path is not None:
                await page.goto(f"{base}{path}")
            if ready is not None:
                await page.wait_for_selector(ready, timeout=30_000)
            report[name] = await violations(page, path or "")
            await page.screenshot(path=str(out / f"{name}-desktop.png"), full_page=True)
            await page.set_viewport_size(PHONE)
            await page.wait_for_timeout(400)  # charts follow the narrower screen
            wider = await page.evaluate(WIDER_THAN_SCREEN) if name != "api-docs" else ""
            if wider:
                report[name].append(f"wider than a 390 px phone screen: {wider}")
            await page.screenshot(path=str(out / f"{name}-phone.png"), full_page=True)
            await page.set_viewport_size(DESKTOP)

        await shoot("login", "/login")
        await shoot("signup", "/signup")
        await shoot("forgot-password", "/forgot-password")
        await page.goto(f"{base}/signup")
        await page.fill("input[name=name]", "Ana")
        await page.fill("input[name=email]", "shots@example.org")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/dashboard")
        await page.goto(f"{base}/link")
        await page.fill("input[name=code]", code.split(" ")[0])
        await page.click("form[action='/link'] button[type=submit]")
        await page.wait_for_selector("#linked-ok", timeout=90_000)
        await shoot("link")

        await page.goto(f"{base}/documents")
        await page.set_input_files("#document-file", str(pdf))
        await page.click("form[action='/documents'] button[type=submit]")
        await page.wait_for_selector("a[aria-label='ask about lecture-3.pdf']", timeout=90_000)
        await shoot("dashboard", "/dashboard", "canvas")
        await shoot("insights", "/insights")
        await shoot("plan", "/plan")
        await shoot("tasks", "/tasks")
        await shoot("decks", "/decks")
        deck = str(await page.get_attribute("#decks a[href^='/decks/']", "href"))
        await shoot("card-browser", deck)
        card_delete = str(await page.get_attribute("a[href^='/cards/'][href$='/delete']", "href"))
        await shoot("card-delete", card_delete)
        await shoot("deck-delete", f"{deck}/delete")
        await shoot("review-decks", "/review")
        await page.click("#review-all button")
        await page.wait_for_selector("#card-front")
        await page.keyboard.press("Space")
        await shoot("review-card")
        await page.click("form[action$='/end'] button")
        await shoot("review-summary", None, "#review-summary")
        await shoot("documents", "/documents")
        delete = str(await page.get_attribute("#documents a[href$='/delete']", "href"))
        await shoot("document-search", "/documents/search?q=krebs+cycle")
        await shoot("document-delete", delete)
        await page.goto(f"{base}/documents/ask")
        await page.fill("#ask-question", "Where does the Krebs cycle take place?")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#answer[data-done]", timeout=30_000)
        await page.click("a.cite")
        await shoot("ask")
        llm.default = lambda _: FakeReply(
            "Think of it as a wheel in the mitochondria: each turn strips carbon from the "
            "fuel, releases CO2 and charges NADH and FADH2 for the electron transport chain."
        )
        await page.goto(f"{base}/tutor")
        await page.fill("#say-text", "Can you explain the Krebs cycle simply?")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(".message.assistant[data-done]", timeout=30_000)
        await shoot("tutor", "/tutor")
        await shoot("rooms", "/rooms")
        await page.click("a[href^='/rooms/']")
        await page.wait_for_selector("#live-state >> text=Live.")
        await shoot("room")
        await page.click("#focus-stop")
        await shoot("room-start", None, "#focus-start")  # no session running: Start
        await shoot("settings", "/settings")
        await shoot("api-docs", "/api/docs", ".opblock-summary-path")
        await browser.close()
    failing = [f"{name}: {problem}" for name, found in report.items() for problem in found]
    assert failing == [], "\n".join(failing)
    assert problems == []
    assert len(report) == 25
