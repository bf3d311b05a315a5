"""When a team's lead changes, the work they led in the team goes to the new lead.

Every change to people and teams (storage/people.py) and the roster import
(storage/roster.py) runs these inside its own transaction:

1. `snapshot(s)` before the change: every team's lead and manager;
2. the change itself;
3. `settle(s, before, touched=...)`: a lead or manager who no longer qualifies stops
   being one (a lead must be switched on, a lead by role and in the team; a manager
   switched on and a manager by role). Then each touched team's *stranded* work goes to
   the team's lead: the active 1:1s with the team's people and the open action items
   assigned in the team by someone who can no longer lead them (switched off, an agent
   now, or a lead who is not the team's lead). A team without a lead keeps that work
   where it is, and the result lists it, so the reply can say so.

So a hand-over and the change that causes it are one transaction, and a lead appointed
later to a team that had none picks up what waited for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.items import ActionStatus
from domain.roles import Role
from storage.models import (
    ActionItem,
    ActionItemEvent,
    AgendaItem,
    OneOnOne,
    OutboxMessage,
    Person,
    Team,
)

OPEN = (ActionStatus.open.value, ActionStatus.in_progress.value)
# Follow-ups addressed to an item's assigner: rebuilt for the new one by the next sweep.
ASSIGNER_FOLLOWUPS = ("escalated:%", "close_offer")

Snapshot = dict[int, tuple[int | None, int | None]]  # team id -> (lead id, manager id)


@dataclass
class HandedOneOnOne:
    one_on_one: OneOnOne
    agent: Person
    former: Person  # who held it
    ended: bool = False  # the new lead already had one with this person (or is them)


@dataclass
class HandedItem:
    item: ActionItem
    former: Person  # who assigned it


@dataclass
class TeamWork:
    """A team's stranded work: handed to `lead`, or waiting when there is none."""

    team: Team
    lead: Person | None
    one_on_ones: list[HandedOneOnOne] = field(default_factory=list)
    items: list[HandedItem] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.one_on_ones or self.items)


@dataclass
class Settled:
    """What a change did to the teams' leads and managers."""

    handed: list[TeamWork] = field(default_factory=list)  # work a lead received
    waiting: list[TeamWork] = field(default_factory=list)  # touched teams without a lead
    lost_lead: list[Team] = field(default_factory=list)  # had a lead before, none now
    lost_manager: list[Team] = field(default_factory=list)
    new_lead: list[tuple[Team, Person]] = field(default_factory=list)


async def snapshot(s: AsyncSession) -> Snapshot:
    """Every open team's lead and manager, before a change."""
    rows = await s.execute(
        sa.select(col(Team.id), col(Team.lead_id), col(Team.manager_id)).where(
            col(Team.archived_at).is_(None)
        )
    )
    return {tid: (lead, boss) for tid, lead, boss in rows.all() if tid is not None}


def can_lead(p: Person | None, team: Team) -> bool:
    """Whether `p` qualifies as `team`'s lead."""
    return p is not None and p.active and p.role is Role.lead and p.team_id == team.id


def can_manage(p: Person | None) -> bool:
    return p is not None and p.active and p.role is Role.manager


def stranded(p: Person | None, team: Team) -> bool:
    """Whether work `p` leads in `team` has nobody to lead it: they are switched off, an
    agent now, or a lead who is not the team's lead. Managers and admins keep theirs."""
    if p is None:
        return False
    if not p.active or p.role is Role.agent:
        return True
    return p.role is Role.lead and p.id != team.lead_id


async def settle(
    s: AsyncSession,
    before: Snapshot,
    *,
    touched: Collection[int] = (),
    now: dt.datetime,
    actor_id: int | None,
) -> Settled:
    """Fix leads and managers after a change and hand each touched team's stranded work
    to its lead (see the module docstring)."""
    await s.flush()
    teams = list((await s.execute(select(Team).where(col(Team.archived_at).is_(None)))).scalars())
    ids = {i for t in teams for i in (t.lead_id, t.manager_id) if i is not None}
    ppl = await _people(s, ids)
    for t in teams:
        if t.lead_id is not None and not can_lead(ppl.get(t.lead_id), t):
            t.lead_id = None
        if t.manager_id is not None and not can_manage(ppl.get(t.manager_id)):
            t.manager_id = None
    await s.flush()
    out = Settled()
    todo = set(touched) | _compare(teams, before, ppl, out)
    for t in teams:
        if t.id not in todo:
            continue
        work = await _stranded_work(s, t, ppl.get(t.lead_id) if t.lead_id else None)
        if work.lead is not None and work:
            await _hand_over(s, work, now=now, actor_id=actor_id)
            out.handed.append(work)
        elif work.lead is None:
            out.waiting.append(work)
    await s.flush()
    return out


def _compare(teams: list[Team], before: Snapshot, ppl: dict[int, Person], out: Settled) -> set[int]:
    """Note the teams whose lead or manager changed; returns the ids of those whose lead did."""
    changed: set[int] = set()
    for t in teams:
        assert t.id is not None
        lead, boss = before.get(t.id, (None, None))
        if lead != t.lead_id:
            changed.add(t.id)
            if t.lead_id is None and lead is not None:
                out.lost_lead.append(t)
            if t.lead_id is not None:
                out.new_lead.append((t, ppl[t.lead_id]))
        if boss != t.manager_id and t.manager_id is None and boss is not None:
            out.lost_manager.append(t)
    return changed


