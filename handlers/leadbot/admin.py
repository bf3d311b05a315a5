"""What the admin commands share: who may do what, finding people (deactivated ones too)
and teams in the words of a command, and the reply that says what a change left behind.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from domain.errors import NotAllowed, NotFound, UsageError
from domain.roles import Role, require_role
from domain.types import Actor, Block, Mention, Quoted, Reply, Text, Token, UnresolvedMention
from handlers.core.context import HandlerContext
from handlers.core.handover import handover_lines, plural
from storage import people
from storage.handover import brief
from storage.models import Person, Team
from storage.people import Change

EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
NO_TEAM_WORDS = ("none", "nobody", "-")
ROLE_WORDS = {r.value: r for r in Role}
SET_UP_TEAMS = "set up teams"
CHANGE_PEOPLE = "change people on the roster"


def actor_id(cmd_actor: Actor) -> int | None:
    """The actor's person id for the records (the command line acts as no one: 0)."""
    return cmd_actor.person_id or None


def require_admin(actor: Actor, doing: str) -> None:
    require_role(actor, Role.admin, doing=doing)


def may_change_settings(actor: Actor, team: Team) -> bool:
    """Admins, and the team's own manager, may change its time zone and daily post."""
    if actor.role is Role.admin:
        return True
    return actor.role is Role.manager and team.manager_id == actor.person_id


def require_settings(actor: Actor, team: Team) -> None:
    if not may_change_settings(actor, team):
        raise NotAllowed(f"Only admins and {team.name}'s manager can change its settings.")


def clean_name(text: str, *, what: str, limit: int) -> str:
    """A name as typed, single-spaced; refused when empty, too long or with control
    characters (they would reach every message and the channel name match)."""
    name = " ".join(text.split())
    if not name:
        raise UsageError(f"Give the {what} a name.")
    if len(name) > limit:
        raise UsageError(f"A {what} name can be {limit} characters at most.")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name):
        raise UsageError(f"A {what} name can't contain control characters.")
    return name


def role_of(word: str) -> Role:
    role = ROLE_WORDS.get(word.lower())
    if role is None:
        raise UsageError("The role must be one of: agent, lead, manager, admin.")
    return role


def a_role(role: Role) -> str:
    return f"an {role.value}" if role in (Role.agent, Role.admin) else f"a {role.value}"


# --- people --------------------------------------------------------------------------------


def is_person_ref(tok: Token) -> bool:
    """A mention (resolved or not) or an email address."""
    if isinstance(tok, Mention | UnresolvedMention):
        return True
    return not isinstance(tok, Quoted) and "@" in tok.strip("@")


async def person_from(ctx: HandlerContext, tok: Token | None) -> Person:
    """The person a token names: a mention, or an email; deactivated people too (a
    mention of one does not resolve in the adapters, so it is looked up again here)."""
    if tok is None:
        raise UsageError("Missing a person (@name or their email).")
    if isinstance(tok, Mention):
        p = await people.get_person(ctx.db, person_id=tok.person_id)
        if p is None:
            raise NotFound(f"{tok} is no longer on the roster.")
        return p
    if isinstance(tok, UnresolvedMention):
        found = await people.find_anyone(ctx.db, ref=tok.text)
        if len(found) == 1:
            return found[0]
        if found:
            raise UsageError(f"Several people match {tok.text}; give their email.")
        raise UsageError(f"I don't know {tok.text}: {tok.reason}.")
    if not is_person_ref(tok):
        raise UsageError(f"Expected a person (@name or their email), got {tok!r}.")
    found = await people.find_anyone(ctx.db, ref=tok)
    if not found:
        raise NotFound(f"No one with the email {tok.strip().lower()} is on the roster.")
    return found[0]


def require_active(p: Person) -> None:
    if not p.active:
        raise UsageError(
            f"{p.display_name} is deactivated: `/leadbot person reactivate {p.email}` first."
        )


async def require_not_last_admin(ctx: HandlerContext, p: Person) -> None:
    if p.role is Role.admin and p.active and await people.count_admins(ctx.db) <= 1:
        raise UsageError(
            f"{p.display_name} is the only admin: make someone else an admin first "
            "(`/leadbot person role @someone admin`)."
        )


# --- teams ---------------------------------------------------------------------------------


def words_of(tokens: Sequence[Token]) -> list[str]:
    return [str(t) for t in tokens]


async def team_named(ctx: HandlerContext, name: str) -> Team:
    """The (open) team called `name`, or a NotFound that lists the teams."""
    team = await people.get_team_by_name(ctx.db, name=name)
    if team is None or team.archived_at is not None:
        names = ", ".join(t.name for t in await people.list_teams(ctx.db)) or "none yet"
        raise NotFound(f"There is no team called {name!r}. Teams: {names}.")
    return team


async def take_team(ctx: HandlerContext, tokens: Sequence[Token]) -> tuple[Team, list[Token]]:
    """The team the leading words name (the longest run of words that is a team's name)
    and the tokens after it."""
    plain = [t for t in tokens if isinstance(t, str)]
    if not tokens or not plain:
        raise UsageError("Name the team.")
    for i in range(len(tokens), 0, -1):
        head = tokens[:i]
        if not all(isinstance(t, str) for t in head):
            continue
        team = await people.get_team_by_name(ctx.db, name=" ".join(words_of(head)))
        if team is not None and team.archived_at is None:
            return team, list(tokens[i:])
    guess: list[str] = []
    for t in tokens:
        if not isinstance(t, str) or is_person_ref(t):
            break
        guess.append(t)
    return await team_named(ctx, " ".join(guess or words_of(tokens))), []


# --- replies -------------------------------------------------------------------------------


def change_lines(change: Change) -> list[str]:
    """What a change left behind or handed over, one sentence each."""
    lines = handover_lines(brief(change.settled))
    for p in change.teamless:
        lines.append(f"{p.display_name} has no team now.")
    if change.dropped:
        lines.append(
            f"{plural(change.dropped, 'message')} waiting for {_them(change)} "
            f"{'was' if change.dropped == 1 else 'were'} dropped."
        )
    return lines


def _them(change: Change) -> str:
    return change.person.display_name if change.person else "them"


def reply_with(text: str, lines: Sequence[str] = (), *, ok: bool = True) -> Reply:
    """A confirmation, then each consequence in its own paragraph."""
    blocks: list[Block] = [Text(text), *(Text(line) for line in lines)]
    return Reply(blocks=blocks, text="\n".join([text, *lines]), ok=ok)


def who(p: Person) -> str:
    return f"{p.display_name} <{p.email}>"
