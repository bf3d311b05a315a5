"""The pulse page: ESAT and eNPS per round, and participation, with exactly chat's
privacy rules, because it IS chat's answer.

The page asks `/pulse results weeks N [team NAME]` through the dispatcher, as the person
viewing it, and shows that reply's blocks unchanged: the same code (handlers/pulse,
results.py) decides the thresholds, hides the rounds with too few answers, withholds a
manager's totals, shuffles comments. The chart is drawn from the trend table of that
same reply, so it can show nothing the table does not: a hidden round is a gap with its
count of answers, exactly as chat says it. Nothing here reads pulse answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from domain.errors import NotAllowed, NotFound
from domain.roles import Role
from domain.types import Actor, Block, Command, Context, Fields, Header, Reply, Table, Text
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from handlers.dashboard.models import ChatBlock, PulsePage, PulsePoint, PulseTeam
from handlers.dashboard.nav import BASE, DEFAULT_WEEKS, PULSE_WEEKS, page
from storage import people

TREND_COLUMNS = ("round", "answers", "ESAT", "mean", "eNPS")
_SECTION = "Pulse: "
_PERCENT = re.compile(r"\((\d+)%\)$")


async def pulse_page(
    ctx: HandlerContext, actor: Actor, team_id: int | None, weeks: int
) -> PulsePage:
    """Chat's `/pulse results` for this person, with its trend as charts."""
    if weeks not in PULSE_WEEKS:
        weeks = DEFAULT_WEEKS
    if actor.role not in (Role.lead, Role.manager):
        # The same refusal chat gives agents and admins (handlers/pulse/commands.py).
        raise NotAllowed("Pulse results are for leads and managers, and only as totals.")
    visible = await visible_team_ids(ctx, actor)
    words: tuple[str, ...] = ("results", "weeks", str(weeks))
    team_name = None
    if team_id is not None:
        team = await people.get_team(ctx.db, team_id=team_id)
        if team is None:
            raise NotFound("There is no such team.")
        if team.id not in visible:
            raise NotAllowed(f"You can't see team {team.name}: it isn't one of yours.")
        team_name = team.name
        words += ("team", *team.name.split())
    reply = await run_command(Command(actor=actor, verb="pulse", args=words, raw=""), ctx)
    if not reply.ok:
        raise NotAllowed(reply.text)
    teams = [t for t in await people.list_teams(ctx.db) if t.id in visible]
    ids = {t.name: t.id for t in teams if t.id is not None}
    here = f"{BASE}/pulse" + (f"?team={team_id}" if team_id is not None else "")
    frame = await page(
        ctx,
        actor,
        f"Pulse: {team_name}" if team_name else "Pulse, all teams",
        here,
        team_id=team_id,
    )
    query = f"weeks={weeks}" + (f"&team={team_id}" if team_id is not None else "")
    return PulsePage(
        page=frame,
        weeks=weeks,
        choices=PULSE_WEEKS,
        team_id=team_id,
        teams=tuple(trends(reply.blocks, ids)),
        blocks=tuple(chat_blocks(reply)),
        data_url=f"{BASE}/api/pulse?{query}",
    )


def chat_blocks(reply: Reply) -> list[ChatBlock]:
    """The reply's blocks as the web shows them (buttons left out: they act in chat)."""
    out: list[ChatBlock] = []
    for b in reply.blocks:
        if isinstance(b, Header):
            out.append(ChatBlock("header", b.text))
        elif isinstance(b, Text):
            out.append(ChatBlock("text", b.text))
        elif isinstance(b, Context):
            out.append(ChatBlock("context", b.text))
        elif isinstance(b, Fields):
            out.append(ChatBlock("fields", rows=tuple(b.pairs)))
        elif isinstance(b, Table):
            out.append(ChatBlock("table", columns=b.columns, rows=b.rows, align=b.align))
    return out


def trends(blocks: Sequence[Block], team_ids: dict[str, int]) -> list[PulseTeam]:
    """Each team's trend table from the reply, oldest round first, as chart points."""
    out: list[PulseTeam] = []
    current: str | None = None
    for b in blocks:
        if isinstance(b, Header) and b.text.startswith(_SECTION):
            current = b.text[len(_SECTION) :]
        elif isinstance(b, Table) and tuple(b.columns) == TREND_COLUMNS and current in team_ids:
            assert current is not None
            points = tuple(_point(row) for row in reversed(b.rows))
            out.append(PulseTeam(team_ids[current], current, points))
    return out


def _number(text: str) -> float | None:
    cleaned = text.replace("%", "").replace("+", "").replace("\u2212", "-").strip()
    try:
        return float(cleaned)
    except ValueError:
        return None  # "hidden", "-": nothing to draw


def _point(row: tuple[str, ...]) -> PulsePoint:
    day, answers, esat, _mean, enps = row
    shown = esat != "hidden"
    rate = _PERCENT.search(answers) if shown else None
    return PulsePoint(
        label=day,
        shown=shown,
        answers=answers,
        esat=_number(esat) if shown else None,
        enps=_number(enps) if shown else None,
        participation=float(rate.group(1)) if rate else None,
    )
