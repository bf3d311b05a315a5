"""The KPI pull over HTTP (the `http` source, bot/sources/http.py, through the pull job),
against a loopback aiohttp server (no real waits)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.sources import build_sources
from bot.sources.http import HttpSource
from domain.kpi import Aggregation, combine
from domain.roles import Role
from handlers.core.context import HandlerContext
from jobs import kpi_pull
from jobs.registry import build_jobs
from jobs.spec import Cron, JobRunInfo
from storage import kpis
from storage.db import Database
from tests.conftest import FakeClock, make_ctx, make_person, make_settings, make_team


@dataclass
class Source:
    """A fake KPI source: answers each request with the next scripted response."""

    script: list[tuple[int, Any]] = field(default_factory=list)  # (status, body or "hang")
    auth: list[str | None] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.auth.append(request.headers.get("Authorization"))
        status, body = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if body == "hang":
            await asyncio.Event().wait()  # never answers; the client's timeout fires
        if isinstance(body, bytes):
            return web.Response(status=status, body=body, content_type="application/json")
        return web.json_response(body, status=status)


@pytest.fixture
async def source() -> AsyncIterator[Source]:
    src = Source()
    app = web.Application()
    app.router.add_get("/kpis", src.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    src.url = f"http://127.0.0.1:{port}/kpis"
    yield src
    await runner.cleanup()


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def setup_people(db: Database) -> tuple[int, int]:
    team = await make_team(db, "Billing")
    ann = await make_person(db, "ann.agent", team=team)
    await make_person(db, "bob.agent", team=team)
    assert team.id
    assert ann.id
    return team.id, ann.id


def good_rows() -> list[dict[str, Any]]:
    return [
        {
            "date": "2026-11-16",
            "email": "ann.agent@example.com",
            "metric": "aht",
            "value": 287.5,
            "contacts": 41,
        },
        {
            "date": "2026-11-16",
            "email": "bob.agent@example.com",
            "metric": "csat",
            "value": 90,
            "contacts": 10,
            "numerator": 9,
            "denominator": 10,
        },
        {
            "date": "2026-11-16",
            "team": "Billing",
            "metric": "service_level",
            "value": 82.5,
            "contacts": 940,
        },
    ]


async def pull(db: Database, src: Source, clock: FakeClock, **kw: Any) -> kpi_pull.PullResult:
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.5)
    kw.setdefault("request_timeout", 2.0)
    kw.setdefault("sleep", Sleeps())
    return await kpi_pull.pull_once(make_ctx(db, clock), HttpSource(src.url, "s3cret", **kw))


async def test_good_payload_then_again_updates_not_duplicates(
    any_db: Database, source: Source, clock: FakeClock
) -> None:
    team_id, ann = await setup_people(any_db)
    source.script = [(200, {"version": 1, "rows": good_rows()})]
    r = await pull(any_db, source, clock)
    assert r.ok, r.summary()
    assert (r.received, r.created, r.updated, r.unchanged) == (3, 3, 0, 0)
    assert source.auth == ["Bearer s3cret"]
    assert await kpis.count_values(any_db) == 3
    day = dt.date(2026, 11, 16)
    ds = await kpis.team_day_sums(
        any_db, team_id=team_id, metric_keys=["service_level"], start=day, end=day
    )
    assert combine(Aggregation.ratio, ds.chosen("service_level", day)) == pytest.approx(82.5)

    again = await pull(any_db, source, clock)
    assert again.ok
    assert again.unchanged == 3
    assert await kpis.count_values(any_db) == 3

    rows = good_rows()
    rows[0]["value"] = 250.0
    source.script = [(200, {"version": 1, "rows": rows})]
    changed = await pull(any_db, source, clock)
    assert changed.ok
    assert (changed.updated, changed.unchanged) == (1, 2)
    mine = await kpis.person_day_sums(
        any_db, person_id=ann, metric_keys=["aht"], start=day, end=day
    )
    assert combine(Aggregation.weighted_mean, mine[("aht", day)]) == pytest.approx(250.0)


async def test_500_then_good_retries_with_backoff(
    db: Database, source: Source, clock: FakeClock
) -> None:
    await setup_people(db)
    source.script = [
        (500, {"error": "busy"}),
        (503, {}),
        (200, {"version": 1, "rows": good_rows()}),
    ]
    sleeps = Sleeps()
    r = await pull(db, source, clock, sleep=sleeps)
    assert r.ok
    assert r.attempts == 3
    assert r.created == 3
    assert sleeps.waits == [0.5, 1.0]


async def test_5xx_every_time_gives_up(db: Database, source: Source, clock: FakeClock) -> None:
    await setup_people(db)
    source.script = [(502, {})]
    r = await pull(db, source, clock)
    assert not r.ok
    assert "HTTP 502" in (r.error or "")
    assert r.attempts == 3
    assert await kpis.count_values(db) == 0


async def test_401_is_not_retried(db: Database, source: Source, clock: FakeClock) -> None:
    await setup_people(db)
    source.script = [(401, {"error": "no"})]
    r = await pull(db, source, clock)
    assert not r.ok
    assert r.attempts == 1
    assert "KPI_SOURCE_TOKEN" in (r.error or "")


async def test_timeout(db: Database, source: Source, clock: FakeClock) -> None:
    await setup_people(db)
    source.script = [(200, "hang")]
    r = await pull(db, source, clock, request_timeout=0.05, retries=1)
    assert not r.ok
    assert "timed out" in (r.error or "")
    assert r.attempts == 2
    assert await kpis.count_values(db) == 0


async def test_unreachable(db: Database, clock: FakeClock) -> None:
    r = await kpi_pull.pull_once(
        make_ctx(db, clock),
        HttpSource("http://127.0.0.1:9/nothing", None, retries=0, request_timeout=0.5),
    )
    assert not r.ok
    assert "could not connect" in (r.error or "")


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"rows": []}).encode(), "unsupported payload version None"),
        (json.dumps({"version": 2, "rows": []}).encode(), "version 2"),
        (json.dumps({"version": 1, "rows": {"a": 1}}).encode(), '"rows" is missing or not a list'),
    ],
)
async def test_malformed_payload_is_refused(
    db: Database, source: Source, clock: FakeClock, body: bytes, expect: str
) -> None:
    await setup_people(db)
    source.script = [(200, body)]
    r = await pull(db, source, clock)
    assert not r.ok
    assert expect in (r.error or ""), r.summary()
    assert await kpis.count_values(db) == 0


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"email": "nobody@example.com"}, "not on the roster"),
        ({"metric": "speed"}, "unknown metric"),
        ({"value": "287"}, "value must be a number"),
        ({"value": True}, "value must be a number"),
        ({"contacts": "many"}, "contacts must be a number"),
        ({"date": "16/11/2026"}, "not a date"),
        ({"date": 20261116}, "date must be a string"),
        ({"metric": "csat", "value": 130}, "above its maximum"),
        ({"numerator": 3}, "both numerator and denominator"),
        ({"extra": 1}, "unknown field extra"),
        ({"team": "Billing"}, "not both"),
        ({"email": None}, "give an email"),
    ],
)
async def test_one_bad_row_refuses_the_whole_payload(
    db: Database, source: Source, clock: FakeClock, change: dict[str, Any], expect: str
) -> None:
    await setup_people(db)
    rows = good_rows()
    rows[0].update(change)
    source.script = [(200, {"version": 1, "rows": rows})]
    r = await pull(db, source, clock)
    assert not r.ok, r.summary()
    assert any(p.startswith("rows[0]:") and expect in p for p in r.problems), r.problems
    assert await kpis.count_values(db) == 0


async def test_duplicate_rows_are_refused(db: Database, source: Source, clock: FakeClock) -> None:
    await setup_people(db)
    rows = good_rows()
    rows.append(dict(rows[0]))
    source.script = [(200, {"version": 1, "rows": rows})]
    r = await pull(db, source, clock)
    assert not r.ok
    assert any(p.startswith("rows[3]:") for p in r.problems)
    assert await kpis.count_values(db) == 0


async def test_scheduled_job_uses_the_settings(ctx: HandlerContext, source: Source) -> None:
    await setup_people(ctx.db)
    info = JobRunInfo(kpi_pull.JOB_ID, ctx.now())

    def job(settings: Any) -> Any:  # the pull job as the bootstrap builds it
        specs = build_jobs(settings, build_sources(settings))
        return next(j for j in specs if j.id == kpi_pull.JOB_ID).run

    await job(ctx.settings)(ctx, info)  # no KPI_SOURCE_URL: nothing happens
    assert await kpis.count_values(ctx.db) == 0
    source.script = [(200, {"version": 1, "rows": good_rows()})]
    configured = make_ctx(ctx.db, ctx.clock, kpi_source_url=source.url, kpi_source_token="t")
    await job(configured.settings)(configured, info)
    assert await kpis.count_values(ctx.db) == 3
    assert source.auth == ["Bearer t"]
    source.script = [(200, b"{oops")]
    with pytest.raises(RuntimeError):
        await job(configured.settings)(configured, info)  # the scheduler records the failed run


def test_cron_setting() -> None:
    assert kpi_pull.build_spec("*/5 * * * *").cron == Cron(minute="*/5", timezone="UTC")
    assert kpi_pull.parse_cron("0 6 * * mon-fri") == Cron(
        minute="0", hour="6", day_of_week="mon-fri"
    )
    for bad in ("* * *", "0 6 * 1 *", "61 * * * *"):
        with pytest.raises(ValueError, match=r"(?i)cron"):
            kpi_pull.parse_cron(bad)
    pulled = next(j for j in build_jobs(make_settings()) if j.id == kpi_pull.JOB_ID)
    assert pulled.cron == kpi_pull.build_spec(kpi_pull.DEFAULT_CRON).cron


def _pull_cron(**settings: Any) -> Cron | None:
    return next(j for j in build_jobs(make_settings(**settings)) if j.id == kpi_pull.JOB_ID).cron


def test_cron_comes_from_kpi_pull_cron(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_PULL_CRON", "0 * * * *")
    assert _pull_cron() == Cron(minute="0", timezone="UTC")
    monkeypatch.setenv("KPI_PULL_CRON", "every now and then")  # refused: the default
    assert _pull_cron() == Cron(minute="*/15", timezone="UTC")
    monkeypatch.delenv("KPI_PULL_CRON")
    monkeypatch.chdir("/")  # no .env here
    assert _pull_cron() == Cron(minute="*/15", timezone="UTC")


def test_token_is_not_in_the_config_repr() -> None:
    assert "s3cret" not in repr(make_settings(kpi_source_token="s3cret"))


async def test_role_is_irrelevant_to_rows(db: Database, source: Source, clock: FakeClock) -> None:
    # A lead's own figures are imported like anyone's.
    team = await make_team(db, "Billing")
    await make_person(db, "lee.lead", role=Role.lead, team=team)
    rows = [
        {"date": "2026-11-16", "email": "lee.lead@example.com", "metric": "qa_score", "value": 88}
    ]
    source.script = [(200, {"version": 1, "rows": rows})]
    r = await pull(db, source, clock)
    assert r.ok
    assert r.created == 1
