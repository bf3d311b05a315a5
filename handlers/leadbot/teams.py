"""`/leadbot team ...`: listing teams, and (admins) setting up teams and people."""

from __future__ import annotations

from domain.errors import NotFound, UsageError
from domain.localtime import zone
from domain.parsing import Args
from domain.roles import Role, require_role
from domain.types import Command, Context, Header, Reply, Table, Text
from handlers.core.context import HandlerContext
from storage import people


async def team_list(_cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team list`: every team with its zone, lead, manager and agents."""
    args.expect_end()
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


async def team_create(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team create NAME [tz=Area/City]` (admins)."""
    require_role(cmd.actor, Role.admin, doing="set up teams")
    words: list[str] = []
    tz = ctx.settings.default_timezone
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


async def team_add(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team add @person TEAM as ROLE` (admins)."""
    require_role(cmd.actor, Role.admin, doing="set up teams")
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
