"""The `leadbot` command line. Each subcommand is a thin call into its module.

A setting that fails validation (PULSE_MIN_RESPONSES=1, an unknown zone) is one line on
stderr naming the variable and what it allows, and exit code 2: never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from pydantic import SecretStr, ValidationError

from bot import admin_cli, console, doctor, importer, privacy_cli, runner, teams_package
from bot.bootstrap import App, bootstrap
from bot.demo import with_demo_secret
from bot.live import demo as live_demo
from bot.logs import setup_logging
from bot.slack import sync as slack_sync
from bot.slack.manifest import render_manifest
from bot.sources import cli as sources_cli
from bot.teams import sync as teams_sync
from domain.settings import Settings
from storage.migrate import upgrade_sync

SETTINGS_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="leadbot",
        description="leadbot: a Slack and Microsoft Teams bot for contact-center team leads.",
    )
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", required=True)

    demo = sub.add_parser("demo", help="seed a sample contact center and open the console")
    demo.add_argument("--seed-only", action="store_true", help="seed the demo data and exit")
    demo.add_argument("--as", dest="as_email", help="start the console as this person")
    # `leadbot demo live`: a scripted live queue feed showing an alert's whole life.
    demo.add_argument("what", nargs="?", choices=["live"], help="live: a scripted queue alert")
    demo.add_argument("--pause", type=float, default=0.4, help="live: real seconds per 30 s")

    console = sub.add_parser("console", help="type commands as a person, in the terminal")
    console.add_argument("--as", dest="as_email", help="the email of the person you act as")

    dbp = sub.add_parser("db", help="database tasks")
    dbsub = dbp.add_subparsers(dest="db_cmd", metavar="TASK", required=True)
    dbsub.add_parser("upgrade", help="apply the migrations")

    imp = sub.add_parser("import", help="import a roster or KPIs")
    impsub = imp.add_subparsers(dest="import_cmd", metavar="WHAT", required=True)
    roster = impsub.add_parser("roster", help="people and teams from a CSV file")
    roster.add_argument("file", help="CSV with header email,name,role,team[,timezone,...]")
    roster.add_argument(
        "--dry-run", action="store_true", help="print what would change; change nothing"
    )
    roster.add_argument(
        "--deactivate-missing",
        action="store_true",
        help="deactivate the active people the file leaves out (admins excepted)",
    )
    kpi = impsub.add_parser("kpis", help="KPI values from a CSV file (or --from-url)")
    kpi.add_argument("file", nargs="?", help="CSV with header date,email,metric,value[,contacts]")
    kpi.add_argument(
        "--from-url", action="store_true", help="pull from KPI_SOURCE_URL instead of a file"
    )

    sources_cli.add_parser(sub)

    serve = sub.add_parser("serve", help="serve Slack and Teams over HTTP (the Procfile's web)")
    serve.add_argument("--port", type=int, help="port (default $PORT, else 3000)")

    sub.add_parser("scheduler", help="run the scheduler and dispatcher (the Procfile's clock)")

    run = sub.add_parser("run", help="server, scheduler and dispatcher in one process")
    run.add_argument("--port", type=int, help="port (default $PORT, else 3000)")

    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobsub = jobs.add_subparsers(dest="jobs_cmd", metavar="TASK", required=True)
    jobsub.add_parser("list", help="every job with its next fire time per team")
    jrun = jobsub.add_parser("run", help="run one job now")
    jrun.add_argument("job", help="the job id (see `leadbot jobs list`)")
    jrun.add_argument("--team", help="only for this team")

    out = sub.add_parser("outbox", help="messages waiting to be sent, or dead")
    outsub = out.add_subparsers(dest="outbox_cmd", metavar="TASK", required=True)
    olist = outsub.add_parser("list", help="pending (or dead) messages")
    olist.add_argument("--dead", action="store_true", help="only messages that gave up")
    oretry = outsub.add_parser("retry", help="send a dead message again")
    oretry.add_argument("id", type=int)

    slack = sub.add_parser("slack", help="Slack tasks")
    slacksub = slack.add_subparsers(dest="slack_cmd", metavar="TASK", required=True)
    slacksub.add_parser(
        "sync", help="map the roster to Slack users by email (and send what waited)"
    )
    sman = slacksub.add_parser("manifest", help="print the Slack app manifest for your host")
    sman.add_argument("--url", default="https://YOUR-HOST", help="your server's https address")

    sub.add_parser("doctor", help="the setup checklist: what is missing and how to fix it")

    admin_cli.add_people_parser(sub)
    teams = sub.add_parser(
        "teams", help="teams (create, lead, archive, ...) and the Microsoft Teams app package"
    )
    teamsub = teams.add_subparsers(dest="teams_cmd", metavar="TASK", required=True)
    pkg = teamsub.add_parser("package", help="write the Microsoft Teams app package (zip)")
    pkg.add_argument("--out", default="leadbot-teams.zip", help="where to write the zip")
    teamsub.add_parser(
        "sync", help="map people from the rosters of the Teams teams leadbot is in, by email"
    )
    admin_cli.add_team_parsers(teamsub)

    priv = sub.add_parser("privacy", help="export or erase what is stored about a person")
    privsub = priv.add_subparsers(dest="privacy_cmd", metavar="TASK", required=True)
    pexp = privsub.add_parser("export", help="everything stored about a person, as JSON")
    pexp.add_argument("email")
    pexp.add_argument("--out", help="write to this file instead of standard output")
    pfor = privsub.add_parser("forget", help="erase a person (kudos and items stay anonymised)")
    pfor.add_argument("email")
    pfor.add_argument("--yes", action="store_true", help="confirm the erasure")

    return p


def settings_errors(exc: ValidationError) -> list[str]:
    """One line per setting that failed validation: its variable and what it allows
    (the value only when it is not a secret)."""
    lines = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err.get("loc") else "a setting"
        what = _allowed(err)
        given = _given(name, err.get("input"))
        if given and repr(str(err.get("input"))) in what:
            given = ""  # the message names the value already
        lines.append(f"{name.upper()}: {what[:1].upper()}{what[1:]}{given}")
    return lines


def _allowed(err: Any) -> str:
    ctx = err.get("ctx") or {}
    kind = err.get("type", "")
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        limit = ctx.get(key)
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        return f"must be {words} {limit}"
    plain = {
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "bool_parsing": "must be true or false",
    }
    if kind in plain:
        return plain[kind]
    return str(err.get("msg", "is not valid")).removeprefix("Value error, ")


def _given(name: str, value: object) -> str:
    field = Settings.model_fields.get(name)
    hidden = field is None or field.repr is False or "Secret" in str(field.annotation)
    if hidden or value is None or isinstance(value, SecretStr | dict):
        return ""
    text = str(value)
    return f" (it is {text[:40]!r})"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `leadbot` console script."""
    args = _parser().parse_args(argv)
    try:
        app = bootstrap()
    except ValidationError as exc:
        for line in settings_errors(exc):
            print(f"leadbot: {line}.", file=sys.stderr)
        print(
            "leadbot: fix the setting in the environment or .env (every setting: "
            "docs/admin/configuration.md).",
            file=sys.stderr,
        )
        return SETTINGS_ERROR
    setup_logging(app.settings)
    log = logging.getLogger("leadbot")
    try:
        return _dispatch(args, app)
    except KeyboardInterrupt:
        return 130
    except Exception:
        log.exception("leadbot %s failed", args.cmd)
        print(f"leadbot {args.cmd}: failed; see the log above.", file=sys.stderr)
        return 1


