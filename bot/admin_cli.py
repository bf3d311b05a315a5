"""`leadbot people ...` and `leadbot teams ...`: the admin chat commands on the command line.

Each invocation is turned into the words of the chat command (`leadbot people move
maria@example.com "Tech Support"` is `/leadbot person move maria@example.com "Tech
Support"`) and run through the same dispatch and handlers as the console, by the command
line's operator: an admin who is no one on the roster (whoever holds the server's
configuration holds the roster anyway). The reply is printed as the console prints it.
Exit codes: 0 done, 1 refused (the reason is printed; nothing changed).
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.bootstrap import App
from bot.metrics import run_action, run_command
from bot.render_text import render_text
from domain.roles import Role
from domain.types import Action, Actor, Buttons, Command, Platform, Quoted, Reply, Token
from handlers.leadbot import ARCHIVE_ACTION
from storage import outbox
from storage.migrate import upgrade

CLI_ACTOR = Actor(
    person_id=0,
    email="operator@leadbot.cli",
    name="leadbot command line",
    role=Role.admin,
    team_id=None,
)
ROLES = ("agent", "lead", "manager", "admin")


def add_people_parser(sub: Any) -> None:
    """`leadbot people ...` (the same as `/leadbot person ...` in chat)."""
    p = sub.add_parser("people", help="add, deactivate, move people; their role or manager")
    ps = p.add_subparsers(dest="people_cmd", metavar="TASK", required=True)
    add = ps.add_parser("add", help="add a person to the roster")
    add.add_argument("email")
    add.add_argument("name", help='their name (quote it: "Maria Lopez")')
    add.add_argument("--team", help="their team (agents and leads need one)")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.add_argument("--tz", help="their time zone (default: the team's)")
    add.add_argument("--hours", help='their working hours (default "Mon-Fri 09:00-17:00")')
    for name, what in (
        ("deactivate", "switch a person off: no messages, no pulses; history kept"),
        ("reactivate", "switch a deactivated person on again"),
    ):
        ps.add_parser(name, help=what).add_argument("email")
    move = ps.add_parser("move", help="move a person to another team (none: no team)")
    move.add_argument("email")
    move.add_argument("team")
    role = ps.add_parser("role", help="change a person's role (applies at once)")
    role.add_argument("email")
    role.add_argument("role", choices=ROLES)
    mgr = ps.add_parser("manager", help="set who a person reports to (none: nobody)")
    mgr.add_argument("email")
    mgr.add_argument("manager", help="the manager's email, or none")
    lst = ps.add_parser("list", help="the roster (a team, none, deactivated, unreachable)")
    lst.add_argument("which", nargs="?", help="a team, none, deactivated or unreachable")


def add_team_parsers(teamsub: Any) -> None:
    """`leadbot teams ...` (the same as `/leadbot team ...` in chat), next to `package`."""
    teamsub.add_parser("list", help="every team with its zone, lead, manager and agents")
    create = teamsub.add_parser("create", help="create a team")
    create.add_argument("name")
    create.add_argument("--tz", help="its time zone (default DEFAULT_TIMEZONE)")
    rename = teamsub.add_parser("rename", help="rename a team")
    rename.add_argument("team")
    rename.add_argument("new_name")
    for name, what, who in (
        ("lead", "set a team's lead (their 1:1s and items go along)", "the lead's email"),
        ("manager", "set a team's manager", "the manager's email"),
    ):
        p = teamsub.add_parser(name, help=what)
        p.add_argument("team")
        p.add_argument("email", help=f"{who}, or none")
    tz = teamsub.add_parser("timezone", help="set a team's time zone")
    tz.add_argument("team")
    tz.add_argument("zone", help="an IANA zone, like Europe/London")
    post = teamsub.add_parser("post", help="when the daily goal update goes out")
    post.add_argument("team")
    post.add_argument("--at", help="the time, HH:MM (the team's zone)")
    post.add_argument("--days", help="the working days, like Mon-Fri or Sun-Thu")
    arc = teamsub.add_parser("archive", help="archive a team (history kept)")
    arc.add_argument("team")
    arc.add_argument("--yes", action="store_true", help="confirm (else it says what it would do)")


def _people_words(a: argparse.Namespace) -> list[Token]:
    cmd = a.people_cmd
    if cmd == "add":
        words: list[Token] = ["add", a.email, Quoted(a.name)]
        for key, value in (("team", a.team), ("as", a.role), ("tz", a.tz), ("hours", a.hours)):
            if value:
                words += [key, Quoted(value) if key in ("team", "hours") else value]
        return ["person", *words]
    if cmd in ("deactivate", "reactivate"):
        return ["person", cmd, a.email]
    if cmd == "move":
        return ["person", "move", a.email, Quoted(a.team)]
    if cmd == "role":
        return ["person", "role", a.email, a.role]
    if cmd == "manager":
        return ["person", "manager", a.email, a.manager]
    return ["person", "list", *([Quoted(a.which)] if a.which else [])]


def _team_words(a: argparse.Namespace) -> list[Token]:
    cmd = a.teams_cmd
    if cmd == "list":
        return ["team", "list"]
    if cmd == "create":
        return ["team", "create", Quoted(a.name), *([f"tz={a.tz}"] if a.tz else [])]
    if cmd == "rename":
        return ["team", "rename", Quoted(a.team), "to", Quoted(a.new_name)]
    if cmd in ("lead", "manager"):
        return ["team", cmd, Quoted(a.team), a.email]
    if cmd == "timezone":
        return ["team", "timezone", Quoted(a.team), a.zone]
    if cmd == "post":
        return ["team", "post", Quoted(a.team), *[x for x in (a.at, a.days) if x]]
    return ["team", "archive", Quoted(a.team)]


def words_for(a: argparse.Namespace) -> list[Token]:
    """The `/leadbot` words for a `people` or `teams` invocation."""
    return _people_words(a) if a.cmd == "people" else _team_words(a)


def _archive_button(reply: Reply) -> Action | None:
    for block in reply.blocks:
        if isinstance(block, Buttons):
            for b in block.buttons:
                if b.action_id == ARCHIVE_ACTION:
                    return Action(CLI_ACTOR, b.action_id, b.value, platform=Platform.console)
    return None


async def run(app: App, a: argparse.Namespace) -> int:
    """Run one `people`/`teams` invocation; print the reply; 0 done, 1 refused."""
    db, ctx = app.db, app.ctx
    try:
        await upgrade(db)
        words = words_for(a)
        raw = "/leadbot " + " ".join(f'"{w}"' if isinstance(w, Quoted) else str(w) for w in words)
        mark = await outbox.last_id(db)
        cmd = Command(CLI_ACTOR, "leadbot", tuple(words), raw=raw, platform=Platform.console)
        reply = await run_command(cmd, ctx)
        press = _archive_button(reply) if getattr(a, "yes", False) else None
        if press is not None:
            reply = await run_action(press, ctx)
        elif a.cmd == "teams" and a.teams_cmd == "archive" and reply.ok:
            reply.blocks = [b for b in reply.blocks if not isinstance(b, Buttons)]
            print(render_text(reply))
            print("Nothing was changed: run it again with --yes to archive.")
            return 0
        reply.replace_original = False  # nothing to replace on a terminal
        print(render_text(reply))
        queued = await outbox.last_id(db) - mark
        if queued > 0:
            print(
                f"({queued} message{'s' if queued != 1 else ''} queued for the people concerned.)"
            )
        return 0 if reply.ok else 1
    finally:
        await db.dispose()
