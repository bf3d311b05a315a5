"""`/leadbot person ...` (admins): add, deactivate, reactivate, move, role, manager, list.

Each change goes through one storage function that settles the teams' leads in the same
transaction (storage/handover.py), so the reply can say what the change left behind: a
team without a lead, a person without a team, and whose work went to whom.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import UsageError
from domain.localtime import zone
from domain.parsing import Args
from domain.roles import Role
from domain.shifts import DEFAULT_WORK_HOURS, parse_work_hours
from domain.types import Block, Command, Context, Header, Quoted, Reply, Table, Text, Token
from handlers.core.context import HandlerContext
from handlers.core.handover import handover_messages, plural
from handlers.leadbot.admin import (
    CHANGE_PEOPLE,
    EMAIL_RE,
    NO_TEAM_WORDS,
    a_role,
    actor_id,
    change_lines,
    clean_name,
    person_from,
    reply_with,
    require_active,
    require_admin,
    require_not_last_admin,
    role_of,
    take_team,
    team_named,
    who,
    words_of,
)
from storage import people
from storage.models import Person, Team
from storage.outbox import OutboxNew
from storage.people import Change

_KEYS = ("team", "as", "tz", "hours")
MAX_LISTED = 100


def _messages(ctx: HandlerContext) -> people.MessagesFor:
    def build(change: Change) -> list[OutboxNew]:
        return handover_messages(ctx, change.settled)

    return build


# --- add -----------------------------------------------------------------------------------


@dataclass
class _NewPerson:
    email: str
    name: str
    role: Role
    team: Team | None
    timezone: str
    work_hours: str


def _segments(tokens: list[Token]) -> dict[str, list[Token]]:
    """`NAME... [team TEAM...] [as ROLE] [tz ZONE | tz=ZONE] [hours PATTERN...]`."""
    out: dict[str, list[Token]] = {"name": []}
    current = "name"
    for tok in tokens:
        word = tok.lower() if isinstance(tok, str) and not isinstance(tok, Quoted) else None
        if word in _KEYS:
            if word in out:
                raise UsageError(f"`{word}` is given twice.")
            current = word
            out[current] = []
        elif word is not None and word.startswith("tz="):
            out["tz"] = [tok[3:]] if isinstance(tok, str) else []
        elif not isinstance(tok, str):
            raise UsageError(f"Expected words, got the mention {tok}.")
        else:
            out[current].append(tok)
    return out


async def _new_person(ctx: HandlerContext, tokens: list[Token]) -> _NewPerson:
    if not tokens or not isinstance(tokens[0], str):
        raise UsageError("Give their email first, then their name.")
    email = tokens[0].strip().lower()
    if not EMAIL_RE.match(email):
        raise UsageError(f"{tokens[0]!r} is not an email address.")
    seg = _segments(tokens[1:])
    name = clean_name(" ".join(words_of(seg["name"])), what="person", limit=120)
    role = Role.agent
    if "as" in seg:
        if len(seg["as"]) != 1:
            raise UsageError("The role must be one of: agent, lead, manager, admin.")
        role = role_of(str(seg["as"][0]))
    team = await team_named(ctx, " ".join(words_of(seg["team"]))) if seg.get("team") else None
    if team is None and role in (Role.agent, Role.lead):
        raise UsageError(f"{a_role(role).capitalize()} needs a team: add `team NAME`.")
    tz = _zone(seg, team.timezone if team else ctx.settings.default_timezone)
    hours = " ".join(words_of(seg.get("hours", []))) or DEFAULT_WORK_HOURS
    try:
        parse_work_hours(hours)
    except ValueError as exc:
        raise UsageError(f"Working hours: {exc}.") from None
    return _NewPerson(email, name, role, team, tz, hours)


def _zone(seg: dict[str, list[Token]], default: str) -> str:
    if "tz" not in seg:
        return default
    words = words_of(seg["tz"])
    if len(words) != 1:
        raise UsageError("Give one time zone, like `tz Europe/London`.")
    try:
        return zone(words[0]).key
    except ValueError as exc:
        msg = str(exc)
        raise UsageError(msg[:1].upper() + msg[1:] + ".") from None


async def person_add(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot person add EMAIL NAME [team TEAM] [as ROLE] [tz ZONE] [hours PATTERN]`."""
    require_admin(cmd.actor, CHANGE_PEOPLE)
    new = await _new_person(ctx, args.rest())
    taken = await people.get_by_email(ctx.db, email=new.email)
    if taken is not None and taken.active:
        raise UsageError(f"{who(taken)} is already on the roster.")
    if taken is not None:
        raise UsageError(
            f"{who(taken)} is on the roster, deactivated: "
            f"`/leadbot person reactivate {taken.email}`."
        )
    team = new.team
    if new.role is Role.lead and team is not None and team.lead_id is not None:
        lead = await people.get_person(ctx.db, person_id=team.lead_id)
        raise UsageError(
            f"{team.name} already has a lead ({lead.display_name if lead else 'someone'}). "
            f"Add them as an agent, then `/leadbot team lead {team.name} {new.email}`."
        )
    change = await people.add_person(
        ctx.db,
        email=new.email,
        name=new.name,
        role=new.role,
        team_id=team.id if team else None,
        timezone=new.timezone,
        work_hours=new.work_hours,
        now=ctx.now(),
        actor_id=actor_id(cmd.actor),
        messages=_messages(ctx),
    )
    where = f" in *{team.name}*" if team else ""
    text = (
        f"Added {new.name} <{new.email}> as {a_role(new.role)}{where} "
        f"({new.timezone}, {new.work_hours})."
    )
    lines = [*change_lines(change), _lead_note(change)]
    lines.append(
        "leadbot links their Slack or Teams account when they first use it; until then "
        "it can't message them."
    )
    return reply_with(text, [line for line in lines if line])


