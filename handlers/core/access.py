"""Who may see and act on whom: the one place that decides, read from the store at the
time of the request (docs/architecture.md, "Roles").

- A lead acts on the agents of their own team; never on another lead, nor on their manager.
- A manager acts on the people (agents and leads) of the teams they manage.
- Admins configure; agents act on themselves only.

Every check uses the person's *current* role and team and the teams' current managers
(a `Standing`, read when the command or button arrives), never a role remembered in a
button, a schedule or an item: a lead moved to another team as an agent loses the old
team at once, including for buttons sent to them earlier. `checked` and
`checked_actions` re-read the actor of every command and button of a feature, so even a
stale `Actor` obeys the new role. The rules that need no lookup are in domain/roles.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from domain.errors import NotAllowed, NotFound, UsageError
from domain.parsing import Args
from domain.roles import Role
from domain.types import Action, Actor, Command, Reply
from handlers.core.context import ActionHandler, ActionSpec, CommandSpec, HandlerContext
from storage import people
from storage.models import Person, Team

NOT_ON_ROSTER = "I can't find you on the roster (or your account is switched off); ask your admin."


@dataclass(frozen=True)
class Standing:
    """Someone's role and teams as they are now: what every permission is decided on."""

    person_id: int
    role: Role
    team_id: int | None
    managed: frozenset[int] = frozenset()  # the teams whose manager they are
    active: bool = True

    @property
    def teams(self) -> frozenset[int]:
        """The teams under them: a lead's own team, a manager's managed teams."""
        if not self.active:
            return frozenset()
        if self.role is Role.lead:
            return frozenset({self.team_id}) if self.team_id is not None else frozenset()
        if self.role is Role.manager:
            return self.managed
        return frozenset()

    def leads_team(self, team_id: int | None) -> bool:
        """True when the team is one of theirs (as its lead or its manager)."""
        return team_id is not None and team_id in self.teams

    def may_act_on(self, target: Person) -> bool:
        """A lead on the agents of their team; a manager on the agents and leads of the
        teams they manage. Never on oneself (that is one's own business), never on an
        inactive person."""
        if not self.active or not target.active or target.id in (None, self.person_id):
            return False
        if not self.leads_team(target.team_id):
            return False
        if self.role is Role.lead:
            return target.role is Role.agent
        return self.role is Role.manager and target.role in (Role.agent, Role.lead)

    def refusal(self, target: Person) -> str:
        """Why `may_act_on(target)` is False, in words for the person who asked."""
        name = target.display_name
        if not target.active:
            return f"{name} is no longer active on the roster."
        if self.role is Role.agent:
            return "Agents act on their own things only."
        if self.role is Role.admin:
            return "Admins configure leadbot; leads and managers act on their teams' people."
        if not self.leads_team(target.team_id):
            return f"{name} isn't in a team you lead or manage."
        if self.role is Role.lead and target.role is not Role.agent:
            return f"{name} is a {target.role.value}: leads act on the agents of their team only."
        return f"{name} is a {target.role.value}: managers act on their teams' agents and leads."


def standing_of(person: Person, teams: Iterable[Team]) -> Standing:
    """A person's standing from their row and the list of teams (no lookup: for jobs that
    already hold both)."""
    assert person.id is not None
    managed = frozenset(t.id for t in teams if t.id is not None and t.manager_id == person.id)
    return Standing(person.id, person.role, person.team_id, managed, person.active)


def standings_of(persons: Iterable[Person], teams: Iterable[Team]) -> dict[int, Standing]:
    """Each person's standing by id, from their rows and the list of teams (no lookup)."""
    managed: dict[int, set[int]] = {}
    for t in teams:
        if t.manager_id is not None and t.id is not None:
            managed.setdefault(t.manager_id, set()).add(t.id)
    return {
        p.id: Standing(p.id, p.role, p.team_id, frozenset(managed.get(p.id, ())), p.active)
        for p in persons
        if p.id is not None
    }


