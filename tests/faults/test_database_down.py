"""PostgreSQL going away during a command (issue 10, Faults).

A loopback TCP proxy sits between a real Database and CI's PostgreSQL; the test cuts it
(every connection reset, new ones refused) right before a chosen statement or COMMIT of
a write command, then brings it back. For every point at which the cut can fall, the
user gets either the command's normal answer with everything written once (the cut came
after the commit), or "try again in a moment" with nothing written; and the very next
command on the same Database object works (the pool's pre-ping replaces dead
connections), without restarting anything.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestServer
from sqlalchemy import event

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from domain.roles import Role
from domain.types import Command, Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import SAVED_NO_ANSWER, TRY_AGAIN, run_command
from storage import people
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.models import ActionItem, ActionItemEvent, OutboxMessage, Person, Recognition, Team
from tests.bot.slack.conftest import SIGNING_SECRET, slack_settings
from tests.bot.slack.fake_slack import FakeSlack, signed_headers
from tests.conftest import FakeClock, command, make_ctx, make_person, make_team
from tests.faults.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

TABLES = (Recognition, ActionItem, ActionItemEvent, OutboxMessage)


@dataclasses.dataclass
class Proxied:
    db: Database  # the product's Database, connected through the proxy
    direct: Database  # the test's own view of the same database, never cut
    proxy: TcpProxy


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{port}"))


@pytest.fixture
async def proxied(pg_url: str) -> AsyncIterator[Proxied]:
    direct = Database(pg_url)
    await direct.create_all()
    await ensure_reference_data(direct)
    parts = urlsplit(pg_url)
    proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    db = Database(_via(pg_url, proxy.port))
    try:
        yield Proxied(db, direct, proxy)
    finally:
        await proxy.restore()  # let the pool close its connections cleanly
        await db.dispose()
        await proxy.close()
        await direct.dispose()


async def table_counts(db: Database) -> dict[str, int]:
    out = {}
    async with db.engine.connect() as conn:
        for model in TABLES:
            table = model.__table__  # type: ignore[union-attr]
            n = await conn.scalar(sa.select(sa.func.count()).select_from(table))
            out[table.name] = int(n or 0)
    return out


class Cutter:
    """Cuts the proxy right before the n-th statement or COMMIT the engine sends once
    armed (or before the first statement that matches a pattern)."""

    def __init__(self, db: Database, proxy: TcpProxy) -> None:
        self.proxy = proxy
        self.at: int | None = None
        self.pattern: re.Pattern[str] | None = None
        self.seen: list[str] = []
        self.fired_on: str | None = None
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._statement)
        event.listen(db.engine.sync_engine, "commit", self._commit)

    def arm(self, *, at: int | None = None, pattern: str | None = None) -> None:
        self.at, self.seen, self.fired_on = at, [], None
        self.pattern = re.compile(pattern, re.I) if pattern else None

    def disarm(self) -> None:
        self.at = None
        self.pattern = None

    def _step(self, what: str) -> None:
        if self.at is None and self.pattern is None:
            return
        self.seen.append(what)
        hit = (self.at is not None and len(self.seen) == self.at) or (
            self.pattern is not None and self.pattern.search(what) is not None
        )
        if hit:
            self.fired_on = what
            self.disarm()
            self.proxy.cut()

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self._step(" ".join(statement.split())[:80])

    def _commit(self, _conn: Any) -> None:
        self._step("COMMIT")


def _text(reply: Reply) -> str:
    return reply.text + "\n" + "\n".join(getattr(b, "text", "") for b in reply.blocks)


@dataclasses.dataclass
class Scene:
    team: Team
    lead: Person
    maria: Person
    ctx: HandlerContext


async def scene(p: Proxied, clock: FakeClock) -> Scene:
    team = await make_team(p.direct, "Billing")
    # A linked channel: with Slack configured, a team without one gets no shout-out post.
    team.slack_channel_id = "CBILLING"
    async with p.direct.session() as s:
        s.add(team)
    lead = await make_person(p.direct, "lead.one", role=Role.lead, team=team)
    maria = await make_person(p.direct, "maria.lopez", team=team)
    ctx = make_ctx(p.db, clock, leadbot_secret="test-secret", kudos_daily_limit=50)
    return Scene(team, lead, maria, ctx)


WRITES: dict[str, tuple[str, Callable[[dict[str, int]], dict[str, int]]]] = {
    # command line, and what one successful run adds to each table
    "kudos": (
        "/kudos @maria.lopez #ownership took the outage call",
        lambda c: (
            c | {"recognition": c["recognition"] + 1, "outboxmessage": c["outboxmessage"] + 2}
        ),
    ),
    "action": (
        "/action @maria.lopez call back the Smith account due friday",
        lambda c: (
            c
            | {
                "actionitem": c["actionitem"] + 1,
                "actionitemevent": c["actionitemevent"] + 1,
                "outboxmessage": c["outboxmessage"] + 1,
            }
        ),
    ),
}


@pytest.mark.parametrize("verb", sorted(WRITES))
async def test_database_cut_at_every_step_of_a_write_command(
    proxied: Proxied, clock: FakeClock, verb: str
) -> None:
    s = await scene(proxied, clock)
    line, plus_one = WRITES[verb]
    cmd: Command = await command(proxied.direct, s.lead, line)
    cutter = Cutter(proxied.db, proxied.proxy)
    outcomes: list[tuple[str, bool]] = []
    for k in range(1, 60):
        before = await table_counts(proxied.direct)
        cutter.arm(at=k)
        reply = await run_command(cmd, s.ctx)
        cutter.disarm()
        after = await table_counts(proxied.direct)
        if cutter.fired_on is None:
            # k is past the command's last step: it ran to the end with no cut.
            assert reply.ok, _text(reply)
            assert after == plus_one(before)
            break
        saved = reply.ok or SAVED_NO_ANSWER in _text(reply)
        outcomes.append((cutter.fired_on, saved))
        if saved:  # the cut came after the commit: done once, and the user is told so
            assert after == plus_one(before), (cutter.fired_on, after, before)
            assert TRY_AGAIN not in _text(reply)
        else:  # the user is asked to try again, and nothing at all was written
            assert TRY_AGAIN in _text(reply), (cutter.fired_on, _text(reply))
            assert after == before, (cutter.fired_on, after, before)
        # While it is down, everything answers "try again" (no hang, no stack trace).
        down = await run_command(cmd, s.ctx)
        assert not down.ok
        assert TRY_AGAIN in _text(down)
        assert await table_counts(proxied.direct) == after
        await proxied.proxy.restore()
    else:
        raise AssertionError(f"the command never finished: {outcomes}")
    # Every step of the transaction was a cut point, COMMIT included.
    assert len(outcomes) >= 3, outcomes
    assert ("COMMIT", False) in outcomes, outcomes
    assert any(stmt.upper().startswith("INSERT") and not ok for stmt, ok in outcomes)
    assert outcomes[-1][1], outcomes  # a read after the commit: the change stands
    assert proxied.proxy.cuts == len(outcomes)


async def test_database_down_for_a_while_then_back(proxied: Proxied, clock: FakeClock) -> None:
    s = await scene(proxied, clock)
    give = await command(proxied.direct, s.lead, WRITES["kudos"][0])
    read = await command(proxied.direct, s.lead, "/kudos")
    assert (await run_command(give, s.ctx)).ok  # the pool holds live connections now
    assert await proxied.db.ping()
    before = await table_counts(proxied.direct)

    proxied.proxy.cut()
    for cmd in (give, read, give):
        reply = await run_command(cmd, s.ctx)
        assert not reply.ok
        assert TRY_AGAIN in _text(reply)
    assert not await proxied.db.ping()
    assert await table_counts(proxied.direct) == before

    await proxied.proxy.restore()
    # The same Database object, no restart: dead pooled connections are replaced.
    assert await proxied.db.ping()
    reply = await run_command(give, s.ctx)
    assert reply.ok, _text(reply)
    assert (await run_command(read, s.ctx)).ok
    assert await table_counts(proxied.direct) == WRITES["kudos"][1](before)


async def test_slack_slash_command_while_database_goes_away(
    proxied: Proxied, clock: FakeClock
) -> None:
    """The real web app and bolt listener: the answer reaches Slack's response_url."""
    s = await scene(proxied, clock)
    await people.set_platform_id(proxied.direct, person_id=s.lead.id or 0, slack_user_id="U1")
    await people.set_platform_id(proxied.direct, person_id=s.maria.id or 0, slack_user_id="U2")
    fake = FakeSlack()
    await fake.start()
    app = build_web_app(bootstrap(slack_settings(fake, proxied.db), db=proxied.db, clock=clock))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    cutter = Cutter(proxied.db, proxied.proxy)
    try:
        async with aiohttp.ClientSession() as http:

            async def slash(text: str, n: int) -> str:
                body = (
                    "command=%2Fkudos&user_id=U1&channel_id=D1&team_id=T1&trigger_id=t"
                    f"&response_url={fake.response_url(f'r{n}')}&text={text}"
                )
                headers = signed_headers(
                    SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded"
                )
                async with http.post(
                    server.make_url("/slack/events"), data=body, headers=headers
                ) as r:
                    assert r.status == 200  # acknowledged at once, database or not
                calls = await fake.wait_calls("response_url", n, within=10)
                return str(calls[n - 1].data.get("text", ""))

            before = await table_counts(proxied.direct)
            cutter.arm(pattern=r"^INSERT INTO outboxmessage")
            answer = await slash("%3C%40U2%7Cmaria%3E+%23ownership+took+the+outage", 1)
            assert cutter.fired_on is not None
            assert TRY_AGAIN in answer
            assert await table_counts(proxied.direct) == before
            async with http.get(server.make_url("/healthz")) as r:
                assert r.status == 503

            await proxied.proxy.restore()
            async with http.get(server.make_url("/healthz")) as r:
                assert r.status == 200
            answer = await slash("%3C%40U2%7Cmaria%3E+%23ownership+took+the+outage", 2)
            assert "Kudos sent to Maria Lopez" in answer, answer
            assert await table_counts(proxied.direct) == WRITES["kudos"][1](before)
    finally:
        await server.close()
        await fake.close()
