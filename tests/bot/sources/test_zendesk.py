"""Zendesk satisfaction ratings as CSAT per agent, through the real pull job."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.sources.common import Policy
from bot.sources.zendesk import ZendeskSource
from domain.kpi import Aggregation as A
from jobs import kpi_pull
from storage.db import Database
from tests.bot.sources.fake_zendesk import EMAIL, TOKEN, FakeZendesk
from tests.bot.sources.helpers import at, center, person_figure, run_pull, stats, team_figure
from tests.bot.sources.loopback import Sleeps, serve
from tests.conftest import FakeClock, make_ctx


def rating(i: int, agent: int, score: str, when: dt.datetime) -> dict[str, object]:
    return {
        "id": i,
        "assignee_id": agent,
        "group_id": 9,
        "requester_id": 100 + i,
        "ticket_id": 500 + i,
        "score": score,
        "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeZendesk]:
    z = FakeZendesk()
    z.users = [
        {"id": 11, "name": "Ann", "email": "ann.agent@example.com", "role": "agent"},
        {"id": 12, "name": "Bob", "email": "BOB.agent@example.com", "role": "admin"},
        {"id": 13, "name": "Customer", "email": "c@x.test", "role": "end-user"},
    ]
    yesterday = at("16:00") - dt.timedelta(days=1)
    z.ratings = [
        rating(1, 11, "good", at("08:01")),
        rating(2, 11, "good", at("08:10")),
        rating(3, 11, "bad", at("08:20")),
        rating(4, 12, "good", at("09:40")),
        rating(5, 12, "offered", at("09:41")),  # not answered: not a rating yet
        rating(6, 11, "good", yesterday),
    ] + [rating(100 + k, 12, "bad" if k % 4 == 0 else "good", at("09:00")) for k in range(250)]
    async with serve(z):
        yield z


def source(fake: FakeZendesk, sleeps: Sleeps | None = None, token: str = TOKEN) -> ZendeskSource:
    return ZendeskSource(
        api_url=fake.url,
        email=EMAIL,
        token=token,
        sleep=sleeps or Sleeps(),
        policy=Policy(retries=2, backoff=0.1, timeout=5, rate_per_second=1000),
    )


async def test_csat_per_agent_from_ratings(
    any_db: Database, fake: FakeZendesk, clock: FakeClock
) -> None:
    c = await center(any_db)
    sleeps = Sleeps()
    fake.fail(
        "/satisfaction_ratings", 429, {"error": "TooManyRequests"}, headers={"Retry-After": "3"}
    )
    ctx = make_ctx(any_db, clock)
    await run_pull(ctx, source(fake, sleeps))
    assert 3.0 in sleeps.waits
    assert fake.calls("/satisfaction_ratings") > 3  # 250 ratings: pages of 100, followed
    assert await person_figure(any_db, c.ann, "csat", A.ratio) == pytest.approx(100 * 2 / 3)
    bob_good = 1 + sum(1 for k in range(250) if k % 4)
    assert await person_figure(any_db, c.bob, "csat", A.ratio) == pytest.approx(
        100 * bob_good / 251
    )
    team = 100 * (2 + bob_good) / (3 + 251)
    assert await team_figure(any_db, c.team, "csat", A.ratio) == pytest.approx(team)
    yesterday = at("00:00").date() - dt.timedelta(days=1)
    assert await person_figure(any_db, c.ann, "csat", A.ratio, yesterday) == pytest.approx(100)
    assert f"{team:.1f}%" in await stats(ctx, c.lead, "/stats today")


async def test_bad_token_is_named(db: Database, fake: FakeZendesk, clock: FakeClock) -> None:
    report = await source(fake, token="wrong").check()
    assert not report.ok
    assert "ZENDESK_API_TOKEN" in (report.problem or "")
    fake.fail(
        "/satisfaction_ratings",
        403,
        {"error": "Forbidden", "description": "You do not have access"},
    )
    report = await source(fake).check()
    assert not report.ok
    assert "admin" in (report.problem or "")
    result = await kpi_pull.pull_intervals(make_ctx(db, clock), source(fake, token="wrong"))
    assert not result.ok
    good = await source(fake).check()
    assert good.ok, good.problem
    assert any("2 agents" in f for f in good.facts)
