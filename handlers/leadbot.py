"""`/leadbot`: help, and the admin commands that set up teams and people."""

from __future__ import annotations

from handlers.context import HandlerContext
from handlers.errors import NotFound, UsageError
from handlers.parsing import Args
from handlers.roles import require_role
from handlers.spec import CommandSpec
from handlers.types import Block, Command, Context, Header, Reply, Table, Text
from handlers.worktime import zone
from storage import people
from storage.models import Role


def help_reply(*, intro: str | None = None, verb: str | None = None) -> Reply:
    """The command list, or one command's usage when `verb` is given."""
    from handlers.dispatch import find_command
    from handlers.registry import COMMANDS

    if verb:
        spec = find_command(verb)
        if spec is None:
            return help_reply(intro=f"There is no `/{verb.lstrip('/')}` command.")
        blocks: list[Block] = [
            Header(f"/{spec.verb}"),
            Text(spec.summary),
            Text("```\n" + spec.usage_text + "\n```"),
        ]
        if spec.examples:
            blocks.append(Context("Examples: " + " · ".join(f"`{e}`" for e in spec.examples)))
        return Reply(blocks=blocks, text=f"/{spec.verb}: {spec.summary}\n{spec.usage_text}")
    rows = tuple((f"/{c.verb}", c.summary) for c in COMMANDS)
    blocks_: list[Header | Text | Table | Context] = [Header("leadbot commands")]
    if intro:
        blocks_.append(Text(intro))
    blocks_.append(Table(("command", "what it does"), rows))
    blocks_.append(Context("`/leadbot help COMMAND` shows a command's usage and examples."))
    text = (intro + "\n" if intro else "") + "\n".join(f"{v}: {s}" for v, s in rows)
    return Reply(blocks=list(blocks_), text=text)


async def leadbot(cmd: Command, ctx: HandlerContext) -> Reply:
    args = Args(cmd.args)
    sub = args.take_if("help", "team", "whoami", "home")
    if sub is None:
        if args:
            raise UsageError(f"I don't know `/leadbot {args.rest_text()}`.")
        return help_reply()
    if sub == "help":
        topic = args.take_word() if args else None
        args.expect_end()
        return help_reply(verb=topic)
    if sub == "home":
        args.expect_end()
        from handlers.home import home

        return await home(cmd.actor, ctx)
    if sub == "whoami":
        args.expect_end()
        a = cmd.actor
        team = await people.get_team(ctx.db, team_id=a.team_id) if a.team_id else None
        return Reply(
            blocks=[
                Header(a.name),
                Table(
                    ("", ""),
                    (
                        ("email", a.email),
                        ("role", a.role.value),
                        ("team", team.name if team else "none"),
                        ("time zone", a.timezone),
                    ),
                ),
            ],
            text=f"{a.name} <{a.email}>, {a.role.value}",
        )
    action = args.take_if("create", "add", "list")
    if action == "list":
        args.expect_end()
        return await _team_list(ctx)
    require_role(cmd.actor, Role.admin, doing="set up teams")
    if action == "create":
        return await _team_create(args, ctx)
    if action == "add":
        return await _team_add(args, ctx)
    raise UsageError("Say `team create`, `team add` or `team list`.")


async def _team_list(ctx: HandlerContext) -> Reply:
    teams = await people.list_teams(ctx.db)
    if not teams:
        return Reply(blocks=[Text("There are no teams yet.")], text="There are no teams yet.")
    lead_ids = [t.lead_id for t in teams if t.lead_id] + [
        t.manager_id for t in teams if t.manager_id
    ]
    by_id = await people.get_people(ctx.db, person_ids=lead_ids)
    rows = []
    for t in teams:
        lead = by_id.get(t.lead_id or 0)
        mgr = by_id.get(t.manager_id or 0)
        members = await people.list_people(ctx.db, team_id=t.id)
        rows.append(
            (
                t.name,
                t.timezone,
                lead.display_name if lead else "-",
                mgr.display_name if mgr else "-",
                str(sum(1 for m in members if m.role is Role.agent)),
            )
        )
    return Reply(
        blocks=[
            Header("Teams"),
            Table(
                ("team", "time zone", "lead", "manager", "agents"),
                tuple(rows),
                ("l", "l", "l", "l", "r"),
            ),
        ],
        text="\n".join(f"{r[0]} ({r[1]}), lead {r[2]}" for r in rows),
    )


async def _team_create(args: Args, ctx: HandlerContext) -> Reply:
    words: list[str] = []
    tz = ctx.config.default_timezone
    for tok in args.rest():
        if not isinstance(tok, str):
            raise UsageError(f"A team name can't contain a mention ({tok}).")
        if tok.lower().startswith("tz="):
            try:
                tz = zone(tok[3:]).key
            except ValueError as exc:
                # Not str.capitalize(): it would lower-case the zone name in the message.
                msg = str(exc)
                raise UsageError(msg[:1].upper() + msg[1:] + ".") from None
        else:
            words.append(tok)
    name = " ".join(words).strip()
    if not name:
        raise UsageError("Give the team a name.")
    if len(name) > 80:
        raise UsageError("A team name can be 80 characters at most.")
    if await people.get_team_by_name(ctx.db, name=name):
        raise UsageError(f"There is already a team called {name}.")
    team = await people.create_team(ctx.db, name=name, timezone=tz)
    text = f"Team *{team.name}* created (time zone {team.timezone})."
    return Reply(
        blocks=[
            Text(text),
            Context(f"Add people with `/leadbot team add @person {team.name} as agent`."),
        ],
        text=text,
    )


async def _team_add(args: Args, ctx: HandlerContext) -> Reply:
    who = args.take_mention()
    rest = [t for t in args.rest()]
    words = [str(t) for t in rest]
    lowered = [w.lower() for w in words]
    if "as" not in lowered:
        raise UsageError("Say which role, e.g. `as agent`.")
    i = len(lowered) - 1 - lowered[::-1].index("as")
    team_name = " ".join(words[:i]).strip()
    role_words = lowered[i + 1 :]
    if len(role_words) != 1 or role_words[0] not in {r.value for r in Role}:
        raise UsageError("The role must be one of: agent, lead, manager, admin.")
    role = Role(role_words[0])
    if not team_name:
        raise UsageError("Name the team.")
    team = await people.get_team_by_name(ctx.db, name=team_name)
    if team is None:
        raise NotFound(f"There is no team called {team_name!r}. See `/leadbot team list`.")
    assert team.id is not None
    person = await people.assign_member(ctx.db, person_id=who.person_id, team_id=team.id, role=role)
    if role is Role.manager:
        text = f"{person.display_name} now manages *{team.name}*."
    elif role is Role.lead:
        text = f"{person.display_name} is now the lead of *{team.name}*."
    else:
        text = f"{person.display_name} is now an {role.value} in *{team.name}*."
    return Reply(blocks=[Text(text)], text=text)


SPEC = CommandSpec(
    verb="leadbot",
    summary="Help, your home view, who you are, and (admins) setting up teams and people",
    usage=(
        "/leadbot help [COMMAND]",
        "/leadbot whoami",
        "/leadbot home",
        "/leadbot team list",
        "/leadbot team create NAME [tz=Area/City]",
        "/leadbot team add @person TEAM as agent|lead|manager|admin",
    ),
    handler=leadbot,
    examples=("/leadbot help stats", "/leadbot team create Billing tz=Europe/Dublin"),
)