def _console(app: App, args: argparse.Namespace) -> int:
    try:
        app, note = with_demo_secret(app)
    except ValueError as exc:
        print(f"leadbot {args.cmd}: {exc}", file=sys.stderr)
        return SETTINGS_ERROR
    if note:
        print(f"leadbot {args.cmd}: {note}", file=sys.stderr)
    return asyncio.run(console.main(app, args))


# Commands that are one coroutine over the app and the arguments.
_ASYNC_MAINS: dict[str, Callable[[App, argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "import": importer.main,
    "sources": sources_cli.main,
    "privacy": privacy_cli.main,
}


def _slack(args: argparse.Namespace, app: App) -> int:
    if args.slack_cmd == "sync":
        return asyncio.run(slack_sync.main(app.settings, app.db))
    manifest = render_manifest(
        args.url, commands=app.registry.commands, charts=app.settings.charts_enabled
    )
    print(manifest, end="")
    return 0


def _teams(args: argparse.Namespace, app: App) -> int:
    """`leadbot teams ...`: the Microsoft Teams tasks, else the leadbot-team admin ones."""
    if args.teams_cmd == "sync":
        return asyncio.run(teams_sync.main(app.settings, app.db))
    if args.teams_cmd == "package":
        return teams_package.main(app, args)
    return asyncio.run(admin_cli.run(app, args))


def _dispatch(args: argparse.Namespace, app: App) -> int:
    if args.cmd in ("demo", "console"):
        app.db.unmapped_platform = "console"  # the console shows every message itself
        if getattr(args, "what", None) == "live":
            return asyncio.run(live_demo.main(app, args))
        return _console(app, args)
    if args.cmd == "doctor":
        return doctor.main(app.ctx)
    if args.cmd == "teams":
        return _teams(args, app)
    if args.cmd == "people":
        return asyncio.run(admin_cli.run(app, args))
    if args.cmd == "db":
        upgrade_sync(app.settings.database_url)
        print("database is up to date")
        return 0
    if args.cmd in _ASYNC_MAINS:
        return asyncio.run(_ASYNC_MAINS[args.cmd](app, args))
    if args.cmd in ("serve", "scheduler", "run", "jobs", "outbox"):
        return runner.main(app, args)
    if args.cmd == "slack":
        return _slack(args, app)
    raise AssertionError(args.cmd)


if __name__ == "__main__":
    sys.exit(main())
