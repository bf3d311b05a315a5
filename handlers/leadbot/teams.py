"""`/leadbot team ...`: listing teams, and (admins) setting them up: create, add people,
rename, lead, manager, time zone, the daily post's time and days, archive.

A team's time zone and daily post may also be changed by the team's own manager. A
change of lead hands the former lead's 1:1s and open items in the team to the new lead
in the same transaction (storage/handover.py); the reply says what moved, and which
teams are left without a lead.
"""

from __future__ import annotations

from domain.errors import NotFound, UsageError, UserError
from domain.localtime import zone
from domain.parsing import Args
from domain.roles import Role
from domain.shifts import parse_time, parse_work_hours
from domain.types import (
    Action,
    Actor,
    Button,
    Buttons,
    Command,
    Context,
    Header,
    Quoted,
    Reply,
    Table,
    Text,
    Token,
)
from handlers.core.context import HandlerContext
from handlers.core.handover import handover_messages, plural
from handlers.leadbot.admin import (
    NO_TEAM_WORDS,
    SET_UP_TEAMS,
    a_role,
    actor_id,
    change_lines,
    clean_name,
    person_from,
    reply_with,
    require_active,
    require_admin,
    require_not_last_admin,
    require_settings,
    take_team,
    team_named,
    words_of,
)
from storage import people
from storage.models import Person, Team
from storage.outbox import OutboxNew
from storage.people import Change

ARCHIVE_ACTION = "leadbot.archive"
MAX_NAMED = 20


def _messages(ctx: HandlerContext) -> people.MessagesFor:
    def build(change: Change) -> list[OutboxNew]:
        return handover_messages(ctx, change.settled)

    return build


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


def _zone_of(word: str) -> str:
    try:
        return zone(word).key
    except ValueError as exc:
        # Not str.capitalize(): it would lower-case the zone name in the message.
        msg = str(exc)
        raise UsageError(msg[:1].upper() + msg[1:] + ".") from None


async def _free_name(ctx: HandlerContext, name: str, *, besides: Team | None = None) -> None:
    taken = await people.get_team_by_name(ctx.db, name=name)
    if taken is not None and (besides is None or taken.id != besides.id):
        raise UsageError(f"There is already a team called {name}.")