def _lead_note(change: Change) -> str:
    p, team = change.person, change.team
    if p is None or team is None:
        return ""
    if team.lead_id == p.id and p.role is Role.lead:
        return f"They are {team.name}'s lead."
    if p.role is Role.manager:
        if team.manager_id == p.id:
            return f"They manage {team.name}."
        return (
            f"{team.name} keeps its manager; to change it: "
            f"`/leadbot team manager {team.name} {p.email}`."
        )
    return ""


# --- deactivate / reactivate ---------------------------------------------------------------


async def person_deactivate(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot person deactivate @person`: they get nothing; their history stays."""
    require_admin(cmd.actor, CHANGE_PEOPLE)
    p = await person_from(ctx, args.next() if args else None)
    args.expect_end()
    if p.id == cmd.actor.person_id:
        raise UsageError("You can't deactivate yourself; ask another admin.")
    if not p.active:
        raise UsageError(f"{p.display_name} is already deactivated.")
    await require_not_last_admin(ctx, p)
    assert p.id is not None
    owned = await people.open_items_owned(ctx.db, person_id=p.id)
    change = await people.set_active(
        ctx.db,
        person_id=p.id,
        active=False,
        now=ctx.now(),
        actor_id=actor_id(cmd.actor),
        messages=_messages(ctx),
    )
    text = (
        f"Deactivated {who(p)}. They get no messages, aren't asked in pulses, drop out of "
        "leaderboards and team figures from now on, and can't use leadbot; their history "
        f"stays. `/leadbot person reactivate {p.email}` undoes it."
    )
    lines = change_lines(change)
    if owned:
        lines.append(
            f"They own {plural(owned, 'open action item')}: reassign "
            f"{'it' if owned == 1 else 'them'} with `/action reassign ID @person`."
        )
    return reply_with(text, lines)


async def person_reactivate(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot person reactivate @person|EMAIL`."""
    require_admin(cmd.actor, CHANGE_PEOPLE)
    p = await person_from(ctx, args.next() if args else None)
    args.expect_end()
    if p.active:
        raise UsageError(f"{p.display_name} is active already.")
    assert p.id is not None
    change = await people.set_active(
        ctx.db,
        person_id=p.id,
        active=True,
        now=ctx.now(),
        actor_id=actor_id(cmd.actor),
        messages=_messages(ctx),
    )
    person = change.person or p
    where = f" in *{change.team.name}*" if change.team else ""
    text = f"{person.display_name} is active again, as {a_role(person.role)}{where}."
    lines = change_lines(change)
    if change.demoted and change.team is not None:
        lines.insert(0, f"{change.team.name} has another lead now, so they are back as an agent.")
    if change.previous_team is not None:
        lines.insert(0, f"Their team {change.previous_team.name} was archived.")
    if change.team is not None and change.team.lead_id == person.id:
        lines.insert(0, f"They lead {change.team.name} again.")
    return reply_with(text, lines)


# --- move / role / manager -----------------------------------------------------------------


async def _lead_of(ctx: HandlerContext, team: Team) -> Person | None:
    return await people.get_person(ctx.db, person_id=team.lead_id) if team.lead_id else None


async def _target_team(ctx: HandlerContext, rest: list[Token]) -> Team | None:
    words = words_of(rest)
    if len(words) == 1 and words[0].lower() in NO_TEAM_WORDS:
        return None
    team, extra = await take_team(ctx, rest)
    if extra:
        raise UsageError(f"I didn't understand {' '.join(words_of(extra))!r}.")
    return team


async def _check_move(ctx: HandlerContext, p: Person, team: Team | None) -> None:
    if team is None:
        if p.role in (Role.agent, Role.lead):
            raise UsageError(
                f"{a_role(p.role).capitalize()} needs a team: move them to one, or change "
                "their role first."
            )
        if p.team_id is None:
            raise UsageError(f"{p.display_name} has no team already.")
        return
    if team.id == p.team_id:
        raise UsageError(f"{p.display_name} is in {team.name} already.")
    lead = await _lead_of(ctx, team)
    if p.role is Role.lead and lead is not None:
        raise UsageError(
            f"{team.name} already has a lead ({lead.display_name}). To make "
            f"{p.display_name} its lead instead: `/leadbot team lead {team.name} {p.email}`; "
            f"to move them as an agent, `/leadbot person role {p.email} agent` first."
        )


async def person_move(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot person move @person TEAM` (`none`: no team, for managers and admins)."""
    require_admin(cmd.actor, CHANGE_PEOPLE)
    p = await person_from(ctx, args.next() if args else None)
    require_active(p)
    rest = args.rest()
    if not rest:
        raise UsageError("Name the team to move them to.")
    team = await _target_team(ctx, rest)
    await _check_move(ctx, p, team)
    before = await people.get_team(ctx.db, team_id=p.team_id) if p.team_id else None
    assert p.id is not None
    change = await people.move_person(
        ctx.db,
        person_id=p.id,
        team_id=team.id if team else None,
        now=ctx.now(),
        actor_id=actor_id(cmd.actor),
        messages=_messages(ctx),
    )
    src = f" from *{before.name}*" if before else ""
    text = (
        f"Moved {p.display_name}{src} to *{team.name}*."
        if team
        else f"{p.display_name} is in no team now (was in {before.name if before else '-'})."
    )
    lines = change_lines(change)
    if change.team is not None and change.team.lead_id == p.id:
        lines.insert(0, f"They are {change.team.name}'s lead.")
    return reply_with(text, lines)


async def _check_role(ctx: HandlerContext, p: Person, role: Role) -> None:
    if role is p.role:
        raise UsageError(f"{p.display_name} is {a_role(role)} already.")
    if p.role is Role.admin:
        await require_not_last_admin(ctx, p)
    if role in (Role.agent, Role.lead) and p.team_id is None:
        raise UsageError(
            f"{a_role(role).capitalize()} needs a team: "
            f"`/leadbot person move {p.email} TEAM` first."
        )
    if role is Role.lead and p.team_id is not None:
        team = await people.get_team(ctx.db, team_id=p.team_id)
        lead = await _lead_of(ctx, team) if team else None
        if team is not None and lead is not None:
            raise UsageError(
                f"{team.name} already has a lead ({lead.display_name}). To replace them: "
                f"`/leadbot team lead {team.name} {p.email}`."
            )


async def person_role(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot person role @person agent|lead|manager|admin`; applies at once."""
    require_admin(cmd.actor, CHANGE_PEOPLE)
    p = await person_from(ctx, args.next() if args else None)
    require_active(p)
    role = role_of(args.take_word("a role (agent, lead, manager or admin)"))
    args.expect_end()
    await _check_role(ctx, p, role)
    assert p.id is not None
    change = await people.set_role(
        ctx.db,
        person_id=p.id,
        role=role,
        now=ctx.now(),
        actor_id=actor_id(cmd.actor),
        messages=_messages(ctx),
    )
    text = f"{p.display_name} is now {a_role(role)}. It applies at once, to earlier buttons too."
    lines = change_lines(change)
    team = change.team
    if team is not None and role is Role.lead and team.lead_id == p.id:
        lines.insert(0, f"They are {team.name}'s lead.")
    if role is Role.manager:
        lines.append(f"Give them teams with `/leadbot team manager TEAM {p.email}`.")
    return reply_with(text, lines)


async def person_manager(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot person manager @person @manager|none`: who they report to."""
    require_admin(cmd.actor, CHANGE_PEOPLE)
    p = await person_from(ctx, args.next() if args else None)
    require_active(p)
    tok = args.next() if args else None
    args.expect_end()
    boss: Person | None = None
    if not (isinstance(tok, str) and tok.lower() in NO_TEAM_WORDS):
        boss = await person_from(ctx, tok)
        require_active(boss)
        if boss.id == p.id:
            raise UsageError("A person can't be their own manager.")
    assert p.id is not None
    await people.set_manager(ctx.db, person_id=p.id, manager_id=boss.id if boss else None)
    if boss is None:
        return reply_with(f"{p.display_name} has no manager set now.")
    return reply_with(f"{p.display_name}'s manager is now {boss.display_name}.")


# --- list ----------------------------------------------------------------------------------


def _reach(p: Person) -> str:
    if p.unreachable_reason:
        return f"can't: {p.unreachable_reason}"
    ways = [w for w, v in (("Slack", p.slack_user_id), ("Teams", p.teams_user_id)) if v]
    return ", ".join(ways) or "not yet (found by email on the first message)"


async def person_list(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/leadbot person list [TEAM | deactivated | unreachable]` (admins)."""
    require_admin(cmd.actor, CHANGE_PEOPLE)
    rest = args.rest()
    word = str(rest[0]).lower() if len(rest) == 1 and isinstance(rest[0], str) else ""
    everyone = await people.list_people(ctx.db, include_inactive=True)
    title = "Everyone on the roster"
    if word == "deactivated":
        shown, title = [p for p in everyone if not p.active], "Deactivated people"
    elif word == "unreachable":
        shown = [
            p
            for p in everyone
            if p.active and (p.unreachable_reason or not (p.slack_user_id or p.teams_user_id))
        ]
        title = "People leadbot can't message yet"
    elif rest:
        team = await _target_team(ctx, rest)
        if team is None:
            shown = [p for p in everyone if p.active and p.team_id is None]
            title = "People without a team"
        else:
            shown, title = [p for p in everyone if p.team_id == team.id], f"People in {team.name}"
    else:
        shown = [p for p in everyone if p.active]
    teams = {t.id: t.name for t in await people.list_teams(ctx.db, include_archived=True)}
    rows = tuple(
        (
            p.display_name,
            p.email,
            p.role.value,
            teams.get(p.team_id, "-") if p.team_id else "-",
            _reach(p),
            "active" if p.active else "deactivated",
        )
        for p in shown[:MAX_LISTED]
    )
    if not rows:
        return Reply(blocks=[Header(title), Text("Nobody.")], text=f"{title}: nobody.")
    blocks: list[Block] = [
        Header(title),
        Table(("name", "email", "role", "team", "reach", "status"), rows),
    ]
    if len(shown) > MAX_LISTED:
        blocks.append(Context(f"The first {MAX_LISTED} of {len(shown)}."))
    return Reply(blocks=blocks, text=f"{title}: {len(shown)}")
