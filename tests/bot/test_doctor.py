"""`leadbot doctor` and `/leadbot setup`: green on a configured install (Slack answered by
the loopback fake), and each check failing on its own, with its fix."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web
from pydantic import SecretStr

from bot.bootstrap import bootstrap
from bot.doctor import format_checklist, run_doctor
from domain.kpi import KpiRow
from domain.roles import Role
from domain.settings import Settings
from domain.types import Action, Buttons, Header, Text
from handlers.core.checks import CheckResult, Status
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from handlers.leadbot import run_checks
from storage import jobruns, kpis, people
from storage.db import Database
from storage.models import JobRun, OutboxMessage, OutboxStatus, Team
from tests.bot.slack.fake_slack import Call, FakeSlack
from tests.conftest import FakeClock, actor_of, command, make_person, make_team

GOOD_SECRET = "a-long-random-secret-for-the-doctor-tests-0123456789"
ALL_SCOPES = "commands,chat:write,users:read,users:read.email,channels:read,groups:read"


@dataclass
class ScopedSlack(FakeSlack):
    """The fake Slack, with auth.test answering as Slack does: the token's workspace and
    bot, and the granted scopes in the `x-oauth-scopes` header."""

    scopes: str | None = ALL_SCOPES
    auth_error: str = ""

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] != "auth.test":
            return await super()._api(request)
        await self._record(
            Call("auth.test", {"authorization": request.headers.get("Authorization", "")})
        )
        headers = {"x-oauth-scopes": self.scopes} if self.scopes is not None else {}
        if self.auth_error:
            return web.json_response({"ok": False, "error": self.auth_error}, headers=headers)
        body = {"ok": True, "team": "Acme", "user": "leadbot", "team_id": "T1", "user_id": "UB"}
        return web.json_response(body, headers=headers)


@pytest.fixture
async def scoped_slack() -> AsyncIterator[ScopedSlack]:
    fake = ScopedSlack()
    await fake.start()
    yield fake
    await fake.close()


def _settings(fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "leadbot_secret": SecretStr(GOOD_SECRET),
        "slack_bot_token": SecretStr("xoxb-doctor"),
        "slack_signing_secret": SecretStr("signing"),
        "slack_api_url": fake.api_url,
        "pulse_min_responses": 3,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


async def _configured(db: Database, clock: FakeClock) -> None:
    """A center that is completely set up: two teams with leads, channels and agents who
    can all be reached, fresh KPIs, a scheduler that just ran, nothing dead."""
    now = clock()
    slack_ids = iter(f"U0{i:04d}" for i in range(100))
    await make_person(db, "ada.admin", role=Role.admin)
    for name, channel in (("Billing", "C0BILL"), ("Tech Support", "C0TECH")):
        team = await make_team(db, name)
        assert team.id is not None
        await people.update_team(db, team_id=team.id, slack_channel_id=channel)
        handle = name.lower().replace(" ", "")
        members = [await make_person(db, f"lead.{handle}", role=Role.lead, team=team)]
        members += [await make_person(db, f"agent{i}.{handle}", team=team) for i in range(4)]
        for p in members:
            await people.set_platform_id(db, person_id=p.id or 0, slack_user_id=next(slack_ids))
        await kpis.upsert_values(
            db,
            rows=[
                KpiRow(
                    day=now.date() - dt.timedelta(days=1),
                    metric_key="aht",
                    value=300,
                    person_id=members[1].id,
                    team_id=team.id,
                )
            ],
        )
    admin = await people.get_by_email(db, email="ada.admin@example.com")
    assert admin is not None
    await people.set_platform_id(db, person_id=admin.id or 0, slack_user_id="U0ADMIN")
    run = await jobruns.claim(
        db,
        job_id="actions.followups",
        scope="",
        fire_time=now - dt.timedelta(minutes=5),
        claimed_by="test",
        now=now - dt.timedelta(minutes=5),
    )
    assert run is not None
    await jobruns.finish(db, run_id=run, ok=True, now=now - dt.timedelta(minutes=4))


def _ctx(db: Database, clock: FakeClock, settings: Settings) -> HandlerContext:
    return bootstrap(settings, db=db, clock=clock).ctx


def _by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.name: r for r in results}


async def test_green_on_a_configured_install(
    db: Database, clock: FakeClock, scoped_slack: ScopedSlack
) -> None:
    await _configured(db, clock)
    ctx = _ctx(db, clock, _settings(scoped_slack))
    results = await run_checks(ctx)
    assert [(r.name, r.status) for r in results if r.status is not Status.ok] == []
    assert {r.name for r in results} >= {
        "Slack",
        "Slack connection",
        "Slack scopes",
        "Teams",
        "People",
        "KPIs",
        "Scheduler",
        "Outbox",
        "LEADBOT_SECRET",
        "PULSE_MIN_RESPONSES",
    }
    assert _by_name(results)["Slack connection"].detail == "connected to Acme as @leadbot"
    [call] = scoped_slack.of("auth.test")
    assert call.data["authorization"] == "Bearer xoxb-doctor"
    out = io.StringIO()
    assert await run_doctor(ctx, out=out) == 0
    assert out.getvalue().startswith("leadbot doctor: Everything is set up.")


Breaker = Callable[[Database, FakeClock, ScopedSlack], Any]


async def _no_lead(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    team = await people.get_team_by_name(db, name="Billing")
    assert team is not None
    assert team.id is not None
    await people.set_team_lead(db, team_id=team.id, person_id=None, now=clock())


async def _no_channel(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    billing = await people.get_team_by_name(db, name="Billing")
    assert billing is not None
    async with db.session() as s:
        team = await s.get(Team, billing.id)
        assert team is not None
        team.slack_channel_id = None


async def _unreachable(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    team = await people.get_team_by_name(db, name="Billing")
    await make_person(db, "nia.new", team=team)


async def _stale_kpis(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    clock.advance(days=9)
    await jobruns.claim(db, job_id="x", scope="", fire_time=clock(), claimed_by="t", now=clock())


async def _never_ran(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    async with db.session() as s:
        await s.execute(sa.delete(JobRun))


async def _stopped(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    clock.advance(hours=2)


async def _failed_run(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    run = await jobruns.claim(
        db, job_id="kpis.pull", scope="", fire_time=clock(), claimed_by="t", now=clock()
    )
    assert run is not None
    await jobruns.finish(db, run_id=run, ok=False, error="boom", now=clock())


async def _dead(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    async with db.session() as s:
        s.add(
            OutboxMessage(
                dedupe_key="dead-one",
                platform="slack",
                target="U1",
                payload="{}",
                status=OutboxStatus.dead,
            )
        )


async def _refused(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    fake.auth_error = "invalid_auth"


async def _scope_missing(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    fake.scopes = "commands,chat:write,users:read"


async def _no_teams(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    for t in await people.list_teams(db):
        await people.archive_team(db, team_id=t.id or 0, now=clock())


async def _nothing(db: Database, clock: FakeClock, fake: ScopedSlack) -> None:
    return None


# (what breaks, settings overrides, the result's name, status, words of its detail, of its fix)
CASES: list[tuple[str, Breaker, dict[str, Any], str, Status, str, str]] = [
    (
        "no platform",
        _nothing,
        {"slack_bot_token": None, "slack_signing_secret": None},
        "Chat platform",
        Status.block,
        "neither Slack nor Teams",
        "SLACK_BOT_TOKEN",
    ),
    (
        "half of Slack",
        _nothing,
        {"slack_signing_secret": None},
        "Slack",
        Status.block,
        "SLACK_SIGNING_SECRET is missing",
        "SLACK_SIGNING_SECRET",
    ),
    (
        "a refused token",
        _refused,
        {},
        "Slack connection",
        Status.block,
        "Slack refuses SLACK_BOT_TOKEN (invalid_auth)",
        "Bot User OAuth Token",
    ),
    (
        "Slack unreachable",
        _nothing,
        {"slack_api_url": "http://127.0.0.1:9/api/"},
        "Slack connection",
        Status.block,
        "can't be reached at 127.0.0.1:9",
        "https connections",
    ),
    (
        "a scope missing",
        _scope_missing,
        {},
        "Slack scopes",
        Status.block,
        "the token lacks users:read.email",
        "reinstall the app",
    ),
    (
        "half of Teams",
        _nothing,
        {"teams_app_id": "app-id"},
        "Microsoft Teams",
        Status.block,
        "TEAMS_APP_PASSWORD is missing",
        "TEAMS_APP_PASSWORD",
    ),
    (
        "anonymous Teams",
        _nothing,
        {"teams_allow_anonymous": True},
        "Microsoft Teams",
        Status.warn,
        "TEAMS_ALLOW_ANONYMOUS is on",
        "turn it off",
    ),
    (
        "a team without a lead",
        _no_lead,
        {},
        "Team leads",
        Status.warn,
        "Billing has no lead",
        "/leadbot team lead TEAM @person",
    ),
    (
        "a team without a channel",
        _no_channel,
        {},
        "Team channels",
        Status.warn,
        "Billing has no channel linked",
        "runs `/leadbot link`",  # channels are linked on purpose only
    ),
    (
        "no teams",
        _no_teams,
        {},
        "Teams",
        Status.block,
        "there are no teams yet",
        "leadbot import roster FILE",
    ),
    (
        "someone unreachable",
        _unreachable,
        {},
        "Reach",
        Status.warn,
        "1 of 12 people can't be reached yet, so their messages wait: Nia New",
        "leadbot slack sync",
    ),
    (
        "stale KPIs",
        _stale_kpis,
        {},
        "KPIs",
        Status.warn,
        "Billing: aht 10 days old; Tech Support: aht 10 days old",
        "leadbot import kpis FILE",
    ),
    (
        "the scheduler never ran",
        _never_ran,
        {},
        "Scheduler",
        Status.block,
        "it has never run",
        "leadbot run",
    ),
    (
        "the scheduler stopped",
        _stopped,
        {},
        "Scheduler",
        Status.block,
        "its last run was 125 minutes ago",
        "leadbot scheduler",
    ),
    (
        "a failed run",
        _failed_run,
        {},
        "Scheduler",
        Status.warn,
        "1 run failed in the last day: kpis.pull",
        "leadbot jobs run JOB",
    ),
    (
        "a dead message",
        _dead,
        {},
        "Outbox",
        Status.warn,
        "1 message gave up after every retry",
        "leadbot outbox retry ID",
    ),
    (
        "the default secret",
        _nothing,
        {"leadbot_secret": SecretStr("dev-secret-change-me")},
        "LEADBOT_SECRET",
        Status.block,
        "public development default",
        "32+ characters",
    ),
    (
        "a short secret",
        _nothing,
        {"leadbot_secret": SecretStr("short-secret")},
        "LEADBOT_SECRET",
        Status.block,
        "12 characters long; it must be at least 32",
        "token_urlsafe",
    ),
    (
        "teams too small for pulse",
        _nothing,
        {"pulse_min_responses": 5},
        "PULSE_MIN_RESPONSES",
        Status.warn,
        "Billing, Tech Support have fewer agents",
        "never below 3",
    ),
]


@pytest.mark.parametrize(
    ("what", "breaker", "overrides", "name", "status", "detail", "fix"),
    CASES,
    ids=[c[0] for c in CASES],
)
async def test_each_check_fails_with_its_fix(
    db: Database,
    clock: FakeClock,
    scoped_slack: ScopedSlack,
    what: str,
    breaker: Breaker,
    overrides: dict[str, Any],
    name: str,
    status: Status,
    detail: str,
    fix: str,
) -> None:
    await _configured(db, clock)
    await breaker(db, clock, scoped_slack)
    ctx = _ctx(db, clock, _settings(scoped_slack, **overrides))
    results = await run_checks(ctx)
    bad = [r for r in results if r.status is not Status.ok]
    assert [(r.name, r.status) for r in bad] == [(name, status)], format_checklist(results)
    [r] = bad
    assert detail in r.detail
    assert fix in r.fix
    out = io.StringIO()
    code = await run_doctor(ctx, out=out)
    assert code == (1 if status is Status.block else 0)
    assert f"fix: {r.fix.split()[0]}" in out.getvalue()


async def test_a_check_that_fails_is_itself_a_blocking_result(
    db: Database, clock: FakeClock, scoped_slack: ScopedSlack
) -> None:
    await _configured(db, clock)
    ctx = _ctx(db, clock, _settings(scoped_slack))

    async def broken(_ctx: HandlerContext) -> list[CheckResult]:
        raise RuntimeError("boom")

    [result] = await run_checks(ctx, [broken])
    assert result.status is Status.block
    assert result.detail.startswith("the check itself failed (ref ")


async def test_setup_in_chat_for_admins_and_the_admins_home(
    db: Database, clock: FakeClock, scoped_slack: ScopedSlack
) -> None:
    await _configured(db, clock)
    await _no_lead(db, clock, scoped_slack)
    ctx = _ctx(db, clock, _settings(scoped_slack))
    admin = await people.get_by_email(db, email="ada.admin@example.com")
    agent = await people.get_by_email(db, email="agent0.billing@example.com")
    assert admin is not None
    assert agent is not None
    reply = await run_command(await command(db, admin, "/leadbot setup"), ctx)
    assert reply.ok, reply.text
    assert reply.blocks[0] == Header("leadbot setup")
    assert reply.blocks[1] == Text("1 warning.")
    assert "⚠️ *Team leads*: Billing has no lead" in [getattr(b, "text", "") for b in reply.blocks]
    buttons = [b for blk in reply.blocks if isinstance(blk, Buttons) for b in blk.buttons]
    assert [b.label for b in buttons] == ["Set Billing's lead", "Check again"]
    refused = await run_command(await command(db, agent, "/leadbot setup"), ctx)
    assert not refused.ok
    assert refused.text == "Only admins can see the setup checklist."
    home = await run_command(await command(db, admin, "/leadbot home"), ctx)
    texts = [getattr(b, "text", "") for b in home.blocks]
    assert "Finish setting up leadbot" in texts
    assert "⚠️ *Team leads*: Billing has no lead" in texts
    # The next step from the button: the form sets the lead, through the same service.
    form = buttons[0].form
    assert form is not None
    done = await run_action(
        Action(actor_of(admin), form.action_id, form.value, {"who": "agent1.billing@example.com"}),
        ctx,
    )
    assert done.ok, done.text
    assert done.text.startswith("Agent1 Billing is now the lead of *Billing*.")
    after = await run_command(await command(db, admin, "/leadbot home"), ctx)
    assert "Finish setting up leadbot" not in [getattr(b, "text", "") for b in after.blocks]
    agents_home = await run_command(await command(db, agent, "/leadbot home"), ctx)
    assert "Finish setting up leadbot" not in [getattr(b, "text", "") for b in agents_home.blocks]
