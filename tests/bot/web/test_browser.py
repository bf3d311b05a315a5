"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright. It
signs in through a one-time link, opens each page, checks that every chart drew (a
canvas in each figure) with no console error (a CSP violation is one), that the keyboard
reaches the figures, and that a period change swaps the page in place.

Screenshots go to a temporary folder; with LEADBOT_UPDATE_SCREENSHOTS=1 they replace the
ones in docs/img/ that docs/leads/dashboard.md shows.

In CI (CI set) a missing Chromium fails the test: .ci/run installs it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Response, async_playwright

from storage import people
from storage.db import Database
from tests.bot.web.harness import AGENT, LEAD, MANAGER, NOW, Dashboard, running, seed_demo
from tests.conftest import FakeClock

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_IMG = Path(__file__).resolve().parents[3] / "docs" / "img"


def require_chromium() -> str:
    found = shutil.which(CHROMIUM) or shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium not installed: apt-get install -y chromium (CI does)")
    return found


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("LEADBOT_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        return DOCS_IMG
    return tmp_path


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = require_chromium()
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=path, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture
async def dashboard(sqlite_file_db: Database) -> AsyncIterator[Dashboard]:
    await seed_demo(sqlite_file_db)
    async with running(sqlite_file_db, FakeClock(NOW)) as d:
        yield d


class Watched:
    """A page whose console errors and uncaught exceptions are collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.expected: set[int] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("response", self._response)

    def _response(self, response: Response) -> None:
        if response.status >= 400 and response.status not in self.expected:
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error" and not any(f"status of {s}" in msg.text for s in self.expected):
            self.errors.append(f"console: {msg.text}")


async def _sign_in(d: Dashboard, browser: Browser, email: str) -> Watched:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    w = Watched(await context.new_page())
    await w.page.goto(await d.link(email))
    await w.page.click("#signin")
    await w.page.wait_for_load_state("networkidle")
    return w


async def _charts_drew(w: Watched) -> int:
    """Every chart figure on the page has its canvas (waits for the last to draw)."""
    figures = await w.page.locator("figure.chart").count()
    if figures:
        await w.page.wait_for_function(
            "() => [...document.querySelectorAll('figure.chart')]"
            ".every(f => f.querySelector('canvas') || f.querySelector('.failed'))",
            timeout=10_000,
        )
        assert await w.page.locator("figure.chart .failed").count() == 0
        assert await w.page.locator("figure.chart canvas").count() >= figures
    return figures


async def _visit(w: Watched, url: str, shots: Path, name: str, *, full: bool = False) -> int:
    await w.page.goto(url)
    await w.page.wait_for_load_state("networkidle")
    drawn = await _charts_drew(w)
    await w.page.screenshot(path=str(shots / f"dashboard-{name}.png"), full_page=full)
    return drawn


async def test_a_lead_signs_in_and_the_team_page_draws(
    dashboard: Dashboard, browser: Browser, shots: Path
) -> None:
    billing = await people.get_team_by_name(dashboard.app.db, name="Billing")
    assert billing is not None
    w = await _sign_in(dashboard, browser, LEAD)
    assert w.page.url.endswith(f"/dashboard/team/{billing.id}")
    assert await w.page.title() == "Billing: KPIs · leadbot"
    assert await _charts_drew(w) >= 5
    await w.page.screenshot(path=str(shots / "dashboard-team.png"))
    heat = w.page.locator("table.heatmap")
    await heat.scroll_into_view_if_needed()
    await heat.screenshot(path=str(shots / "dashboard-heatmap.png"))

    # The keyboard: the first Tab reaches the skip link, which moves focus to the figures.
    await w.page.keyboard.press("Tab")
    focused = await w.page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to the figures"
    await w.page.keyboard.press("Enter")
    assert await w.page.evaluate("document.activeElement.id") == "content"

    # A period change swaps the content in place (htmx) and the charts draw again.
    await w.page.select_option("#days", "7")
    await w.page.wait_for_url(f"**/dashboard/team/{billing.id}?days=7")
    await w.page.wait_for_load_state("networkidle")
    assert await w.page.locator("#days").input_value() == "7"
    assert await _charts_drew(w) >= 5

    for path, name in (
        (f"/dashboard/pulse?team={billing.id}", "pulse"),
        (f"/dashboard/team/{billing.id}/kudos", "kudos"),
        (f"/dashboard/team/{billing.id}/actions", "actions"),
    ):
        await _visit(w, dashboard.url(path), shots, name, full=True)
    assert await w.page.locator("figure.chart canvas").count() == 0  # actions: tables only
    await w.page.goto(dashboard.url(f"/dashboard/pulse?team={billing.id}"))
    assert await _charts_drew(w) == 1
    assert not w.errors, w.errors


async def test_the_manager_and_an_agent_pages_draw(
    dashboard: Dashboard, browser: Browser, shots: Path
) -> None:
    m = await _sign_in(dashboard, browser, MANAGER)
    assert m.page.url.endswith("/dashboard/manager")
    assert await _charts_drew(m) >= 5
    await m.page.screenshot(path=str(shots / "dashboard-manager.png"))
    assert await _visit(m, dashboard.url("/dashboard/pulse"), shots, "pulse-all") == 3
    assert not m.errors, m.errors

    a = await _sign_in(dashboard, browser, AGENT)
    assert a.page.url.endswith("/dashboard/me")
    assert await _charts_drew(a) >= 5
    await a.page.screenshot(path=str(shots / "dashboard-agent.png"))
    billing = await people.get_team_by_name(dashboard.app.db, name="Billing")
    assert billing is not None
    a.expected = {403}  # the refused page itself
    resp = await a.page.goto(dashboard.url(f"/dashboard/team/{billing.id}"))
    assert resp is not None
    assert resp.status == 403
    assert not a.errors, a.errors


async def test_the_sign_in_page(dashboard: Dashboard, browser: Browser, shots: Path) -> None:
    context = await browser.new_context(viewport={"width": 900, "height": 420})
    w = Watched(await context.new_page())
    await w.page.goto(await dashboard.link(LEAD))
    assert await w.page.locator("#signin").inner_text() == "Sign in as Sam Carter"
    await w.page.screenshot(path=str(shots / "dashboard-signin.png"))
    assert not w.errors, w.errors
