"""Every dashboard page renders for each role on the demo center, with its charts' data,
their text alternatives, and the security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage import people
from storage.db import Database
from tests.bot.web.harness import (
    ADMIN,
    AGENT,
    LEAD,
    MANAGER,
    NOW,
    Dashboard,
    running,
    seed_demo,
)
from tests.conftest import FakeClock


@pytest.fixture
async def dashboard(db: Database) -> AsyncIterator[Dashboard]:
    await seed_demo(db)
    async with running(db, FakeClock(NOW)) as d:
        yield d


async def _team_id(d: Dashboard, name: str) -> int:
    team = await people.get_team_by_name(d.app.db, name=name)
    assert team is not None
    assert team.id is not None
    return team.id


async def test_a_lead_lands_on_their_team_and_every_team_page_renders(dashboard: Dashboard) -> None:
    billing = await _team_id(dashboard, "Billing")
    async with dashboard.signed_in(LEAD) as b:
        async with b.get(dashboard.url("/dashboard/"), allow_redirects=False) as r:
            assert r.status == 302
            assert r.headers["Location"] == f"/dashboard/team/{billing}"
        async with b.get(dashboard.url(f"/dashboard/team/{billing}")) as r:
            html = await r.text()
            assert r.status == 200
            assert "Billing: KPIs against goals" in html
            assert 'class="heatmap"' in html
            assert "Maria Lopez" in html  # an agent row of the heatmap
            assert html.count('<figure class="chart"') >= 5
            assert html.count("as a table</summary>") >= 5  # each chart's text alternative
            assert "No intraday intervals are stored" in html  # the hook's fallback
            csp = r.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp
            assert "frame-ancestors 'none'" in csp
            assert r.headers["Referrer-Policy"] == "no-referrer"
            assert r.headers["Cache-Control"] == "no-store"
            assert "<script>" not in html
            assert "onclick" not in html
            assert "style=" not in html
        async with b.get(dashboard.url(f"/dashboard/api/team/{billing}?days=30")) as r:
            data = await r.json()
            aht = data["charts"]["aht"]
            assert len(aht["x"]) == 30
            assert len(aht["y"]) == 30
            assert aht["goal"]["op"] == "<="
            assert "curve" in data["charts"]
        for path in (
            f"/dashboard/pulse?team={billing}",
            f"/dashboard/team/{billing}/kudos",
            f"/dashboard/team/{billing}/actions",
            "/dashboard/me",
        ):
            async with b.get(dashboard.url(path)) as r:
                assert r.status == 200, path
                html = await r.text()
                assert "<h1>" in html
        async with b.get(dashboard.url(f"/dashboard/team/{billing}/kudos")) as r:
            html = await r.text()
            assert "Quiet achievers" in html  # the lead sees them
            assert "Who recognises whom" in html


async def test_a_period_change_from_htmx_gets_the_content_only(dashboard: Dashboard) -> None:
    billing = await _team_id(dashboard, "Billing")
    async with (
        dashboard.signed_in(LEAD) as b,
        b.get(
            dashboard.url(f"/dashboard/team/{billing}?days=7"), headers={"HX-Request": "true"}
        ) as r,
    ):
        html = await r.text()
        assert r.status == 200
        assert "<html" not in html
        assert "<h1>Billing: KPIs against goals</h1>" in html
        assert 'value="7" selected' in html


async def test_the_manager_sees_teams_side_by_side(dashboard: Dashboard) -> None:
    async with dashboard.signed_in(MANAGER) as b:
        async with b.get(dashboard.url("/dashboard/")) as r:
            html = await r.text()
            assert r.status == 200
            assert "Teams side by side" in html
            for team in ("Billing", "Tech Support", "Retention"):
                assert team in html
        async with b.get(dashboard.url("/dashboard/api/manager?days=30")) as r:
            data = await r.json()
            assert len(data["charts"]["aht"]["lines"]) == 3
        async with b.get(dashboard.url("/dashboard/pulse")) as r:
            assert r.status == 200
            assert "Results, as chat shows them" in await r.text()
        tech = await _team_id(dashboard, "Tech Support")
        async with b.get(dashboard.url(f"/dashboard/team/{tech}/kudos")) as r:
            html = await r.text()
            assert r.status == 200
            assert "Quiet achievers" not in html  # the team has a lead: theirs only


async def test_an_agent_sees_their_own_trends(dashboard: Dashboard) -> None:
    async with dashboard.signed_in(AGENT) as b:
        async with b.get(dashboard.url("/dashboard/")) as r:
            html = await r.text()
            assert r.status == 200
            assert "My figures" in html
            assert "Maria Lopez" in html
            assert "Team</a>" not in html  # no team pages in an agent's navigation
        async with b.get(dashboard.url("/dashboard/api/me")) as r:
            data = await r.json()
            assert data["charts"]


async def test_an_admin_has_their_own_page_only(dashboard: Dashboard) -> None:
    async with dashboard.signed_in(ADMIN) as b, b.get(dashboard.url("/dashboard/")) as r:
        assert r.status == 200
        assert "My figures" in await r.text()


async def test_signed_out_pages_say_how_to_sign_in(dashboard: Dashboard) -> None:
    async with dashboard.browser() as b:
        async with b.get(dashboard.url("/dashboard/")) as r:
            assert r.status == 401
            assert "/leadbot dashboard" in await r.text()
        async with b.get(dashboard.url("/dashboard/api/me")) as r:
            assert r.status == 401
            assert "error" in await r.json()