async def standing(ctx: HandlerContext, who: Actor | Person) -> Standing:
    """Someone's standing read from the store now (an unknown or inactive person has none)."""
    pid = who.person_id if isinstance(who, Actor) else who.id
    person = await people.get_person(ctx.db, person_id=pid) if pid else None
    if person is None or person.id is None:
        return Standing(pid or 0, Role.agent, None, frozenset(), active=False)
    managed: frozenset[int] = frozenset()
    if person.role is Role.manager:
        managed = frozenset(
            t.id
            for t in await people.teams_managed_by(ctx.db, person_id=person.id)
            if t.id is not None
        )
    return Standing(person.id, person.role, person.team_id, managed, person.active)


async def may_act_on(ctx: HandlerContext, actor: Actor | Person, target: Person) -> bool:
    """The one answer to "may X act on Y" (assign, schedule, prepare, close, approve...)."""
    return (await standing(ctx, actor)).may_act_on(target)


async def require_act_on(ctx: HandlerContext, actor: Actor | Person, target: Person) -> None:
    """Refuse (NotAllowed, explained) unless the actor may act on `target`."""
    s = await standing(ctx, actor)
    if not s.may_act_on(target):
        raise NotAllowed(s.refusal(target))


# --- teams -----------------------------------------------------------------------------


async def visible_team_ids(ctx: HandlerContext, actor: Actor) -> set[int]:
    """Teams whose figures the actor may see: a lead their own, a manager those they
    manage (read from the store now)."""
    return set((await standing(ctx, actor)).teams)


async def can_view_team(ctx: HandlerContext, actor: Actor, team: Team) -> bool:
    return team.id in await visible_team_ids(ctx, actor)


async def require_team_view(ctx: HandlerContext, actor: Actor, team: Team) -> None:
    if not await can_view_team(ctx, actor, team):
        if actor.role is Role.agent:
            raise NotAllowed("Agents can see their own figures only (try `me`).")
        raise NotAllowed(f"You can't see team {team.name}: it isn't one of yours.")


async def can_view_person(ctx: HandlerContext, actor: Actor, person: Person) -> bool:
    """Oneself always; otherwise whoever may act on them (see may_act_on)."""
    if person.id == actor.person_id:
        return True
    return await may_act_on(ctx, actor, person)


async def require_person_view(ctx: HandlerContext, actor: Actor, person: Person) -> None:
    if not await can_view_person(ctx, actor, person):
        if actor.role is Role.agent:
            raise NotAllowed("Agents can see their own figures only.")
        s = await standing(ctx, actor)
        if not s.leads_team(person.team_id):
            raise NotAllowed(f"{person.display_name} isn't in a team of yours.")
        raise NotAllowed(s.refusal(person))


NO_TEAM_YET = (
    "You aren't the lead or manager of a team yet; ask your admin "
    "(`/leadbot team add @you TEAM as lead`)."
)


async def default_team(
    ctx: HandlerContext, actor: Actor, channel_team_id: int | None
) -> tuple[Team, list[Team]]:
    """The team a leader means without naming one, and their other teams: the channel's
    team when it is one of theirs, else their home team, else the first they manage."""
    visible = await visible_team_ids(ctx, actor)
    if not visible:
        raise NotFound(NO_TEAM_YET)
    preferred = channel_team_id if channel_team_id in visible else None
    if preferred is None and actor.team_id in visible:
        preferred = actor.team_id
    teams = [t for t in await people.list_teams(ctx.db) if t.id in visible]
    team = next((t for t in teams if t.id == preferred), teams[0])
    return team, [t for t in teams if t.id != team.id]


async def only_team(ctx: HandlerContext, actor: Actor, channel_team_id: int | None) -> Team:
    """The one team a leader's command means without `team NAME`: the linked channel's
    team it came from (when theirs), else their only team. A manager of several teams is
    asked which, with their names (as `/pulse now` does): a team-wide change never lands
    on a team they didn't name."""
    visible = await visible_team_ids(ctx, actor)
    if not visible:
        raise NotFound(NO_TEAM_YET)
    teams = [t for t in await people.list_teams(ctx.db) if t.id in visible]
    if channel_team_id in visible:
        return next(t for t in teams if t.id == channel_team_id)
    if len(teams) == 1:
        return teams[0]
    names = ", ".join(t.name for t in teams)
    raise UsageError(f"Say which team: add `team NAME` ({names}). Nothing was changed.")


