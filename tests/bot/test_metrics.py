"""GET /metrics: Prometheus text format with command outcomes, latency, HTTP requests,
outbox depth and job runs (the last two read from the database at scrape time)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.bootstrap import bootstrap
from bot.logs import RequestIdFilter
from bot.server import build_web_app
from domain.settings import Settings
from domain.types import Platform
from handlers.core.context import HandlerContext
from storage import jobruns, outbox, people
from storage.db import Database
from storage.models import OutboxStatus
from storage.outbox import OutboxNew
from tests.bot.ops_helpers import OPS_REGISTRY, serve, slack_settings
from tests.bot.slack.fake_slack import FakeSlack
from tests.conftest import command, make_person, make_team

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _settings(**kw: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_app_token": None,
    }
    values.update(kw)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def sample(metric: str, /, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(metric, labels) or 0.0


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


async def scrape(app_db: Database, settings: Settings | None = None) -> tuple[int, str, str]:
    server = TestServer(
        build_web_app(bootstrap(settings or _settings(), db=app_db)), host="127.0.0.1"
    )
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(server.make_url("/metrics")) as resp,
        ):
            return resp.status, resp.headers["Content-Type"], await resp.text()
    finally:
        await server.close()


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, by (name, sorted labels)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_commands_are_counted_by_name_and_outcome(
    db: Database, ctx: HandlerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = dataclasses.replace(ctx, registry=OPS_REGISTRY)
    team = await make_team(db)
    p = await make_person(db, "ana.silva", team=team)
    name = "leadbot_requests_total"
    before = {
        o: sample(name, kind="command", name=v, platform="console", outcome=o)
        for o, v in (("ok", "opsfine"), ("refused", "opsrefused"), ("error", "opsbroken"))
    }
    unknown_before = sample(
        name, kind="command", name="unknown", platform="console", outcome="refused"
    )
    hist_before = sample(
        "leadbot_request_duration_seconds_count", kind="command", platform="console"
    )

    assert (await metrics.run_command(await command(db, p, "/opsfine"), ctx)).ok
    refused = await metrics.run_command(await command(db, p, "/opsrefused"), ctx)
    assert not refused.ok
    failed = await metrics.run_command(await command(db, p, "/opsbroken"), ctx)
    assert "something went wrong on our side" in failed.fallback
    await metrics.run_command(await command(db, p, "/no-such-verb-xyz"), ctx)

    assert sample(name, kind="command", name="opsfine", platform="console", outcome="ok") == (
        before["ok"] + 1
    )
    assert sample(
        name, kind="command", name="opsrefused", platform="console", outcome="refused"
    ) == (before["refused"] + 1)
    assert sample(name, kind="command", name="opsbroken", platform="console", outcome="error") == (
        before["error"] + 1
    )
    # An unknown verb is one label value, however many verbs people invent.
    assert (
        sample(name, kind="command", name="unknown", platform="console", outcome="refused")
        == unknown_before + 1
    )
    assert (
        sample("leadbot_request_duration_seconds_count", kind="command", platform="console")
        == hist_before + 4
    )


async def test_actions_are_counted_with_their_prefix(db: Database, ctx: HandlerContext) -> None:
    from domain.types import Action

    p = await make_person(db, "ana.silva")
    from tests.conftest import actor_of

    name = "leadbot_requests_total"
    before = sample(name, kind="action", name="unknown", platform="teams", outcome="refused")
    reply = await metrics.run_action(
        Action(actor_of(p), "nothing.here", "1", platform=Platform.teams), ctx
    )
    assert not reply.ok
    assert sample(name, kind="action", name="unknown", platform="teams", outcome="refused") == (
        before + 1
    )


def test_outcome_of_tells_refusals_from_our_errors() -> None:
    from domain.types import message
    from handlers.core.dispatch import TRY_AGAIN, error_reply

    assert metrics.outcome_of(message("fine")) == "ok"
    assert metrics.outcome_of(error_reply("No such metric `xyz`.")) == "refused"
    assert metrics.outcome_of(error_reply(TRY_AGAIN)) == "error"
    assert (
        metrics.outcome_of(error_reply("Sorry, something went wrong on our side (ref ab12cd)."))
        == "error"
    )


async def test_metrics_page_has_outbox_depth_dead_messages_and_job_runs(db: Database) -> None:
    team = await make_team(db)
    p = await make_person(db, "ana.silva", team=team)
    assert p.id is not None
    await outbox.enqueue(
        db,
        messages=[
            OutboxNew(dedupe_key=f"m{i}", payload='{"blocks":[]}', person_id=p.id) for i in range(3)
        ],
    )
    dead = (await outbox.messages_after(db, after_id=0))[0]
    assert dead.id is not None
    async with db.session() as s:  # one of them gave up
        row = await s.get(type(dead), dead.id)
        assert row is not None
        row.status = OutboxStatus.dead
    for i, ok in enumerate((True, True, False)):
        run_id = await jobruns.claim(
            db,
            job_id="goal_update",
            scope="",
            fire_time=T0 + dt.timedelta(hours=i),
            claimed_by="test",
            now=T0,
        )
        assert run_id is not None
        await jobruns.finish(db, run_id=run_id, ok=ok, error=None if ok else "boom", now=T0)

    status, content_type, text = await scrape(db)

    assert status == 200
    assert content_type.startswith("text/plain")
    got = values(text)
    assert got[("leadbot_outbox_messages", (("status", "pending"),))] == 2
    assert got[("leadbot_outbox_messages", (("status", "dead"),))] == 1
    assert got[("leadbot_outbox_messages", (("status", "sent"),))] == 0
    assert got[("leadbot_job_runs", (("job", "goal_update"), ("status", "ok")))] == 2
    assert got[("leadbot_job_runs", (("job", "goal_update"), ("status", "failed")))] == 1
    assert got[("leadbot_database_up", ())] == 1
    assert ("process_resident_memory_bytes", ()) in got


async def test_metrics_answers_while_the_database_is_down() -> None:
    down = Database("postgresql://postgres:postgres@127.0.0.1:1/nothing")
    try:
        status, _, text = await scrape(down)
    finally:
        await down.dispose()
    assert status == 200
    assert values(text)[("leadbot_database_up", ())] == 0


async def test_metrics_is_get_only(db: Database) -> None:
    server = TestServer(build_web_app(bootstrap(_settings(), db=db)), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(server.make_url("/metrics"), data="x") as resp:
                assert resp.status == 405
            async with http.get(server.make_url("/healthz")) as resp:
                assert resp.status == 200
            async with http.get(server.make_url("/metrics")) as resp:
                got = values(await resp.text())
    finally:
        await server.close()
    key = (
        "leadbot_http_requests_total",
        (("method", "GET"), ("route", "/healthz"), ("status", "200")),
    )
    assert got[key] >= 1
    assert got[("leadbot_http_request_duration_seconds_count", (("route", "/healthz"),))] >= 1


async def test_slack_commands_are_counted_after_the_ack(
    sqlite_file_db: Database, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file store: the server's sessions and the test's overlap (tests/conftest.py).
    db = sqlite_file_db
    p = await make_person(db, "ana.silva")
    fake_slack.users["U1"] = p.email
    assert p.id is not None
    await people.set_platform_id(db, person_id=p.id, slack_user_id="U1")
    name = "leadbot_requests_total"
    before = sample(name, kind="command", name="opsfine", platform="slack", outcome="ok")
    broken_before = sample(
        name, kind="command", name="opsbroken", platform="slack", outcome="error"
    )
    async with serve(slack_settings(fake_slack, db), db, fake_slack) as srv:
        assert (await srv.slash("opsfine"))[0] == 200
        await fake_slack.wait_calls("response_url", 1)
        assert (await srv.slash("opsbroken"))[0] == 200
        await fake_slack.wait_calls("response_url", 2)
    assert sample(name, kind="command", name="opsfine", platform="slack", outcome="ok") == (
        before + 1
    )
    assert sample(name, kind="command", name="opsbroken", platform="slack", outcome="error") == (
        broken_before + 1
    )


async def test_teams_messages_are_counted_and_logged_with_the_request_id(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    from storage import teams as teams_store
    from tests.bot.teams import fakes

    team = await make_team(db)
    p = await make_person(db, "lena.lead", team=team)
    assert p.id is not None
    await teams_store.link_person(db, person_id=p.id, teams_user_id=fakes.aad(1))
    connector = fakes.FakeConnector()
    url = await connector.start()
    stamp = RequestIdFilter()  # stamps each record with the request id as it is logged
    caplog.handler.addFilter(stamp)
    name = "leadbot_requests_total"
    before = sample(name, kind="command", name="leadbot", platform="teams", outcome="ok")
    server = TestServer(
        build_web_app(bootstrap(_settings(teams_allow_anonymous=True), db=db)), host="127.0.0.1"
    )
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(
                server.make_url("/api/messages"),
                json=fakes.message("leadbot whoami", service_url=url),
                headers={"X-Request-Id": "teams-req-1"},
            ) as resp:
                assert resp.status in (200, 202)
                assert resp.headers["X-Request-Id"] == "teams-req-1"
            # A bad token is refused, and the refusal is logged under the request's id.
            async with http.post(
                server.make_url("/api/messages"),
                json=fakes.message("leadbot whoami", service_url=url),
                headers={"X-Request-Id": "teams-req-2", "Authorization": "Bearer garbage"},
            ) as resp:
                assert resp.status == 401
    finally:
        await server.close()
        await connector.close()
        caplog.handler.removeFilter(stamp)
    assert sample(name, kind="command", name="leadbot", platform="teams", outcome="ok") == (
        before + 1
    )
    assert len(connector.cards()) == 1
    refused = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(getattr(r, "request_id", None) == "teams-req-2" for r in refused), [
        (r.getMessage(), getattr(r, "request_id", None)) for r in refused
    ]


def test_only_bot_imports_prometheus_client() -> None:
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    files = [f for layer in ("handlers", "jobs", "storage") for f in (root / layer).rglob("*.py")]
    assert len(files) > 10
    offenders = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "prometheus_client" for n in names):
                offenders.append(str(f.relative_to(root)))
    assert offenders == []
