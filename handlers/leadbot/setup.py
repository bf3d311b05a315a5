"""The setup checklist: `/leadbot setup`, the admin's home view until setup is done, and
(through bot/doctor.py) `leadbot doctor`.

`CHECKS` is a list of check functions; each reads the settings and the store and answers
CheckResults (ok, warn or block, with what was found and how to fix it). A check that
needs a platform's API runs in bot/ and comes in as the context's `platform_probe`
(handlers/core/checks.py). To add a check, write a function and put it in `CHECKS`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence

from domain.errors import NotAllowed, UserError
from domain.localtime import local_today, zone
from domain.parsing import Args
from domain.roles import Role
from domain.settings import Settings
from domain.types import (
    Action,
    Actor,
    Block,
    Button,
    Buttons,
    Command,
    Context,
    Form,
    FormField,
    Header,
    Reply,
    Text,
    UnresolvedMention,
)
from handlers.core.checks import CheckResult, Status
from handlers.core.context import HandlerContext
from handlers.core.handover import plural
from handlers.leadbot.teams import create_team, set_lead
from storage import health, people
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)

Check = Callable[[HandlerContext], Awaitable[list[CheckResult]]]

MIN_SECRET_LENGTH = 32
KPI_STALE_DAYS = 3  # a weekend is two days: Friday's figures on Monday are fresh
SCHEDULER_STALE = dt.timedelta(minutes=30)  # the sweeps run every 5 minutes
OUTBOX_LATE = dt.timedelta(hours=1)
MAX_NAMES = 20
ICON = {Status.ok: "✅", Status.warn: "⚠️", Status.block: "⛔"}

SETUP_ACTION = "leadbot.setup"
TEAM_CREATE_ACTION = "leadbot.setup.team"
TEAM_LEAD_ACTION = "leadbot.setup.lead"
RANDOM_VALUE_COMMAND = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def secret_problem(settings: Settings) -> str | None:
    """Why LEADBOT_SECRET is unsafe (unset, the public default, short), or None."""
    value = settings.secret
    field = Settings.model_fields["leadbot_secret"].default
    default = field.get_secret_value() if field is not None else ""
    if value == default:
        return "LEADBOT_SECRET is not set (it is the public development default)"
    if len(value) < MIN_SECRET_LENGTH:
        return (
            f"LEADBOT_SECRET is {len(value)} characters long; it must be at least "
            f"{MIN_SECRET_LENGTH}"
        )
    return None


def _ok(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.ok, detail)


# --- the checks ----------------------------------------------------------------------------


async def check_platforms(ctx: HandlerContext) -> list[CheckResult]:
    """Slack and/or Teams configured, completely."""
    s = ctx.settings
    out: list[CheckResult] = []
    slack_any = bool(s.slack_bot_token or s.slack_signing_secret or s.slack_app_token)
    if s.slack_enabled:
        mode = "Socket Mode" if s.slack_app_token else "HTTP mode, /slack/events"
        out.append(_ok("Slack", f"configured ({mode})"))
    elif slack_any:
        missing = "SLACK_BOT_TOKEN" if not s.slack_bot_token else "SLACK_SIGNING_SECRET"
        out.append(
            CheckResult(
                "Slack",
                Status.block,
                f"configured in part: {missing} is missing",
                "Set SLACK_BOT_TOKEN (the Bot User OAuth Token) and SLACK_SIGNING_SECRET "
                "(or SLACK_APP_TOKEN for Socket Mode), then restart (see Install on Slack).",
            )
        )
    out += _teams_config(s)
    if (
        not s.slack_enabled
        and not s.teams_enabled
        and not any(r.status is Status.block for r in out)
    ):
        out.append(
            CheckResult(
                "Chat platform",
                Status.block,
                "neither Slack nor Teams is configured: nobody can use leadbot in chat",
                "Connect Slack (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET) or Teams "
                "(TEAMS_APP_ID and TEAMS_APP_PASSWORD), then restart: see Install on Slack "
                "or Install on Microsoft Teams.",
            )
        )
    return out


def _teams_config(s: Settings) -> list[CheckResult]:
    if s.teams_allow_anonymous:
        return [
            CheckResult(
                "Microsoft Teams",
                Status.warn,
                "TEAMS_ALLOW_ANONYMOUS is on: Teams requests are accepted without a token",
                "Only for the local Agents Playground: turn it off on any server others can reach.",
            )
        ]
    if bool(s.teams_app_id) != bool(s.teams_app_password):
        missing = "TEAMS_APP_PASSWORD" if s.teams_app_id else "TEAMS_APP_ID"
        return [
            CheckResult(
                "Microsoft Teams",
                Status.block,
                f"configured in part: {missing} is missing",
                "Set TEAMS_APP_ID and TEAMS_APP_PASSWORD from the Azure Bot (and "
                "TEAMS_TENANT_ID for a single-tenant bot), then restart.",
            )
        ]
    if not s.teams_enabled:
        return []
    if not s.teams_tenant_id:
        return [
            CheckResult(
                "Microsoft Teams",
                Status.warn,
                "credentials set, TEAMS_TENANT_ID is not",
                "Single-tenant bots (every new registration) need TEAMS_TENANT_ID, the "
                "App Tenant ID in the Azure portal.",
            )
        ]
    return [
        _ok(
            "Microsoft Teams",
            "credentials set (TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID)",
        )
    ]


async def check_platform_probe(ctx: HandlerContext) -> list[CheckResult]:
    """The checks that call a platform (Slack's auth.test and scopes), run in bot/."""
    if ctx.platform_probe is None:
        return []
    return list(await ctx.platform_probe())


async def check_teams(ctx: HandlerContext) -> list[CheckResult]:
    """Teams exist, each with a lead and a linked channel."""
    teams = await people.list_teams(ctx.db)
    if not teams:
        return [
            CheckResult(
                "Teams",
                Status.block,
                "there are no teams yet",
                "Import the roster (`leadbot import roster FILE`) or create one "
                "(`/leadbot team create NAME`).",
                (_create_team_button(),),
            )
        ]
    no_lead = [t for t in teams if t.lead_id is None]
    no_channel = [t for t in teams if not (t.slack_channel_id or t.teams_channel_ref)]
    out: list[CheckResult] = []
    if no_lead:
        out.append(
            CheckResult(
                "Team leads",
                Status.warn,
                f"{_names([t.name for t in no_lead])} {'has' if len(no_lead) == 1 else 'have'} "
                "no lead",
                "A team's lead gets its 1:1s, items and pulse results: "
                "`/leadbot team lead TEAM @person`.",
                tuple(_lead_button(t.name, t.id or 0) for t in no_lead[:3]),
            )
        )
    if no_channel:
        out.append(
            CheckResult(
                "Team channels",
                Status.warn,
                f"{_names([t.name for t in no_channel])} "
                f"{'has' if len(no_channel) == 1 else 'have'} no channel linked: their daily "
                "posts can't go out",
                "In the team's channel, its lead, manager or an admin runs `/leadbot link` "
                "(Teams: @mention leadbot with `leadbot link`); in Slack invite leadbot there "
                "too (`/invite @leadbot`).",
            )
        )
    if not out:
        out.append(_ok("Teams", f"{plural(len(teams), 'team')}, each with a lead and a channel"))
    return out


async def check_people(ctx: HandlerContext) -> list[CheckResult]:
    """People on the roster, an admin among them, and how many leadbot can reach."""
    total, _agents = await health.active_counts(ctx.db)
    if total == 0:
        return [
            CheckResult(
                "People",
                Status.block,
                "nobody is on the roster yet",
                "Import it: `leadbot import roster FILE` (see Roster and KPI import).",
            )
        ]
    out: list[CheckResult] = []
    if await people.count_admins(ctx.db) == 0:
        out.append(
            CheckResult(
                "Admins",
                Status.warn,
                "nobody on the roster is an admin, so nobody can change it in chat",
                'Add one: `leadbot people add you@example.com "Your Name" --role admin`.',
            )
        )
    lost = await health.unreachable(ctx.db)
    if lost:
        shown = [p.display_name for p in lost[:MAX_NAMES]]
        more = f" and {len(lost) - len(shown)} more" if len(lost) > len(shown) else ""
        why = sorted({p.unreachable_reason for p in lost if p.unreachable_reason})
        out.append(
            CheckResult(
                "Reach",
                Status.warn,
                f"{len(lost)} of {total} people can't be reached yet, so their messages "
                f"wait: {', '.join(shown)}{more}" + (f" ({'; '.join(why)})" if why else ""),
                "Slack finds people by email when leadbot first messages them; "
                "`leadbot slack sync` maps the whole roster at once. In Teams, adding the app "
                "to their team (or `leadbot teams sync`) maps everyone in it. A person no "
                "Slack user has the email of needs their roster email corrected. "
                "`leadbot people list unreachable` (in chat `/leadbot person list unreachable`) "
                "lists them.",
            )
        )
    else:
        out.append(_ok("People", f"{plural(total, 'person', 'people')}, every one reachable"))
    return out


async def check_kpis(ctx: HandlerContext) -> list[CheckResult]:
    """Each team's newest KPI value per metric, and its age."""
    teams = await people.list_teams(ctx.db)
    if not teams:
        return []
    newest = await health.newest_kpi_days(ctx.db)
    problems: list[str] = []
    fresh = 0
    for t in teams:
        days = newest.get(t.id or 0, {})
        if not days:
            problems.append(f"{t.name}: no values yet")
            continue
        today = local_today(ctx.now(), t.timezone)
        stale = {k: (today - d).days for k, d in days.items() if (today - d).days > KPI_STALE_DAYS}
        if stale:
            ages = ", ".join(f"{k} {n} days old" for k, n in sorted(stale.items()))
            problems.append(f"{t.name}: {ages}")
        else:
            fresh += 1
    if not problems:
        return [_ok("KPIs", f"every team has figures from the last {KPI_STALE_DAYS} days")]
    source = (
        "the KPI pull (KPI_SOURCE_URL) runs but brings nothing new for them: check the source"
        if ctx.settings.kpi_source_url
        else "import them (`leadbot import kpis FILE`) or set KPI_SOURCE_URL for a pull "
        "every 15 minutes"
    )
    return [
        CheckResult(
            "KPIs",
            Status.warn,
            "; ".join(problems),
            f"Stats, goals and prep cards need current figures: {source}.",
        )
    ]


async def check_scheduler(ctx: HandlerContext) -> list[CheckResult]:
    """The scheduler alive: its newest claimed run, and failed runs of the last day."""
    now = ctx.now()
    seen = await health.scheduler_health(ctx.db, failed_since=now - dt.timedelta(days=1))
    start = "Start `leadbot scheduler` (the Procfile's clock), or `leadbot run` on a small install."
    if seen.last_claimed is None:
        return [
            CheckResult(
                "Scheduler",
                Status.block,
                "it has never run: no daily posts, reminders, pulses or messages go out",
                start,
            )
        ]
    age = now - seen.last_claimed
    if age > SCHEDULER_STALE:
        minutes = int(age.total_seconds() // 60)
        return [
            CheckResult(
                "Scheduler",
                Status.block,
                f"its last run was {minutes} minutes ago (its sweeps run every 5 minutes): "
                "it seems stopped",
                start + " `leadbot jobs list` shows each job's last run.",
            )
        ]
    if seen.failed:
        jobs = sorted({r.job_id for r in seen.failed})
        return [
            CheckResult(
                "Scheduler",
                Status.warn,
                f"{plural(len(seen.failed), 'run')} failed in the last day: {', '.join(jobs)}",
                "The log has each failure (search for the job id); `leadbot jobs run JOB` "
                "runs one again now.",
            )
        ]
    return [_ok("Scheduler", f"running (last run {int(age.total_seconds() // 60)} min ago)")]


async def check_outbox(ctx: HandlerContext) -> list[CheckResult]:
    """Dead messages, and messages long overdue (no dispatcher, or a platform down)."""
    dead, late = await health.outbox_trouble(ctx.db, overdue_before=ctx.now() - OUTBOX_LATE)
    out: list[CheckResult] = []
    if dead:
        out.append(
            CheckResult(
                "Outbox",
                Status.warn,
                f"{plural(dead, 'message')} gave up after every retry",
                "See why with `leadbot outbox list --dead`; send one again with "
                "`leadbot outbox retry ID`.",
            )
        )
    if late:
        out.append(
            CheckResult(
                "Outbox",
                Status.warn,
                f"{plural(late, 'message')} should have gone out over an hour ago",
                "The dispatcher runs with the scheduler: check it runs, and that the platform "
                "answers (`leadbot outbox list`).",
            )
        )
    return out or [_ok("Outbox", "nothing dead or overdue")]


async def check_settings(ctx: HandlerContext) -> list[CheckResult]:
    """LEADBOT_SECRET safe; PULSE_MIN_RESPONSES within reach of every team."""
    out: list[CheckResult] = []
    problem = secret_problem(ctx.settings)
    if problem:
        out.append(
            CheckResult(
                "LEADBOT_SECRET",
                Status.block,
                problem,
                f"Set a random value of {MIN_SECRET_LENGTH}+ characters "
                f"({RANDOM_VALUE_COMMAND}) and keep it: see Secrets before changing it on a "
                "running install.",
            )
        )
    else:
        out.append(_ok("LEADBOT_SECRET", "set, long enough"))
    n = ctx.settings.pulse_min_responses
    _total, agents = await health.active_counts(ctx.db)
    small = [t.name for t in await people.list_teams(ctx.db) if agents.get(t.id or 0, 0) < n]
    if small:
        out.append(
            CheckResult(
                "PULSE_MIN_RESPONSES",
                Status.warn,
                f"{n}: {_names(small)} {'has' if len(small) == 1 else 'have'} fewer agents, "
                "so their pulse results can never be shown",
                "That is the privacy rule at work. Lower it (never below 3) only if you "
                "accept less cover for those teams.",
            )
        )
    else:
        out.append(_ok("PULSE_MIN_RESPONSES", f"{n}, every team has at least that many agents"))
    return out


CHECKS: tuple[Check, ...] = (
    check_platforms,
    check_platform_probe,
    check_teams,
    check_people,
    check_kpis,
    check_scheduler,
    check_outbox,
    check_settings,
)


async def run_checks(ctx: HandlerContext, checks: Sequence[Check] = CHECKS) -> list[CheckResult]:
    """Every check's results, in order; a check that fails is itself a blocking result."""
    out: list[CheckResult] = []
    for check in checks:
        try:
            out += await check(ctx)
        except DatabaseUnavailable:
            raise
        except Exception:
            ref = secrets.token_hex(3)
            log.exception("setup check %s failed ref=%s", check.__name__, ref)
            name = check.__name__.removeprefix("check_").replace("_", " ")
            out.append(
                CheckResult(
                    name, Status.block, f"the check itself failed (ref {ref})", "See the log."
                )
            )
    return out


def _names(names: list[str]) -> str:
    shown = names[:MAX_NAMES]
    more = f" and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
    return ", ".join(shown) + more


# --- in chat -------------------------------------------------------------------------------


def _create_team_button() -> Button:
    form = Form(
        title="Create a team",
        action_id=TEAM_CREATE_ACTION,
        value="",
        fields=(
            FormField("name", "Team name", optional=False, max_length=80),
            FormField("tz", "Time zone", placeholder="Europe/London", max_length=64),
        ),
        submit_label="Create",
    )
    return Button("Create a team", TEAM_CREATE_ACTION, form=form, style="primary")


def _lead_button(team: str, team_id: int) -> Button:
    form = Form(
        title=f"Lead of {team}"[:24],
        action_id=TEAM_LEAD_ACTION,
        value=str(team_id),
        fields=(FormField("who", "Their email", optional=False, max_length=254),),
        submit_label="Set lead",
    )
    return Button(f"Set {team}'s lead"[:75], TEAM_LEAD_ACTION, str(team_id), form=form)


def summary_line(results: Sequence[CheckResult]) -> str:
    blocks = sum(1 for r in results if r.status is Status.block)
    warns = sum(1 for r in results if r.status is Status.warn)
    if not blocks and not warns:
        return "Everything is set up."
    parts = []
    if blocks:
        parts.append(f"{plural(blocks, 'thing blocks', 'things block')} leadbot")
    if warns:
        parts.append(plural(warns, "warning"))
    return "; ".join(parts) + "."


def checklist_blocks(results: Sequence[CheckResult], *, problems_only: bool = False) -> list[Block]:
    """The checklist as reply blocks: each line, its fix, its buttons."""
    blocks: list[Block] = []
    for r in results:
        if problems_only and r.status is Status.ok:
            continue
        blocks.append(Text(f"{ICON[r.status]} *{r.name}*: {r.detail}"))
        if r.fix and r.status is not Status.ok:
            blocks.append(Context(r.fix))
        if r.buttons:
            blocks.append(Buttons(r.buttons))
    return blocks


def _require_admin(actor: Actor) -> None:
    if actor.role is not Role.admin:
        raise NotAllowed("Only admins can see the setup checklist.")


async def setup_reply(ctx: HandlerContext) -> Reply:
    results = await run_checks(ctx)
    head = summary_line(results)
    blocks: list[Block] = [Header("leadbot setup"), Text(head), *checklist_blocks(results)]
    blocks.append(Buttons((Button("Check again", SETUP_ACTION),)))
    text = "\n".join([head, *(f"{r.status.value}: {r.name}: {r.detail}" for r in results)])
    return Reply(blocks=blocks, text=text)


async def setup_command(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot setup` (admins): the whole checklist."""
    args.expect_end()
    _require_admin(cmd.actor)
    return await setup_reply(ctx)


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """For an admin, until setup is done: what is missing, with buttons for the next step."""
    if actor.role is not Role.admin:
        return []
    results = await run_checks(ctx)
    if all(r.status is Status.ok for r in results):
        return []
    return [
        Header("Finish setting up leadbot"),
        Text(summary_line(results)),
        *checklist_blocks(results, problems_only=True),
        Buttons((Button("Full checklist", SETUP_ACTION),)),
    ]


async def setup_pressed(action: Action, ctx: HandlerContext) -> Reply:
    """The checklist's buttons: check again, create a team, set a team's lead."""
    _require_admin(action.actor)
    if action.action_id == SETUP_ACTION:
        return await setup_reply(ctx)
    if action.action_id == TEAM_CREATE_ACTION:
        tz = (action.form.get("tz") or "").strip() or ctx.settings.default_timezone
        try:
            tz = zone(tz).key
        except ValueError as exc:
            return Reply(errors={"tz": str(exc)}, ok=False)
        return await create_team(ctx, action.form.get("name") or "", tz)
    if action.action_id == TEAM_LEAD_ACTION and action.value.isdigit():
        team = await people.get_team(ctx.db, team_id=int(action.value))
        if team is None or team.archived_at is not None:
            raise UserError("That team no longer exists.")
        who = (action.form.get("who") or "").strip()
        return await set_lead(action.actor, ctx, team, UnresolvedMention(who))
    raise UserError("That button is no longer valid.")


async def welcome(ctx: HandlerContext, why: str) -> Reply:
    """What someone not (yet) on the roster sees on the home tab: before there is any
    admin, how the installer adds the first one."""
    blocks: list[Block] = [Header("Welcome to leadbot"), Text(why)]
    if await people.count_admins(ctx.db) == 0:
        first = (
            "leadbot isn't set up yet: it has no admin. If you installed it, add yourself as "
            'the first one on the server: `leadbot people add you@example.com "Your Name" '
            "--role admin` (or import a roster with an admin row), then open this tab again "
            "for the setup checklist."
        )
        blocks.append(Text(first))
        return Reply(blocks=blocks, text=f"{why}\n{first}")
    return Reply(blocks=blocks, text=why)
