"""Twilio Flex (TaskRouter) through the twilio SDK and the real pull job."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator

import pytest

from bot.sources.common import MissingExtra
from bot.sources.flex import FlexSource
from domain.kpi import Aggregation as A
from storage import sources
from storage.db import Database
from tests.bot.sources.fake_flex import ACCOUNT, TOKEN, WORKSPACE, FakeFlex
from tests.bot.sources.helpers import at, center, map_queue, run_pull, stats, team_figure
from tests.bot.sources.loopback import Sleeps, serve
from tests.conftest import FakeClock, make_ctx


@pytest.fixture
async def fake() -> AsyncIterator[FakeFlex]:
    f = FakeFlex(page_size=2)
    f.queues = [
        {"sid": f"WQ{i}", "friendly_name": name}
        for i, name in enumerate(("Billing", "Sales", "Returns"))
    ]
    f.workers = [
        {"sid": "WK1", "friendly_name": "ann", "attributes": '{"email": "ann.agent@example.com"}'},
        {
            "sid": "WK2",
            "friendly_name": "bob",
            "attributes": '{"contact_uri": "client:bob.agent@example.com"}',
        },
        {"sid": "WK3", "friendly_name": "zed", "attributes": "{}"},
    ]
    f.stats[("WQ0", at("09:00"))] = {
        "entered": 10,
        "accepted": 9,
        "canceled": 1,
        "below": 8,
        "avg_accept": 12,
    }
    f.stats[("WQ0", at("09:15"))] = {
        "entered": 10,
        "accepted": 10,
        "canceled": 0,
        "below": 6,
        "avg_accept": 20,
    }
    async with serve(f):
        yield f


def source(fake: FakeFlex, clock: FakeClock, sleeps: Sleeps, token: str = TOKEN) -> FlexSource:
    return FlexSource(
        account_sid=ACCOUNT,
        auth_token=token,
        workspace_sid=WORKSPACE,
        base_url=fake.url,
        sleep=sleeps,
        clock=clock,
    )


async def test_queue_figures_from_cumulative_statistics(
    any_db: Database, fake: FakeFlex, clock: FakeClock
) -> None:
    c = await center(any_db)
    sleeps = Sleeps()
    fake.fail(
        "/CumulativeStatistics",
        429,
        {"code": 20429, "message": "Too many requests"},
        headers={"Retry-After": "4"},
    )
    src = source(fake, clock, sleeps)
    ctx = make_ctx(any_db, clock)
    try:
        await run_pull(ctx, src)
        await map_queue(any_db, "flex", "WQ0", c.team)
    finally:
        await src.aclose()
    assert 4.0 in sleeps.waits
    sl = 100 * (8 + 6) / 20  # accepted within 20 s over tasks entered
    assert await team_figure(any_db, c.team, "service_level", A.ratio) == pytest.approx(sl)
    assert await team_figure(any_db, c.team, "abandon_rate", A.ratio) == pytest.approx(5)
    asa = (12 * 9 + 20 * 10) / 19
    assert await team_figure(any_db, c.team, "asa", A.weighted_mean) == pytest.approx(asa)
    assert "70.0%" in await stats(ctx, c.lead, "/stats today")
    resolved = await sources.resolve(any_db)
    assert resolved[("flex", "agent", "WK1")].person_id == c.ann.id
    assert resolved[("flex", "agent", "WK2")].person_id == c.bob.id  # from contact_uri
    assert ("flex", "agent", "WK3") not in resolved


async def test_wrong_token_is_named(fake: FakeFlex, clock: FakeClock) -> None:
    src = source(fake, clock, Sleeps(), token="wrong")
    try:
        report = await src.check()
    finally:
        await src.aclose()
    assert not report.ok
    assert "TWILIO_AUTH_TOKEN" in (report.problem or "")
    good = source(fake, clock, Sleeps())
    try:
        ok = await good.check()
    finally:
        await good.aclose()
    assert ok.ok, ok.problem
    assert any("3 workers and 3 task queues" in f for f in ok.facts)


def test_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.sources import flex

    monkeypatch.setitem(sys.modules, "twilio.rest", None)
    with pytest.raises(MissingExtra, match=r"leadbot\[flex\]"):
        flex.paced_client(None, Sleeps())
