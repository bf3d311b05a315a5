"""Who may see what, where the answer needs the store (which teams a manager has).

The rules themselves are in domain/roles.py and docs/architecture.md ("Roles").
"""

from __future__ import annotations

from domain.errors import NotAllowed, NotFound
from domain.roles import Role
from domain.types import Actor
from handlers.core.context import HandlerContext
from storage import people
from storage.models import Person, Team


async def visible_team_ids(ctx: HandlerContext, actor: Actor) -> set[int]:
    """Teams whose figures the actor may see: a lead their own, a manager those under them."""
    if actor.role is Role.lead:
        return {actor.team_id} if actor.team_id is not None else set()
    if actor.role is Role.manager:
        ids = {t.id for t in await people.teams_managed_by(ctx.db, person_id=actor.person_id)}
        if actor.team_id is not None:
            ids.add(actor.team_id)
        return {i for i in ids if i is not None}
    return set()


async def can_view_team(ctx: HandlerContext, actor: Actor, team: Team) -> bool:
    return team.id in await visible_team_ids(ctx, actor)


async def require_team_view(ctx: HandlerContext, actor: Actor, team: Team) -> None:
    if not await can_view_team(ctx, actor, team):
        if actor.role is Role.agent:
            raise NotAllowed("Agents can see their own figures only (try `me`).")
        raise NotAllowed(f"You can't see team {team.name}: it isn't one of yours.")


async def can_view_person(ctx: HandlerContext, actor: Actor, person: Person) -> bool:
    """Oneself always; a lead or manager anyone in a team they may see."""
    if person.id == actor.person_id:
        return True
    if person.team_id is None:
        return False
    return person.team_id in await visible_team_ids(ctx, actor)


async def require_person_view(ctx: HandlerContext, actor: Actor, person: Person) -> None:
    if not await can_view_person(ctx, actor, person):
        if actor.role is Role.agent:
            raise NotAllowed("Agents can see their own figures only.")
        raise NotAllowed(f"{person.display_name} isn't in a team of yours.")


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
