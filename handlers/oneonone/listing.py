"""`/1on1 list`: a person's 1:1s as lead (with how each keeps up) and as agent, and for a
manager, how each lead under them keeps up theirs."""

from __future__ import annotations

import datetime as dt

from domain.localtime import fmt_local, zone_name
from domain.parsing import Args
from domain.roles import Role
from domain.types import Actor, Block, Command, Context, Header, Reply, Table, Text
from handlers.core.context import HandlerContext
from handlers.oneonone.schedule import lapse_state
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
    mine_as_lead = await store.list_active(ctx.db, lead_ids=[actor.person_id])
    mine_as_agent = await store.list_active(ctx.db, agent_id=actor.person_id)
    ids = {o.agent_id for o in mine_as_lead} | {o.lead_id for o in mine_as_agent}
    names = await people.get_people(ctx.db, person_ids=list(ids))
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
    for o in mine:
        p = names.get(o.lead_id)
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
    """For a manager: how each lead under them keeps up their 1:1s."""
    teams = await people.teams_managed_by(ctx.db, person_id=actor.person_id)
    leads = {t.lead_id: t for t in teams if t.lead_id and t.lead_id != actor.person_id}
    if not leads:
        return []
    active = await store.list_active(ctx.db, lead_ids=list(leads))
    dealt = await store.last_dealt(ctx.db, one_on_one_ids=[o.id or 0 for o in active])
    names = await people.get_people(ctx.db, person_ids=list(leads))
    rows = []
    for lead_id, team in sorted(leads.items(), key=lambda kv: kv[1].name):
        mine = [o for o in active if o.lead_id == lead_id]
        states = [lapse_state(o, dealt.get(o.id or 0), now) for o in mine]
        agents = await kudos_store.team_agents(ctx.db, team_id=team.id or 0)
        covered = {o.agent_id for o in mine}
        lead = names.get(lead_id)
        rows.append(
            (
                team.name,
                lead.display_name if lead else "-",
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