async def _people(s: AsyncSession, ids: Collection[int]) -> dict[int, Person]:
    if not ids:
        return {}
    rows = await s.execute(select(Person).where(col(Person.id).in_(list(ids))))
    return {p.id: p for p in rows.scalars() if p.id is not None}


async def _stranded_work(s: AsyncSession, team: Team, lead: Person | None) -> TeamWork:
    work = TeamWork(team=team, lead=lead)
    rows = await s.execute(
        select(OneOnOne, Person)
        .join(Person, col(Person.id) == col(OneOnOne.agent_id))
        .where(col(OneOnOne.active), col(Person.team_id) == team.id)
        .order_by(col(Person.display_name), col(OneOnOne.id))
    )
    pairs = list(rows.all())
    items = list(
        (
            await s.execute(
                select(ActionItem)
                .where(
                    col(ActionItem.team_id) == team.id,
                    col(ActionItem.status).in_(OPEN),
                    col(ActionItem.assigned_by_id).is_not(None),
                    sa.or_(
                        col(ActionItem.owner_id).is_(None),
                        col(ActionItem.owner_id) != col(ActionItem.assigned_by_id),
                    ),
                )
                .order_by(col(ActionItem.id))
            )
        ).scalars()
    )
    holders = await _people(
        s, {o.lead_id for o, _ in pairs} | {i.assigned_by_id for i in items if i.assigned_by_id}
    )
    for o, agent in pairs:
        former = holders.get(o.lead_id)
        if former is not None and stranded(former, team):
            work.one_on_ones.append(HandedOneOnOne(o, agent, former))
    for item in items:
        former = holders.get(item.assigned_by_id or 0)
        if former is not None and stranded(former, team):
            work.items.append(HandedItem(item, former))
    return work


async def _hand_over(
    s: AsyncSession, work: TeamWork, *, now: dt.datetime, actor_id: int | None
) -> None:
    lead = work.lead
    assert lead is not None
    assert lead.id is not None
    held = {
        o.agent_id
        for o in (
            await s.execute(
                select(OneOnOne).where(col(OneOnOne.active), col(OneOnOne.lead_id) == lead.id)
            )
        ).scalars()
    }
    for h in work.one_on_ones:
        o = h.one_on_one
        if o.agent_id in held or o.agent_id == lead.id:
            # One active 1:1 per pair: keep the new lead's own, and its undiscussed points.
            h.ended = True
            o.active = False
            await s.flush()
            keep = await s.scalar(
                sa.select(col(OneOnOne.id)).where(
                    col(OneOnOne.active),
                    col(OneOnOne.lead_id) == lead.id,
                    col(OneOnOne.agent_id) == o.agent_id,
                )
            )
            if keep is not None:
                await s.execute(
                    sa.update(AgendaItem)
                    .where(
                        col(AgendaItem.one_on_one_id) == o.id,
                        col(AgendaItem.occurrence_id).is_(None),
                    )
                    .values(one_on_one_id=keep)
                )
            continue
        o.lead_id = lead.id
        held.add(o.agent_id)
    for hi in work.items:
        item = hi.item
        assert item.id is not None
        item.assigned_by_id = lead.id
        item.updated_at = now
        s.add(
            ActionItemEvent(
                item_id=item.id,
                actor_id=actor_id,
                kind="handed_over",
                detail=(
                    f"assigner {hi.former.display_name} → {lead.display_name}, "
                    f"{work.team.name}'s lead"
                )[:1000],
                created_at=now,
            )
        )
        likes = [
            col(OutboxMessage.dedupe_key).like(f"action:{item.id}:{k}") for k in ASSIGNER_FOLLOWUPS
        ]
        await s.execute(
            sa.delete(OutboxMessage)
            .where(
                sa.or_(*likes),
                col(OutboxMessage.recipient_person_id) == hi.former.id,
                col(OutboxMessage.status) == "pending",
                col(OutboxMessage.attempts) == 0,
            )
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class WorkNote:
    """A team's handed or waiting work, as plain values (a dry run rolls back its rows)."""

    team: str
    lead: str | None  # who received it; None: it waits for a lead
    one_on_ones: int  # handed (or waiting)
    items: int
    formers: tuple[str, ...]  # whose it was
    ended: int = 0  # 1:1s ended: the new lead had one with that person, or was them


@dataclass(frozen=True)
class Brief:
    """Settled, as plain values."""

    handed: tuple[WorkNote, ...] = ()
    waiting: tuple[WorkNote, ...] = ()
    lost_lead: tuple[str, ...] = ()
    lost_manager: tuple[str, ...] = ()
    new_lead: tuple[tuple[str, str], ...] = ()  # (team, lead)


def _note(work: TeamWork) -> WorkNote:
    formers = {h.former.display_name for h in work.one_on_ones} | {
        h.former.display_name for h in work.items
    }
    ended = sum(1 for h in work.one_on_ones if h.ended)
    return WorkNote(
        team=work.team.name,
        lead=work.lead.display_name if work.lead else None,
        one_on_ones=len(work.one_on_ones) - ended,
        items=len(work.items),
        formers=tuple(sorted(formers)),
        ended=ended,
    )


def brief(settled: Settled) -> Brief:
    """The plain values of `settled` (read them before the transaction ends)."""
    return Brief(
        handed=tuple(_note(w) for w in settled.handed),
        waiting=tuple(_note(w) for w in settled.waiting if w or w.team in settled.lost_lead),
        lost_lead=tuple(t.name for t in settled.lost_lead),
        lost_manager=tuple(t.name for t in settled.lost_manager),
        new_lead=tuple((t.name, p.display_name) for t, p in settled.new_lead),
    )