# --- the current lead of a team ---------------------------------------------------------


def current_lead(team: Team, members: Iterable[Person]) -> Person | None:
    """The team's lead now: its recorded lead while they still are one (active, a lead,
    in this team), else the first active lead in it; None when it has none."""
    leads = sorted(
        (p for p in members if p.active and p.role is Role.lead and p.team_id == team.id),
        key=lambda p: p.id or 0,
    )
    return next((p for p in leads if p.id == team.lead_id), leads[0] if leads else None)


def current_manager(team: Team, by_id: dict[int, Person]) -> Person | None:
    """The team's manager while they still are one (active, a manager)."""
    p = by_id.get(team.manager_id or 0)
    return p if p is not None and p.active and p.role is Role.manager else None


async def team_leaders(
    ctx: HandlerContext, teams: Iterable[Team], known: dict[int, Person]
) -> dict[int, tuple[Person | None, Person | None]]:
    """Each team's current lead and manager (see current_lead, current_manager), from the
    people already `known` by id; a team whose recorded lead no longer is one has its
    members read to find who leads it now."""
    out: dict[int, tuple[Person | None, Person | None]] = {}
    for team in teams:
        if team.id is None:
            continue
        recorded = known.get(team.lead_id or 0)
        if recorded is not None and current_lead(team, [recorded]) is recorded:
            lead: Person | None = recorded
        else:
            lead = current_lead(team, await people.list_people(ctx.db, team_id=team.id))
        out[team.id] = (lead, current_manager(team, known))
    return out


async def leader_for(ctx: HandlerContext, person: Person) -> Person | None:
    """Who acts for `person` now: their team's current lead for an agent, else the team's
    current manager; None when nobody does."""
    if person.team_id is None:
        return None
    team = await people.get_team(ctx.db, team_id=person.team_id)
    if team is None:
        return None
    members = await people.list_people(ctx.db, team_id=team.id)
    lead = current_lead(team, members)
    if lead is not None and person.role is Role.agent and lead.id != person.id:
        return lead
    manager = (
        await people.get_person(ctx.db, person_id=team.manager_id) if team.manager_id else None
    )
    found = current_manager(team, {manager.id: manager} if manager and manager.id else {})
    return found if found is not None and found.id != person.id else None


# --- every command and button of a feature reads its actor now --------------------------


async def current_actor(ctx: HandlerContext, actor: Actor) -> Actor:
    """The actor as the store has them now (role, team, name, zone); NotAllowed when they
    are no longer on the roster or switched off."""
    person = await people.get_person(ctx.db, person_id=actor.person_id)
    if person is None or person.id is None or not person.active:
        raise NotAllowed(NOT_ON_ROSTER)
    return Actor(
        person_id=person.id,
        email=person.email,
        name=person.display_name,
        role=person.role,
        team_id=person.team_id,
        timezone=person.timezone,
    )


def checked(spec: CommandSpec) -> CommandSpec:
    """The command tree with every handler given the actor as they are now."""
    handler = spec.handler
    if handler is not None:
        inner = handler

        async def fresh(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
            now = dataclasses.replace(cmd, actor=await current_actor(ctx, cmd.actor))
            return await inner(now, args, ctx)

        fresh.__doc__ = inner.__doc__
        fresh.__name__ = getattr(inner, "__name__", "handler")
        handler = fresh
    return dataclasses.replace(
        spec, handler=handler, subcommands=tuple(checked(s) for s in spec.subcommands)
    )


def checked_actions(spec: ActionSpec) -> ActionSpec:
    """The button family with its handler given the presser as they are now (a button sent
    earlier obeys the presser's current role)."""
    inner: ActionHandler = spec.handler

    async def fresh(action: Action, ctx: HandlerContext) -> Reply:
        now = dataclasses.replace(action, actor=await current_actor(ctx, action.actor))
        return await inner(now, ctx)

    return dataclasses.replace(spec, handler=fresh)
