"""Genesys Cloud through the real pull job, against a loopback fake of its API: the figures
`/stats` shows are the contact-weighted ones computed by hand from the fake's data."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.sources.common import Policy
from bot.sources.genesys import GenesysSource
from domain.fmt import fmt_value
from domain.kpi import Aggregation as A
from domain.sources import Window
from jobs import kpi_pull
from storage import intervals, people, sources
from storage.db import Database
from storage.models import Team
from tests.bot.sources.fake_genesys import CLIENT_ID, CLIENT_SECRET, FakeGenesys
from tests.bot.sources.helpers import (
    at,
    center,
    map_queue,
    person_figure,
    run_pull,
    stats,
    team_figure,
)
from tests.bot.sources.loopback import Sleeps, serve
from tests.conftest import FakeClock, fresh_store, make_ctx

FAST = Policy(retries=3, backoff=0.5, timeout=5, rate_per_second=1000)


@pytest.fixture
async def fake() -> AsyncIterator[FakeGenesys]:
    g = FakeGenesys()
    g.users = [
        {"id": "u-ann", "name": "Ann Agent", "email": "Ann.Agent@example.com"},
        {"id": "u-bob", "name": "Bob Agent", "email": "bob.agent@example.com"},
        {"id": "u-zed", "name": "Zed Nobody", "email": "zed@elsewhere.test"},
    ]
    g.queues = [{"id": "q-bill", "name": "Billing Voice"}, {"id": "q-sales", "name": "Sales"}]
    async with serve(g):
        yield g


def source(fake: FakeGenesys, sleeps: Sleeps | None = None, **kw: object) -> GenesysSource:
    return GenesysSource(
        client_id=kw.pop("client_id", CLIENT_ID),  # type: ignore[arg-type]
        client_secret=kw.pop("client_secret", CLIENT_SECRET),  # type: ignore[arg-type]
        api_url=fake.url,
        login_url=fake.url,
        sleep=sleeps or Sleeps(),
        policy=FAST,
        repull=dt.timedelta(hours=2),
        **kw,  # type: ignore[arg-type]
    )


def morning(g: FakeGenesys) -> None:
    """09:00-09:45 today: two agents, one queue, surveys (times in milliseconds)."""
    conv = "conversations"
    g.stat(conv, "userId", "u-ann", at("09:00"), "tHandle", sum=600_000, count=2, max=400_000)
    g.stat(conv, "userId", "u-ann", at("09:15"), "tHandle", sum=900_000, count=3)
    g.stat(conv, "userId", "u-bob", at("09:30"), "tHandle", sum=1_500_000, count=4)
    g.stat(conv, "userId", "u-ann", at("09:15"), "nTransferred", count=1)
    g.stat(conv, "userId", "u-zed", at("09:00"), "tHandle", sum=100_000, count=1)
    g.stat(
        conv,
        "queueId",
        "q-bill",
        at("09:00"),
        "oServiceLevel",
        ratio=0.8,
        numerator=8,
        denominator=10,
        target=0.8,
    )
    g.stat(
        conv,
        "queueId",
        "q-bill",
        at("09:15"),
        "oServiceLevel",
        ratio=0.5,
        numerator=5,
        denominator=10,
        target=0.8,
    )
    g.stat(conv, "queueId", "q-bill", at("09:00"), "tAnswered", sum=120_000, count=8)
    g.stat(conv, "queueId", "q-bill", at("09:15"), "tAnswered", sum=60_000, count=5)
    g.stat(conv, "queueId", "q-bill", at("09:00"), "nOffered", count=10)
    g.stat(conv, "queueId", "q-bill", at("09:15"), "nOffered", count=10)
    g.stat(conv, "queueId", "q-bill", at("09:00"), "tAbandon", count=2, sum=50_000)
    g.stat(conv, "queueId", "q-bill", at("09:15"), "tAbandon", count=3, sum=90_000)
    g.stat(conv, "queueId", "q-sales", at("09:00"), "nOffered", count=99)
    g.stat("surveys", "userId", "u-ann", at("09:00"), "oSurveyTotalScore", sum=180, count=2)
    g.stat("surveys", "userId", "u-ann", at("09:00"), "nSurveyNpsResponses", count=2)
    g.stat("surveys", "userId", "u-ann", at("09:00"), "nSurveyNpsPromoters", count=1)
    g.stat("surveys", "userId", "u-ann", at("09:00"), "nSurveyNpsDetractors", count=0)


async def test_a_pull_gives_the_figures_stats_shows(
    any_db: Database, fake: FakeGenesys, clock: FakeClock
) -> None:
    c = await center(any_db)
    morning(fake)
    ctx = make_ctx(any_db, clock)
    await run_pull(ctx, source(fake))
    await map_queue(any_db, "genesys", "q-bill", c.team)

    # Hand-computed, contact-weighted: sums over counts, never means of means.
    aht = (600 + 900 + 1500) / (2 + 3 + 4)  # 333.3 s: ann's 5 and bob's 4 contacts
    assert await team_figure(any_db, c.team, "aht", A.weighted_mean) == pytest.approx(aht)
    assert await person_figure(any_db, c.ann, "aht", A.weighted_mean) == pytest.approx(300)
    assert await person_figure(any_db, c.bob, "aht", A.weighted_mean) == pytest.approx(375)
    sl = 100 * (8 + 5) / (10 + 10)  # oServiceLevel's own counts: 65 %
    assert await team_figure(any_db, c.team, "service_level", A.ratio) == pytest.approx(sl)
    asa = (120 + 60) / (8 + 5)  # 13.8 s per answered contact
    assert await team_figure(any_db, c.team, "asa", A.weighted_mean) == pytest.approx(asa)
    abandon = 100 * (2 + 3) / (10 + 10)
    assert await team_figure(any_db, c.team, "abandon_rate", A.ratio) == pytest.approx(abandon)
    assert await person_figure(any_db, c.ann, "csat", A.ratio) == pytest.approx(90)
    assert await person_figure(any_db, c.ann, "nps", A.nps) == pytest.approx(50)
    assert await person_figure(any_db, c.ann, "fcr", A.ratio) is None  # not configured

    text = await stats(ctx, c.lead, "/stats today")
    for unit, value in (("s", aht), ("%", sl), ("s", asa), ("%", abandon)):
        assert fmt_value(unit, value) in text, text

    # Users are matched by email (any case); the stranger and the unmapped queue are listed.
    subjects = {s.external_id: s for s in await sources.list_subjects(any_db, source="genesys")}
    assert subjects["u-ann"].email == "ann.agent@example.com"
    resolved = await sources.resolve(any_db)
    assert ("genesys", "agent", "u-zed") not in resolved
    assert ("genesys", "queue", "q-sales") not in resolved
    assert resolved[("genesys", "queue", "q-bill")].team_id == c.team.id

    # The request: the window's interval, 15-minute granularity, both groupings, surveys.
    q = fake.queries[0]
    assert q["granularity"] == "PT15M"
    assert q["interval"].endswith(".000Z")
    assert "/" in q["interval"]
    assert {(x["kind"], x["groupBy"][0]) for x in fake.queries} == {
        ("conversations", "userId"),
        ("conversations", "queueId"),
        ("surveys", "userId"),
    }


async def test_fcr_from_transfers_when_configured(
    db: Database, fake: FakeGenesys, clock: FakeClock
) -> None:
    c = await center(db)
    morning(fake)
    await run_pull(make_ctx(db, clock), source(fake, fcr_from_transfers=True))
    # ann handled 5 and transferred 1: 4 of 5 resolved.
    assert await person_figure(db, c.ann, "fcr", A.ratio) == pytest.approx(80)


async def test_429_waits_its_retry_after_and_an_expired_token_is_renewed(
    db: Database, fake: FakeGenesys, clock: FakeClock
) -> None:
    c = await center(db)
    morning(fake)
    sleeps = Sleeps()
    src = source(fake, sleeps)
    fake.fail(
        "/aggregates/query", 429, {"message": "Rate limit exceeded"}, headers={"Retry-After": "7"}
    )
    await run_pull(make_ctx(db, clock), src)
    assert 7.0 in sleeps.waits
    assert len(fake.tokens) == 1

    fake.expire_tokens()  # a day later, the token has expired
    clock.advance(minutes=15)
    fake.stat("conversations", "userId", "u-bob", at("10:00"), "tHandle", sum=300_000, count=1)
    await run_pull(make_ctx(db, clock), src)
    assert len(fake.tokens) == 2  # renewed once, the pull went on
    assert await person_figure(db, c.bob, "aht", A.weighted_mean) == pytest.approx(1800 / 5)


async def test_a_missing_permission_is_named_and_changes_nothing(
    db: Database, fake: FakeGenesys, clock: FakeClock
) -> None:
    await center(db)
    morning(fake)
    fake.fail(
        "/surveys/aggregates",
        403,
        {
            "message": "You are missing the following permission(s): "
            "analytics:surveyAggregate:view",
            "code": "missing.any.permissions",
            "status": 403,
        },
    )
    result = await kpi_pull.pull_intervals(make_ctx(db, clock), source(fake))
    assert not result.ok
    assert "analytics:surveyAggregate:view" in (result.error or "")
    assert "HTTP 403" in (result.error or "")
    assert await intervals.count_intervals(db) == 0  # the window was not half-applied
    state = await sources.get_state(db, source="genesys")
    assert state is not None
    assert state.watermark is None
    assert state.last_error


async def test_wrong_credentials_and_wrong_region_say_so(
    db: Database, fake: FakeGenesys, clock: FakeClock
) -> None:
    report = await source(fake, client_secret="nope").check()
    assert not report.ok
    assert "GENESYS_CLIENT_SECRET" in (report.problem or "")
    ok = await source(fake).check()
    assert ok.ok, ok.problem
    assert any("3 users and 2 queues" in f for f in ok.facts)
    lost = GenesysSource(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        api_url="http://api.genesys.invalid",
        login_url="http://login.genesys.invalid",
        policy=FAST,
        sleep=Sleeps(),
    )
    report = await lost.check()
    assert not report.ok
    assert "GENESYS_REGION" in (report.problem or "")


async def test_a_late_metric_replaces_its_interval(
    any_db: Database, fake: FakeGenesys, clock: FakeClock
) -> None:
    c = await center(any_db)
    morning(fake)
    src = source(fake)
    await run_pull(make_ctx(any_db, clock), src)
    before = await intervals.count_intervals(any_db)
    # Bob's long call ended later: Genesys now reports a larger handle time for 09:30.
    fake.stat("conversations", "userId", "u-bob", at("09:30"), "tHandle", sum=2_000_000, count=5)
    clock.advance(minutes=15)
    await run_pull(make_ctx(any_db, clock), src)
    assert await intervals.count_intervals(any_db) == before  # replaced, not added
    assert await person_figure(any_db, c.bob, "aht", A.weighted_mean) == pytest.approx(400)
    assert await team_figure(any_db, c.team, "aht", A.weighted_mean) == pytest.approx(
        (600 + 900 + 2000) / (2 + 3 + 5)
    )


async def test_an_interrupted_pull_run_again_equals_one_clean_pull(
    fake: FakeGenesys, clock: FakeClock
) -> None:
    morning(fake)
    async with fresh_store("sqlite") as clean, fresh_store("sqlite") as broken:
        for db in (clean, broken):
            await center(db)

        def windowed() -> GenesysSource:
            s = source(fake)
            s.max_window = dt.timedelta(minutes=30)  # many windows, each applied on its own
            return s

        await run_pull(make_ctx(clean, clock), windowed())
        # The third window's first request fails for good (1 try + 3 retries): two windows
        # are applied whole, the rest not at all.
        fake.fail("/conversations/aggregates", 503, {"message": "down"}, times=4, after=4)
        src = windowed()
        broken_ctx = make_ctx(broken, clock)
        first = await kpi_pull.pull_intervals(broken_ctx, src)
        assert not first.ok
        assert first.windows == 2
        state = await sources.get_state(broken, source="genesys")
        assert state is not None
        assert state.watermark is not None
        again = await kpi_pull.pull_intervals(broken_ctx, src)
        assert again.ok, again.error
        assert await intervals.list_intervals(broken, source="genesys") == (
            await intervals.list_intervals(clean, source="genesys")
        )
        for db in (clean, broken):
            c = await center_of(db)
            assert await team_figure(db, c, "aht", A.weighted_mean) == pytest.approx(3000 / 9)


async def center_of(db: Database) -> Team:
    team = await people.get_team_by_name(db, name="Billing")
    assert team is not None
    return team


def test_windows_cover_the_repull_and_split() -> None:
    from domain.sources import plan_windows

    now = dt.datetime(2026, 11, 17, 10, 7, tzinfo=dt.UTC)
    ws = plan_windows(
        watermark=at("10:00"),
        now=now,
        minutes=15,
        repull=dt.timedelta(hours=1),
        max_window=dt.timedelta(minutes=30),
    )
    assert [str(w) for w in ws] == [
        "2026-11-17T09:00:00Z/2026-11-17T09:30:00Z",
        "2026-11-17T09:30:00Z/2026-11-17T10:00:00Z",
        "2026-11-17T10:00:00Z/2026-11-17T10:15:00Z",
    ]
    assert Window(at("09:00"), at("09:15")).seconds == 900
