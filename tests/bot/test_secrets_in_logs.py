"""Secrets never appear in logs or error messages.

A full run at DEBUG level (every library logging everything it does) with every secret
set to a distinctive value: signed slash commands (one whose handler fails), a request
with a bad signature, Teams requests with bad tokens, the console with a failing command,
the KPI pull against a loopback source (failing, then answering nonsense that echoes the
token), the settings' repr. Every log line, traceback, HTTP answer, message sent and
console line is searched for each secret.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.bootstrap import bootstrap
from bot.console import Console, ListSource
from bot.logs import JsonFormatter, RequestIdFilter
from bot.server import build_web_app
from bot.sources.http import HttpSource
from domain.settings import Settings
from handlers.core.context import HandlerContext
from handlers.registry import build_registry
from jobs import kpi_pull
from jobs.scheduler import Outcome, Runtime, run_job
from storage import jobruns, people
from storage.db import Database
from tests.bot.ops_helpers import OPS_REGISTRY, serve
from tests.bot.slack.fake_slack import FakeSlack
from tests.conftest import actor_of, make_person, make_team

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-7361-SECRETBOTTOKEN-a1b2c3",
    "SLACK_SIGNING_SECRET": "SIGNINGSECRET-8d9e0f1a2b",
    "SLACK_APP_TOKEN": "xapp-1-SECRETAPPTOKEN-0000",
    "LEADBOT_SECRET": "LEADBOTSECRET-5f4e3d2c1b",
    "TEAMS_APP_PASSWORD": "TEAMSPASSWORD~q8w7e6r5",
    "KPI_SOURCE_TOKEN": "KPISOURCETOKEN-z9y8x7w6",
}
TEAMS_APP_ID = "6f1c2d3e-1111-2222-3333-444455556666"


@dataclasses.dataclass
class Evidence:
    """Everything a person or a log reader could see."""

    texts: list[str] = dataclasses.field(default_factory=list)

    def add(self, *items: object) -> None:
        self.texts.extend(str(i) for i in items)

    def leaks(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for name, value in SECRETS.items():
            # The secret, or a recognisable part of it (e.g. a token cut at 20 characters).
            needles = {value, value[:16], value[-12:]}
            hits = [t[:300] for t in self.texts if any(n in t for n in needles)]
            if hits:
                found[name] = hits
        return found


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def formatted(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every record also rendered by our JSON formatter (exceptions included)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    for name in ("slack_bolt", "slack_sdk", "httpx", "httpcore", "aiohttp", "msal", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield buf
    root.removeHandler(handler)


def secret_settings(fake: FakeSlack, db: Database, kpi_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=db.url,
        slack_bot_token=SECRETS["SLACK_BOT_TOKEN"],
        slack_signing_secret=SECRETS["SLACK_SIGNING_SECRET"],
        slack_app_token=None,
        slack_api_url=fake.api_url,
        slack_response_url_hosts=fake.host,
        leadbot_secret=SECRETS["LEADBOT_SECRET"],
        teams_app_id=TEAMS_APP_ID,
        teams_app_password=SECRETS["TEAMS_APP_PASSWORD"],
        teams_tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47",
        kpi_source_url=kpi_url,
        kpi_source_token=SECRETS["KPI_SOURCE_TOKEN"],
        log_level="DEBUG",
        max_body_bytes=64 * 1024,
    )


@pytest.fixture
async def kpi_source() -> AsyncIterator[tuple[str, list[str]]]:
    """A KPI source that refuses the first call, then answers nonsense quoting the token."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        seen.append(auth)
        if len(seen) == 1:
            return web.json_response({"error": f"bad credentials {auth}"}, status=401)
        if len(seen) == 2:
            return web.Response(status=500, text=f"upstream failed for {auth}")
        return web.json_response(
            {"version": 1, "rows": [{"date": auth, "email": auth, "metric": auth, "value": auth}]}
        )

    app = web.Application()
    app.router.add_get("/kpis", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/kpis", seen
    await runner.cleanup()


async def test_no_secret_in_logs_or_answers_of_a_full_run(
    sqlite_file_db: Database,
    fake_slack: FakeSlack,
    kpi_source: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    formatted: io.StringIO,
) -> None:
    db = sqlite_file_db  # a file store: the server's sessions and the test's overlap
    kpi_url, kpi_seen = kpi_source
    team = await make_team(db)
    lead = await make_person(db, "lena.lead", team=team)
    fake_slack.users["U1"] = lead.email
    assert lead.id is not None
    await people.set_platform_id(db, person_id=lead.id, slack_user_id="U1")
    settings = secret_settings(fake_slack, db, kpi_url)
    seen = Evidence()
    seen.add(repr(settings), str(settings), settings.model_dump(), settings.model_dump_json())
    app = bootstrap(settings, db=db, registry=OPS_REGISTRY)
    seen.add(repr(app.ctx), str(app.ctx))

    async with serve(settings, db, fake_slack) as srv:
        # Slack: a command that works, one that fails, one refused, a bad signature, and
        # a body over the limit.
        for verb in ("opsfine", "opsbroken", "opsrefused", "leadbot"):
            status, headers = await srv.slash(verb, "help" if verb == "leadbot" else "")
            assert status == 200
            seen.add(headers)
        await fake_slack.wait_calls("response_url", 4)
        status, headers = await srv.slash("opsfine", secret="a-wrong-signing-secret")
        assert status == 401
        seen.add(headers)
        status, _ = await srv.slash("opsfine", "x" * (70 * 1024))
        assert status == 413
        # Teams: no token, a garbage token, a token-shaped thing.
        for auth in (None, "Bearer garbage", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"):
            async with srv.session.post(
                srv.url("/api/messages"),
                json={"type": "message", "text": "leadbot help"},
                headers={"Authorization": auth} if auth else {},
            ) as resp:
                assert resp.status == 401
                seen.add(await resp.text(), resp.headers)
        async with srv.session.get(srv.url("/metrics")) as resp:
            assert resp.status == 200
            seen.add(await resp.text())
    seen.add(*(c.data for c in fake_slack.calls))
    assert any("something went wrong on our side" in str(c.data) for c in fake_slack.calls)

    # The console, with a failing command.
    ctx = app.ctx
    out = io.StringIO()
    console = Console(ctx, actor_of(lead), out, ListSource(["/opsbroken", "/leadbot help"]))
    assert await console.run() == 0
    assert "Sorry" in out.getvalue()
    seen.add(out.getvalue())

    # The KPI pull, through the scheduler's claim path: refused (401), then a 500 and a
    # payload echoing the token (pulled by hand, with no real waits).
    rt = Runtime(ctx=ctx, jobs={kpi_pull.JOB_ID: app.jobs[kpi_pull.JOB_ID]})
    fire = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    assert await run_job(rt, kpi_pull.JOB_ID, team_id=None, fire_time=fire) is Outcome.failed

    async def no_wait(_seconds: float) -> None:
        return None

    token = settings.kpi_source_token.get_secret_value() if settings.kpi_source_token else None
    source = HttpSource(kpi_url, token, retries=1, sleep=no_wait)
    result = await kpi_pull.pull_once(ctx, source)
    assert not result.ok
    seen.add(result, result.error, result.problems, result.summary())
    runs = await jobruns.list_runs(db, job_id=kpi_pull.JOB_ID)
    assert runs
    assert runs[0].status == "failed"
    seen.add(*(r.error for r in runs))
    # The token did go where it belongs.
    assert kpi_seen[0] == f"Bearer {SECRETS['KPI_SOURCE_TOKEN']}"
    assert len(kpi_seen) == 3

    # Everything logged, as records and as formatted lines.
    assert len(caplog.records) > 20
    seen.add(caplog.text, formatted.getvalue())
    for record in caplog.records:
        seen.add(record.getMessage(), record.args, record.exc_text or "")
        if record.exc_info and record.exc_info[1] is not None:
            seen.add(repr(record.exc_info[1]))

    assert seen.leaks() == {}


def test_the_check_itself_finds_a_leak() -> None:
    seen = Evidence()
    seen.add("all fine", {"headers": {"Authorization": "Bearer (redacted)"}})
    assert seen.leaks() == {}
    seen.add(f"token={SECRETS['KPI_SOURCE_TOKEN'][:18]}")
    assert list(seen.leaks()) == ["KPI_SOURCE_TOKEN"]


def test_settings_show_no_secret() -> None:
    s = Settings(
        _env_file=None,
        slack_bot_token=SECRETS["SLACK_BOT_TOKEN"],
        slack_signing_secret=SECRETS["SLACK_SIGNING_SECRET"],
        slack_app_token=SECRETS["SLACK_APP_TOKEN"],
        leadbot_secret=SECRETS["LEADBOT_SECRET"],
        teams_app_password=SECRETS["TEAMS_APP_PASSWORD"],
        kpi_source_token=SECRETS["KPI_SOURCE_TOKEN"],
    )
    seen = Evidence()
    seen.add(repr(s), str(s), s.model_dump(), s.model_dump_json())
    ctx = HandlerContext(db=None, settings=s, registry=build_registry())  # type: ignore[arg-type]
    seen.add(repr(ctx), str(ctx))
    assert seen.leaks() == {}
    # ...while the values are there for the code that needs them.
    assert s.secret == SECRETS["LEADBOT_SECRET"]
    assert s.kpi_source_token is not None
    assert s.kpi_source_token.get_secret_value() == SECRETS["KPI_SOURCE_TOKEN"]


async def test_database_password_stays_out_of_logs_when_the_database_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    password = "DBPASSWORD-k3j4h5g6"
    down = Database(f"postgresql://postgres:{password}@127.0.0.1:1/nothing")
    caplog.set_level(logging.DEBUG)
    settings = Settings(_env_file=None, slack_bot_token=None, database_url=down.url)
    server = TestServer(build_web_app(bootstrap(settings, db=down)), host="127.0.0.1")
    await server.start_server()
    answers = []
    try:
        async with aiohttp.ClientSession() as http:
            for path in ("/healthz", "/metrics"):
                async with http.get(server.make_url(path)) as resp:
                    answers.append(await resp.text())
    finally:
        await server.close()
        await down.dispose()
    assert "database unavailable" in answers[0]
    assert "leadbot_database_up 0.0" in answers[1]
    assert caplog.records
    for text in (caplog.text, *answers, repr(settings), str(settings)):
        assert password not in text
        assert password[:12] not in text
