"""The `leadbot` command line. Each subcommand is a thin call into its module."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot import console, importer, privacy_cli, runner, teams_package
from bot.bootstrap import App, bootstrap
from bot.live import demo as live_demo
from bot.logs import setup_logging
from bot.slack.manifest import render_manifest
from storage.migrate import upgrade_sync


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
    kpi = impsub.add_parser("kpis", help="KPI values from a CSV file (or --from-url)")
    kpi.add_argument("file", nargs="?", help="CSV with header date,email,metric,value[,contacts]")
    kpi.add_argument(
        "--from-url", action="store_true", help="pull from KPI_SOURCE_URL instead of a file"
    )

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
    sman = slacksub.add_parser("manifest", help="print the Slack app manifest for your host")
    sman.add_argument("--url", default="https://YOUR-HOST", help="your server's https address")

    teams = sub.add_parser("teams", help="Microsoft Teams tasks")
    teamsub = teams.add_subparsers(dest="teams_cmd", metavar="TASK", required=True)
    pkg = teamsub.add_parser("package", help="write the Teams app package (zip)")
    pkg.add_argument("--out", default="leadbot-teams.zip", help="where to write the zip")

    priv = sub.add_parser("privacy", help="export or erase what is stored about a person")
    privsub = priv.add_subparsers(dest="privacy_cmd", metavar="TASK", required=True)
    pexp = privsub.add_parser("export", help="everything stored about a person, as JSON")
    pexp.add_argument("email")
    pexp.add_argument("--out", help="write to this file instead of standard output")
    pfor = privsub.add_parser("forget", help="erase a person (kudos and items stay anonymised)")
    pfor.add_argument("email")
    pfor.add_argument("--yes", action="store_true", help="confirm the erasure")

    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `leadbot` console script."""
    args = _parser().parse_args(argv)
    app = bootstrap()
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


def _dispatch(args: argparse.Namespace, app: App) -> int:
    if args.cmd == "demo" and getattr(args, "what", None) == "live":
        return asyncio.run(live_demo.main(app, args))
    if args.cmd in ("demo", "console"):
        return asyncio.run(console.main(app, args))
    if args.cmd == "db":
        upgrade_sync(app.settings.database_url)
        print("database is up to date")
        return 0
    if args.cmd == "import":
        return asyncio.run(importer.main(app, args))
    if args.cmd in ("serve", "scheduler", "run", "jobs", "outbox"):
        return runner.main(app, args)
    if args.cmd == "privacy":
        return asyncio.run(privacy_cli.main(app, args))
    if args.cmd == "slack":
        print(render_manifest(args.url, commands=app.registry.commands), end="")
        return 0
    if args.cmd == "teams":
        return teams_package.main(app, args)
    raise AssertionError(args.cmd)


if __name__ == "__main__":
    sys.exit(main())