async def team_create(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team create NAME [tz=Area/City]` (admins)."""
    require_admin(cmd.actor, SET_UP_TEAMS)
    words: list[str] = []
    tz = ctx.settings.default_timezone
    for tok in args.rest():
        if not isinstance(tok, str):
            raise UsageError(f"A team name can't contain a mention ({tok}).")
        if tok.lower().startswith("tz=") and not isinstance(tok, Quoted):
            tz = _zone_of(tok[3:])
        else:
            words.append(tok)
    return await create_team(ctx, " ".join(words), tz)


async def create_team(ctx: HandlerContext, text: str, tz: str) -> Reply:
    """Create a team (the command and the setup checklist's form both come here)."""
    name = clean_name(text, what="team", limit=80)
    await _free_name(ctx, name)
    team = await people.create_team(ctx.db, name=name, timezone=tz)
    text = f"Team *{team.name}* created (time zone {team.timezone})."
    return Reply(
        blocks=[
            Text(text),
            Context(
                f"Add people with `/leadbot team add @person {team.name} as agent`, and its "
                f"lead with `/leadbot team lead {team.name} @person`."
            ),
        ],
        text=text,
    )


async def team_add(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team add @person TEAM as ROLE` (admins): a lead replaces the team's lead,
    a manager becomes its manager, anyone else joins it with that role."""
    require_admin(cmd.actor, SET_UP_TEAMS)
    who = args.take_mention()
    words = [str(t) for t in args.rest()]
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
    if team is None or team.archived_at is not None:
        raise NotFound(f"There is no team called {team_name!r}. See `/leadbot team list`.")
    person = await person_from(ctx, who)
    require_active(person)
    if person.role is Role.admin and role is not Role.admin:
        await require_not_last_admin(ctx, person)
    if role is Role.lead:
        return await _appoint_lead(cmd.actor, ctx, team, person, short=True)
    assert team.id is not None
    assert person.id is not None
    if role is Role.manager:
        change = await people.set_team_manager(
            ctx.db,
            team_id=team.id,
            person_id=person.id,
            promote=True,
            now=ctx.now(),
            actor_id=actor_id(cmd.actor),
            messages=_messages(ctx),
        )
        return reply_with(f"{person.display_name} now manages *{team.name}*.", change_lines(change))
    change = await people.move_person(
        ctx.db,
        person_id=person.id,
        team_id=team.id,
        role=role,
        now=ctx.now(),
        actor_id=actor_id(cmd.actor),
        messages=_messages(ctx),
    )
    text = f"{person.display_name} is now an {role.value} in *{team.name}*."
    return reply_with(text, change_lines(change))


async def team_rename(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team rename OLD to NEW` (admins)."""
    require_admin(cmd.actor, SET_UP_TEAMS)
    raw = args.rest()
    if any(not isinstance(t, str) for t in raw):
        raise UsageError("A team name can't contain a mention.")
    tokens = [t for t in raw if isinstance(t, str)]
    cuts = [
        i for i, t in enumerate(tokens) if i and not isinstance(t, Quoted) and t.lower() == "to"
    ]
    if not cuts:
        raise UsageError("Say `/leadbot team rename OLD to NEW`.")
    team: Team | None = None
    cut = cuts[0]
    for i in cuts:
        found = await people.get_team_by_name(ctx.db, name=" ".join(words_of(tokens[:i])))
        if found is not None and found.archived_at is None:
            team, cut = found, i
            break
    if team is None:
        team = await team_named(ctx, " ".join(words_of(tokens[:cut])))
    name = clean_name(" ".join(words_of(tokens[cut + 1 :])), what="team", limit=80)
    await _free_name(ctx, name, besides=team)
    assert team.id is not None
    old = team.name
    renamed = await people.rename_team(ctx.db, team_id=team.id, name=name)
    return reply_with(f"Renamed *{old}* to *{renamed.name}*.")


# --- lead and manager ----------------------------------------------------------------------


async def _one_ref(tokens: list[Token]) -> Token:
    if len(tokens) != 1:
        raise UsageError("Name the team, then one person (@name or their email), or `none`.")
    return tokens[0]


def _is_none(tok: Token) -> bool:
    return isinstance(tok, str) and not isinstance(tok, Quoted) and tok.lower() in NO_TEAM_WORDS


async def team_lead(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team lead TEAM @person|none` (admins)."""
    require_admin(cmd.actor, SET_UP_TEAMS)
    team, rest = await take_team(ctx, args.rest())
    tok = await _one_ref(rest)
    if _is_none(tok):
        return await _no_lead(cmd.actor, ctx, team)
    return await set_lead(cmd.actor, ctx, team, tok)


async def set_lead(actor: Actor, ctx: HandlerContext, team: Team, tok: Token) -> Reply:
    """Make the person `tok` names the team's lead (the command and the checklist's form)."""
    person = await person_from(ctx, tok)
    require_active(person)
    if team.lead_id == person.id:
        raise UsageError(f"{person.display_name} is {team.name}'s lead already.")
    if person.role in (Role.manager, Role.admin):
        raise UsageError(
            f"{person.display_name} is {a_role(person.role)}; a team's lead is a lead. Change "
            f"their role first: `/leadbot person role {person.email} agent`."
        )
    return await _appoint_lead(actor, ctx, team, person)


async def _no_lead(actor: Actor, ctx: HandlerContext, team: Team) -> Reply:
    if team.lead_id is None:
        raise UsageError(f"{team.name} has no lead already.")
    assert team.id is not None
    before = await people.get_person(ctx.db, person_id=team.lead_id)
    change = await people.set_team_lead(
        ctx.db, team_id=team.id, person_id=None, now=ctx.now(), actor_id=actor_id(actor)
    )
    name = before.display_name if before else "The lead"
    lines = change_lines(change)
    if before is not None:
        lines += await _former_lead_note(ctx, before, team)
    return reply_with(f"{name} is no longer *{team.name}*'s lead.", lines)


async def _appoint_lead(
    actor: Actor, ctx: HandlerContext, team: Team, person: Person, *, short: bool = False
) -> Reply:
    assert team.id is not None
    assert person.id is not None
    before = await people.get_person(ctx.db, person_id=team.lead_id) if team.lead_id else None
    was_agent = person.role is Role.agent
    change = await people.set_team_lead(
        ctx.db,
        team_id=team.id,
        person_id=person.id,
        now=ctx.now(),
        actor_id=actor_id(actor),
        messages=_messages(ctx),
    )
    text = f"{person.display_name} is now the lead of *{team.name}*."
    lines = [f"They replace {before.display_name}."] if before else []
    if was_agent and not short:
        lines.append(f"{person.display_name} was an agent and is a lead now.")
    if change.previous_team is not None:
        lines.append(f"They moved from {change.previous_team.name} to {team.name}.")
    lines += change_lines(change)
    if before is not None:
        lines += await _former_lead_note(ctx, before, team)
    return reply_with(text, lines)


async def _former_lead_note(ctx: HandlerContext, before: Person, team: Team) -> list[str]:
    assert before.id is not None
    now = await people.get_person(ctx.db, person_id=before.id)
    if now is None or not now.active or now.role is not Role.lead or now.team_id != team.id:
        return []
    return [
        f"{now.display_name} is still a lead in {team.name} but leads no team: "
        f"`/leadbot person move {now.email} TEAM` or `/leadbot person role {now.email} agent`."
    ]


async def team_manager(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team manager TEAM @manager|none` (admins)."""
    require_admin(cmd.actor, SET_UP_TEAMS)
    team, rest = await take_team(ctx, args.rest())
    tok = await _one_ref(rest)
    assert team.id is not None
    before = await people.get_person(ctx.db, person_id=team.manager_id) if team.manager_id else None
    person: Person | None = None
    if _is_none(tok):
        if before is None:
            raise UsageError(f"{team.name} has no manager already.")
    else:
        person = await person_from(ctx, tok)
        require_active(person)
        if person.role is not Role.manager:
            raise UsageError(
                f"{person.display_name} is {a_role(person.role)}; make them a manager first: "
                f"`/leadbot person role {person.email} manager`."
            )
        if team.manager_id == person.id:
            raise UsageError(f"{person.display_name} manages {team.name} already.")
    change = await people.set_team_manager(
        ctx.db,
        team_id=team.id,
        person_id=person.id if person else None,
        now=ctx.now(),
        actor_id=actor_id(cmd.actor),
    )
    was = f" (before: {before.display_name})" if before else ""
    if person is None:
        return reply_with(f"*{team.name}* has no manager now{was}.")
    lines = [line for line in change_lines(change) if "no manager" not in line]
    return reply_with(f"{person.display_name} now manages *{team.name}*{was}.", lines)


# --- settings: time zone, the daily post ---------------------------------------------------


async def team_timezone(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team timezone TEAM Area/City` (admins and the team's manager)."""
    team, rest = await take_team(ctx, args.rest())
    require_settings(cmd.actor, team)
    if len(rest) != 1 or not isinstance(rest[0], str):
        raise UsageError("Name the team, then its time zone (like Europe/London).")
    word = rest[0]
    tz = _zone_of(word[3:] if word.lower().startswith("tz=") else word)
    assert team.id is not None
    await people.update_team(ctx.db, team_id=team.id, timezone=tz)
    return reply_with(
        f"*{team.name}*'s time zone is now {tz} (was {team.timezone}).",
        [
            "Its daily goal update and other team posts follow it from their next run; "
            "each person keeps their own zone for their messages."
        ],
    )


def _days(word: str) -> str | None:
    """`Mon-Fri`, `sun-thu`, `Mon,Wed,Fri` tidied, or None when it is not a day pattern."""
    text = "".join(word.split())
    try:
        parse_work_hours(f"{text} 00:00-23:59")
    except ValueError:
        return None
    return "-".join(
        ",".join(d[:1].upper() + d[1:3].lower() for d in part.split(","))
        for part in text.split("-")
    )


def _post_settings(rest: list[Token]) -> tuple[str | None, str | None]:
    at: str | None = None
    days: str | None = None
    for tok in rest:
        word = str(tok)
        try:
            t = parse_time(word)
        except ValueError:
            t = None
        if t is not None and at is None:
            at = f"{t:%H:%M}"
            continue
        tidy = _days(word)
        if tidy is not None and days is None:
            days = tidy
            continue
        raise UsageError(
            f"I didn't understand {word!r}: give a time (HH:MM) and/or working days "
            "(like Mon-Fri or Sun-Thu)."
        )
    if at is None and days is None:
        raise UsageError("Give a time (HH:MM) and/or working days (like Mon-Fri).")
    return at, days


async def team_post(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team post TEAM [HH:MM] [DAYS]`: when the daily goal update goes out."""
    team, rest = await take_team(ctx, args.rest())
    require_settings(cmd.actor, team)
    at, days = _post_settings(rest)
    assert team.id is not None
    updated = await people.update_team(ctx.db, team_id=team.id, post_time=at, work_days=days)
    assert updated is not None
    return reply_with(
        f"*{team.name}*'s daily goal update goes out at {updated.post_time} on "
        f"{updated.work_days} ({updated.timezone}).",
        ["`leadbot jobs list` shows its next run."],
    )


# --- archive -------------------------------------------------------------------------------


async def team_archive(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot team archive TEAM` (admins): says what it does, with a button to do it."""
    require_admin(cmd.actor, SET_UP_TEAMS)
    team, rest = await take_team(ctx, args.rest())
    if rest:
        raise UsageError(f"I didn't understand {' '.join(words_of(rest))!r}.")
    assert team.id is not None
    members = await people.list_people(ctx.db, team_id=team.id)
    text = (
        f"Archiving *{team.name}* keeps its history (KPIs, kudos, pulse results), stops its "
        "daily post, pulses and other scheduled messages, and frees its name and channel."
    )
    lines = [text]
    if members:
        lines.append(
            f"Its {plural(len(members), 'person', 'people')} will be in no team: move them "
            "first if they stay (`/leadbot person move @person TEAM`)."
        )
    button = Button(f"Archive {team.name}", ARCHIVE_ACTION, str(team.id), "danger")
    return Reply(
        blocks=[Header(f"Archive {team.name}?"), *(Text(x) for x in lines), Buttons((button,))],
        text="\n".join(lines),
    )


async def archive_pressed(action: Action, ctx: HandlerContext) -> Reply:
    """The button: archive the team (admins; checked again on every press)."""
    require_admin(action.actor, SET_UP_TEAMS)
    if not action.value.isdigit():
        raise UserError("That button is no longer valid.")
    team = await people.get_team(ctx.db, team_id=int(action.value))
    if team is None or team.archived_at is not None:
        raise UserError("That team is archived already.")
    assert team.id is not None
    change = await people.archive_team(
        ctx.db, team_id=team.id, now=ctx.now(), actor_id=actor_id(action.actor)
    )
    lines = []
    if change.teamless:
        names = ", ".join(p.display_name for p in change.teamless[:MAX_NAMED])
        more = len(change.teamless) - MAX_NAMED
        lines.append(
            f"{plural(len(change.teamless), 'person is', 'people are')} in no team now: "
            f"{names}{f' and {more} more' if more > 0 else ''}."
        )
    reply = reply_with(f"Archived *{team.name}*.", lines)
    reply.replace_original = True
    return reply


__all__ = [
    "ARCHIVE_ACTION",
    "archive_pressed",
    "create_team",
    "set_lead",
    "team_add",
    "team_archive",
    "team_create",
    "team_lead",
    "team_list",
    "team_manager",
    "team_post",
    "team_rename",
    "team_timezone",
]
