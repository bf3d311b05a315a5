"""`/1on1 list`: a person's 1:1s as lead (with how each keeps up) and as agent, and for a
manager, how each lead under them keeps up theirs."""

from __future__ import annotations

import datetime as dt

from domain.localtime import fmt_local, zone_name
from domain.parsing import Args
from domain.roles import Role
from domain.types import Actor, Block, Command, Context, Header, Reply, Table, Text
from handlers.core.access import team_leaders
from handlers.core.context import HandlerContext
from handlers.oneonone.schedule import lapse_state
from handlers.oneonone.service import acting_leads, held_by
from storage import kudos as kudos_store
from storage import oneonones as store
from storage import people
from storage.models import OneOnOne, Person

_STATE_LABELS = {"ok": "on track", "late": "overdue", "lapsed": "lapsed"}


async def list_1on1s(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/1on1 list` (or plain `/1on1`): the actor's 1:1s as lead and as agent; a
    manager's also show how their leads keep up."""
    args.expect_end()
    actor = cmd.actor
    now = ctx.now()
    mine_as_lead = await held_by(ctx, actor)
    as_agent = await store.list_active(ctx.db, agent_id=actor.person_id)
    holders = await acting_leads(ctx, as_agent)
    mine_as_agent = [o for o in as_agent if holders.get(o.id or 0) is not None]
    names = await people.get_people(ctx.db, person_ids=[o.agent_id for o in mine_as_lead])
    names.update({h.id: h for h in holders.values() if h is not None and h.id is not None})
    blocks: list[Block] = [Header("Your 1:1s")]
    if mine_as_lead:
        blocks += await _as_lead(ctx, actor, mine_as_lead, names, now)
    if mine_as_agent:
        blocks += await _as_agent(
            ctx, actor, mine_as_agent, names, has_lead_rows=bool(mine_as_lead)
        )
    if actor.role is Role.manager:
        blocks.extend(await _teams_overview(actor, ctx, now))
    if len(blocks) == 1:
        if actor.role in (Role.lead, Role.manager):
            hint = "No 1:1s yet. Start one: `/1on1 schedule @name every 2 weeks tue 10:00`."
        else:
            hint = "You have no 1:1s scheduled yet; your lead sets them up."
        blocks.append(Text(hint))
    total = len(mine_as_lead) + len(mine_as_agent)
    return Reply(blocks=blocks, text=f"You have {total} 1:1 schedule(s).")


def _next_text(o: OneOnOne, tz: str) -> str:
    return fmt_local(o.next_at, tz) if o.next_at else "-"


async def _as_lead(
    ctx: HandlerContext,
    actor: Actor,
    mine: list[OneOnOne],
    names: dict[int, Person],
    now: dt.datetime,
) -> list[Block]:
    """The schedules the actor leads: next time, cadence, last held, on track or not."""
    tz = zone_name(actor.timezone)
    ids = [o.id or 0 for o in mine]
    dealt = await store.last_dealt(ctx.db, one_on_one_ids=ids)
    last_held: dict[int, dt.datetime] = {}
    for h in await store.occurrences(ctx.db, one_on_one_ids=ids, statuses=["held"]):
        last_held.setdefault(h.one_on_one_id, h.scheduled_at)
    rows = []
    lapsed = 0
    for o in mine:
        p = names.get(o.agent_id)
        lh = last_held.get(o.id or 0)
        state = lapse_state(o, dealt.get(o.id or 0), now)
        lapsed += state != "ok"
        rows.append(
            (
                p.display_name if p else "(removed)",
                _next_text(o, tz),
                f"{o.cadence_weeks} wk",
                fmt_local(lh, tz, "%d %b") if lh else "never",
                _STATE_LABELS[state],
            )
        )
    blocks: list[Block] = [
        Table(("with", "next", "every", "last held", "status"), tuple(rows)),
        Context(f"Times in {tz}. `/1on1 prep @name` for a prep card."),
    ]
    if lapsed:
        blocks.append(Text(f"⚠️ {lapsed} 1:1 cadence(s) overdue: hold or skip them to reset."))
    return blocks


async def _as_agent(
    ctx: HandlerContext,
    actor: Actor,
    mine: list[OneOnOne],
    names: dict[int, Person],
    *,
    has_lead_rows: bool,
) -> list[Block]:
    """The actor's 1:1s with their lead(s), with the agenda points waiting for each."""
    agenda = await store.pending_agenda(ctx.db, one_on_one_ids=[o.id or 0 for o in mine])
    rows = []
    holders = await acting_leads(ctx, mine)
    for o in mine:
        p = holders.get(o.id or 0)
        n = sum(1 for a in agenda if a.one_on_one_id == o.id)
        rows.append(
            (
                p.display_name if p else "(removed)",
                _next_text(o, actor.timezone),
                f"{o.cadence_weeks} wk",
                str(n),
            )
        )
    return [
        Text("*With your lead*" if has_lead_rows else "*Your next 1:1s*"),
        Table(("with", "next", "every", "agenda points"), tuple(rows)),
        Context("Add a point: `/1on1 agenda TEXT`"),
    ]


async def _teams_overview(actor: Actor, ctx: HandlerContext, now: dt.datetime) -> list[Block]:
    """For a manager: how each team's current lead keeps up their 1:1s (the schedules they
    hold now, inherited ones included)."""
    teams = await people.teams_managed_by(ctx.db, person_id=actor.person_id)
    leaders = await team_leaders(ctx, teams, {})
    leads = {
        lead.id: (team, lead)
        for team in teams
        if (lead := leaders.get(team.id or 0, (None, None))[0]) is not None
        and lead.id is not None
        and lead.id != actor.person_id
    }
    if not leads:
        return []
    agents_by_team = {
        team.id: await kudos_store.team_agents(ctx.db, team_id=team.id or 0)
        for team, _ in leads.values()
    }
    agent_ids = [a.id for agents in agents_by_team.values() for a in agents if a.id is not None]
    active = await store.list_active(ctx.db, agent_ids=agent_ids)
    holders = await acting_leads(ctx, active)
    dealt = await store.last_dealt(ctx.db, one_on_one_ids=[o.id or 0 for o in active])
    rows = []
    for lead_id, (team, lead) in sorted(leads.items(), key=lambda kv: kv[1][0].name):
        mine = [o for o in active if (h := holders.get(o.id or 0)) and h.id == lead_id]
        states = [lapse_state(o, dealt.get(o.id or 0), now) for o in mine]
        agents = agents_by_team.get(team.id, [])
        covered = {o.agent_id for o in mine}
        rows.append(
            (
                team.name,
                lead.display_name,
                f"{len(covered & {a.id for a in agents})}/{len(agents)}",
                str(states.count("late")),
                str(states.count("lapsed")),
            )
        )
    return [
        Text("*Across your teams*"),
        Table(
            ("team", "lead", "agents with 1:1s", "overdue", "lapsed"),
            tuple(rows),
            ("l", "l", "r", "r", "r"),
        ),
    ]
