"""The action-items page: open and overdue items by owner with their age, the overdue
list, and the 1:1 cadence health of each lead the viewer sees.

A 1:1 is judged by the 1:1 feature's own rule (ok, late: a cadence overdue, lapsed: two),
handed in by bot/ as `LapseRule` (features never import each other).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from domain.localtime import local_today
from domain.roles import Role
from domain.types import Actor
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from handlers.dashboard.models import ActionsPage, CadenceRow, ItemRow, Level, OwnerRow
from handlers.dashboard.nav import BASE, page, visible_team
from storage import actions, oneonones, people
from storage.models import ActionItem, OneOnOne, Person, Team

# handlers.oneonone.lapse_state: (1:1, last held or skipped, now) -> ok | late | lapsed
LapseRule = Callable[[OneOnOne, dt.datetime | None, dt.datetime], str]
STATUS_TEXT = {"open": "open", "in_progress": "accepted"}


async def actions_page(
    ctx: HandlerContext, actor: Actor, team_id: int, lapse_state: LapseRule
) -> ActionsPage:
    """A team's open action items by owner, and the 1:1 cadence of its leads."""
    team = await visible_team(ctx, actor, team_id)
    now = ctx.now()
    today = local_today(now, team.timezone)
    items = await actions.list_items(ctx.db, team_ids=[team_id], limit=5000)
    owner_ids = sorted({i.owner_id for i in items if i.owner_id is not None})
    names = await people.get_people(ctx.db, person_ids=owner_ids)
    owners = _by_owner(items, names, today, now)
    overdue = sorted(
        (_item_row(i, names, today, now) for i in items if _late(i, today)),
        key=lambda r: (-r.overdue_days, r.owner, r.title),
    )
    cadence = await _cadence(ctx, actor, team, now, lapse_state)
    frame = await page(
        ctx,
        actor,
        f"{team.name}: action items",
        f"{BASE}/team/{team_id}/actions",
        team_id=team_id,
    )
    return ActionsPage(
        page=frame,
        team_id=team_id,
        team_name=team.name,
        owners=owners,
        overdue=tuple(overdue),
        open_total=len(items),
        overdue_total=len(overdue),
        cadence=cadence,
    )


def _late(i: ActionItem, today: dt.date) -> bool:
    return i.due_date is not None and i.due_date < today


def _age(i: ActionItem, now: dt.datetime) -> int:
    return max(0, (now - i.created_at).days)


def _by_owner(
    items: Sequence[ActionItem], names: dict[int, Person], today: dt.date, now: dt.datetime
) -> tuple[OwnerRow, ...]:
    rows: dict[int, list[ActionItem]] = {}
    for i in items:
        rows.setdefault(i.owner_id or 0, []).append(i)
    out = [
        OwnerRow(
            name=names[oid].display_name if oid in names else "(no owner)",
            open=len(its),
            overdue=sum(1 for i in its if _late(i, today)),
            oldest_days=max(_age(i, now) for i in its),
        )
        for oid, its in rows.items()
    ]
    return tuple(sorted(out, key=lambda r: (-r.overdue, -r.open, r.name)))


def _item_row(i: ActionItem, names: dict[int, Person], today: dt.date, now: dt.datetime) -> ItemRow:
    owner = names.get(i.owner_id or 0)
    return ItemRow(
        title=i.title,
        owner=owner.display_name if owner else "(no owner)",
        due=f"{i.due_date:%d %b %Y}" if i.due_date else "no date",
        overdue_days=(today - i.due_date).days if i.due_date else 0,
        age_days=_age(i, now),
        status=STATUS_TEXT.get(i.status.value, i.status.value),
    )


async def _cadence(
    ctx: HandlerContext, actor: Actor, team: Team, now: dt.datetime, lapse_state: LapseRule
) -> tuple[CadenceRow, ...]:
    """One row per lead: this team's for a lead; every team's lead for their manager."""
    if actor.role is Role.manager:
        ids = await visible_team_ids(ctx, actor)
        teams = sorted(
            (t for t in await people.list_teams(ctx.db) if t.id in ids), key=lambda t: t.name
        )
    else:
        teams = [team]
    leads = {t.lead_id: t for t in teams if t.lead_id is not None}
    if not leads:
        return ()
    lead_people = await people.get_people(ctx.db, person_ids=list(leads))
    active = await oneonones.list_active(ctx.db, lead_ids=list(leads))
    dealt = await oneonones.last_dealt(ctx.db, one_on_one_ids=[o.id for o in active if o.id])
    rows = []
    for lead_id, t in leads.items():
        assert t.id is not None
        agents = [p for p in await people.list_people(ctx.db, team_id=t.id) if _is_agent(p)]
        agent_ids = {p.id for p in agents}
        mine = [o for o in active if o.lead_id == lead_id and o.agent_id in agent_ids]
        states = [lapse_state(o, dealt.get(o.id or 0), now) for o in mine]
        covered = {o.agent_id for o in mine}
        without = len(agent_ids - covered)
        lapsed = states.count("lapsed")
        late = states.count("late")
        lead = lead_people.get(lead_id)
        rows.append(
            CadenceRow(
                lead=lead.display_name if lead else "(removed)",
                team=t.name,
                agents=len(agents),
                with_one_on_one=len(covered),
                on_track=states.count("ok"),
                overdue=lapsed + late,
                without=without,
                health=_health(len(agents), without, late, lapsed),
                note=_note(without, late, lapsed),
            )
        )
    return tuple(rows)


def _is_agent(p: Person) -> bool:
    return p.active and p.role is Role.agent


def _health(agents: int, without: int, late: int, lapsed: int) -> Level:
    if agents == 0:
        return "none"
    if lapsed or without * 4 > agents:
        return "bad"
    if late or without:
        return "near"
    return "good"


def _note(without: int, late: int, lapsed: int) -> str:
    parts = []
    if lapsed:
        parts.append(f"{lapsed} lapsed (two cadences overdue)")
    if late:
        parts.append(f"{late} late")
    if without:
        parts.append(f"{without} agent{'s' if without != 1 else ''} without a 1:1")
    return "; ".join(parts) or "every agent has a 1:1 on track"
