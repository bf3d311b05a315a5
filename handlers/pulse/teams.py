"""Which team a `/pulse` command means: a lead's own; a manager's only team; otherwise
the one named by `team NAME` after the other words (it must be one of theirs)."""

from __future__ import annotations

from domain.errors import NotAllowed, NotFound, UsageError
from domain.parsing import Args, token_text
from domain.roles import Role
from domain.types import Actor
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from storage import people
from storage.models import Team


async def target_team(ctx: HandlerContext, actor: Actor, team_words: list[str]) -> Team:
    """The team a lead/manager/admin means: their own, or `team NAME` when given."""
    if actor.role is Role.agent:
        raise NotAllowed("Only leads and managers can run the team's pulse.")
    if team_words:
        return await _named_team(ctx, actor, " ".join(team_words))
    if actor.role is Role.manager:
        managed = await people.teams_managed_by(ctx.db, person_id=actor.person_id)
        if len(managed) == 1:
            return managed[0]
        if len(managed) > 1:
            names = ", ".join(t.name for t in managed)
            raise UsageError(f"Say which team: add `team NAME` ({names}).")
    if actor.role is Role.admin:
        raise UsageError("Say which team: add `team NAME`.")
    if actor.team_id is None:
        raise NotAllowed("You aren't in a team yet; ask your admin.")
    team = await people.get_team(ctx.db, team_id=actor.team_id)
    if team is None:
        raise NotFound("Your team no longer exists; ask your admin.")
    return team


async def _named_team(ctx: HandlerContext, actor: Actor, name: str) -> Team:
    team = await people.get_team_by_name(ctx.db, name=name)
    if team is None:
        raise NotFound(f"There is no team called {name!r}.")
    if actor.role is not Role.admin and team.id not in await visible_team_ids(ctx, actor):
        raise NotAllowed(f"{team.name} isn't one of your teams.")
    return team


def split_team(args: Args) -> tuple[list[str], list[str]]:
    """(words before `team`, the team's name words after it)."""
    words = []
    for tok in args.rest():
        if not isinstance(tok, str):
            raise UsageError(f"I didn't expect a mention here ({token_text(tok)}).")
        words.append(tok)
    lowered = [w.lower() for w in words]
    if "team" in lowered:
        i = lowered.index("team")
        if i == len(words) - 1:
            raise UsageError("Name the team after `team`.")
        return words[:i], words[i + 1 :]
    return words, []


def only_team(args: Args) -> list[str]:
    """The team's name words of a form that takes nothing but `[team NAME]`."""
    rest, team_words = split_team(args)
    if rest:
        raise UsageError(f"I didn't understand {' '.join(rest)!r}.")
    return team_words
