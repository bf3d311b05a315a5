"""Hand-over of a lead's work when a team's lead changes, in the change's transaction."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import col

from domain.items import ActionStatus
from domain.roles import Role
from storage import oneonones, people
from storage.db import Database
from storage.models import (
    ActionItem,
    ActionItemEvent,
    AgendaItem,
    OneOnOne,
    OutboxMessage,
    Person,
    PulseSchedule,
    Team,
)
from storage.outbox import OutboxNew
from storage.people import Change
from tests.conftest import make_person, make_team

NOW = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)


async def _one_on_one(db: Database, lead: Person, agent: Person) -> OneOnOne:
    assert lead.id is not None
    assert agent.id is not None
    o, _ = await oneonones.schedule(
        db,
        lead_id=lead.id,
        agent_id=agent.id,
        cadence_weeks=2,
        weekday=1,
        local_time="10:00",
        duration_minutes=30,
        timezone="Europe/London",
        next_at=NOW + dt.timedelta(days=7),
        at=NOW,
    )
    return o


async def _item(
    db: Database, *, owner: Person, by: Person, team: Team, status: ActionStatus = ActionStatus.open
) -> int:
    async with db.session() as s:
        item = ActionItem(
            title="Call back",
            owner_id=owner.id,
            assigned_by_id=by.id,
            team_id=team.id,
            status=status,
        )
        s.add(item)
        await s.flush()
        assert item.id is not None
        return item.id


async def _get(db: Database, model: type, key: int) -> object:
    async with db.session() as s:
        return await s.get(model, key)


async def test_a_new_lead_gets_the_former_leads_1on1s_and_open_items(any_db: Database) -> None:
    team = await make_team(any_db)
    sam = await make_person(any_db, "sam.carter", role=Role.lead, team=team)
    lee = await make_person(any_db, "lee.lead", team=team)
    maria = await make_person(any_db, "maria.lopez", team=team)
    boss = await make_person(any_db, "alex.morgan", role=Role.manager, team=team)
    held = await _one_on_one(any_db, sam, maria)
    bosses = await _one_on_one(any_db, boss, maria)  # a manager's own 1:1 stays theirs
    open_item = await _item(any_db, owner=maria, by=sam, team=team)
    done_item = await _item(any_db, owner=maria, by=sam, team=team, status=ActionStatus.done)
    own_item = await _item(any_db, owner=maria, by=maria, team=team)  # set by herself
    async with any_db.session() as s:
        s.add(
            OutboxMessage(
                dedupe_key=f"action:{open_item}:escalated:2026-11-16",
                platform="console",
                target=sam.email,
                recipient_person_id=sam.id,
                payload="{}",
            )
        )
    sent: list[Change] = []

    def messages(change: Change) -> list[OutboxNew]:
        sent.append(change)
        assert lee.id is not None
        return [OutboxNew(dedupe_key="handover-test", payload="{}", person_id=lee.id)]

    assert team.id is not None
    assert lee.id is not None
    change = await people.set_team_lead(
        any_db, team_id=team.id, person_id=lee.id, now=NOW, actor_id=None, messages=messages
    )
    [work] = change.settled.handed
    assert work.lead is not None
    assert work.lead.id == lee.id
    assert [h.one_on_one.id for h in work.one_on_ones] == [held.id]
    assert [h.item.id for h in work.items] == [open_item]
    assert sent == [change]
    moved = await _get(any_db, OneOnOne, held.id or 0)
    assert isinstance(moved, OneOnOne)
    assert (moved.lead_id, moved.active) == (lee.id, True)
    kept = await _get(any_db, OneOnOne, bosses.id or 0)
    assert isinstance(kept, OneOnOne)
    assert kept.lead_id == boss.id
    items = {i: await _get(any_db, ActionItem, i) for i in (open_item, done_item, own_item)}
    assert [
        getattr(items[i], "assigned_by_id", None) for i in (open_item, done_item, own_item)
    ] == [
        lee.id,
        sam.id,
        maria.id,
    ]
    async with any_db.session() as s:
        kinds = (
            (
                await s.execute(
                    sa.select(col(ActionItemEvent.kind)).where(
                        col(ActionItemEvent.item_id) == open_item
                    )
                )
            )
            .scalars()
            .all()
        )
        outbox = (await s.execute(sa.select(col(OutboxMessage.dedupe_key)))).scalars().all()
    assert list(kinds) == ["handed_over"]
    # The follow-up waiting for the former assigner is dropped: the sweep rebuilds it for Lee.
    assert sorted(outbox) == ["handover-test"]
    stored = await people.get_team(any_db, team_id=team.id)
    assert stored is not None
    assert stored.lead_id == lee.id
    promoted = await people.get_person(any_db, person_id=lee.id)
    assert promoted is not None
    assert promoted.role is Role.lead


async def test_a_new_lead_who_had_a_1on1_with_the_agent_keeps_theirs(any_db: Database) -> None:
    team = await make_team(any_db)
    sam = await make_person(any_db, "sam.carter", role=Role.lead, team=team)
    lee = await make_person(any_db, "lee.lead", team=team)
    maria = await make_person(any_db, "maria.lopez", team=team)
    old = await _one_on_one(any_db, sam, maria)
    theirs = await _one_on_one(any_db, lee, maria)
    with_lee = await _one_on_one(any_db, sam, lee)  # Lee's own 1:1 with Sam: Lee is the lead now
    async with any_db.session() as s:
        s.add(AgendaItem(one_on_one_id=old.id or 0, author_id=maria.id or 0, text="shift swap"))
    assert team.id is not None
    assert lee.id is not None
    change = await people.set_team_lead(any_db, team_id=team.id, person_id=lee.id, now=NOW)
    [work] = change.settled.handed
    assert sorted(h.one_on_one.id or 0 for h in work.one_on_ones if h.ended) == sorted(
        [old.id or 0, with_lee.id or 0]
    )
    async with any_db.session() as s:
        active = (
            (await s.execute(sa.select(col(OneOnOne.id)).where(col(OneOnOne.active))))
            .scalars()
            .all()
        )
        agenda = (await s.execute(sa.select(col(AgendaItem.one_on_one_id)))).scalars().all()
    assert list(active) == [theirs.id]
    assert list(agenda) == [theirs.id]


async def test_a_demoted_lead_leaves_work_waiting_for_the_next_lead(any_db: Database) -> None:
    team = await make_team(any_db)
    sam = await make_person(any_db, "sam.carter", role=Role.lead, team=team)
    maria = await make_person(any_db, "maria.lopez", team=team)
    await _one_on_one(any_db, sam, maria)
    await _item(any_db, owner=maria, by=sam, team=team)
    assert sam.id is not None
    change = await people.set_role(any_db, person_id=sam.id, role=Role.agent, now=NOW)
    assert [t.name for t in change.settled.lost_lead] == ["Billing"]
    [waiting] = change.settled.waiting
    assert (len(waiting.one_on_ones), len(waiting.items)) == (1, 1)
    assert change.settled.handed == []
    # A lead appointed later picks up what waited for them.
    tom = await make_person(any_db, "tom.night", team=team)
    assert team.id is not None
    assert tom.id is not None
    later = await people.set_team_lead(any_db, team_id=team.id, person_id=tom.id, now=NOW)
    [work] = later.settled.handed
    assert (len(work.one_on_ones), len(work.items)) == (1, 1)
    assert {h.former.id for h in work.one_on_ones} == {sam.id}


async def test_a_deactivated_lead_and_manager_leave_their_team(any_db: Database) -> None:
    team = await make_team(any_db)
    sam = await make_person(any_db, "sam.carter", role=Role.lead, team=team)
    boss = await make_person(any_db, "alex.morgan", role=Role.manager, team=team)
    async with any_db.session() as s:
        s.add(
            OutboxMessage(
                dedupe_key="for-sam",
                platform="console",
                target=sam.email,
                recipient_person_id=sam.id,
                payload="{}",
            )
        )
    assert sam.id is not None
    assert boss.id is not None
    off = await people.set_active(any_db, person_id=sam.id, active=False, now=NOW)
    assert off.dropped == 1
    assert [t.name for t in off.settled.lost_lead] == ["Billing"]
    gone = await people.set_active(any_db, person_id=boss.id, active=False, now=NOW)
    assert [t.name for t in gone.settled.lost_manager] == ["Billing"]
    stored = await people.get_person(any_db, person_id=sam.id)
    assert stored is not None
    assert (stored.active, stored.deactivated_at) == (False, NOW)
    # Back on: Billing has no lead, so Sam leads it again.
    back = await people.set_active(any_db, person_id=sam.id, active=True, now=NOW)
    assert back.team is not None
    assert back.team.lead_id == sam.id
    assert not back.demoted


async def test_archiving_a_team_frees_its_name_and_stops_its_schedule(any_db: Database) -> None:
    team = await make_team(any_db, "Retention")
    maria = await make_person(any_db, "maria.lopez", team=team)
    assert team.id is not None
    async with any_db.session() as s:
        s.add(PulseSchedule(team_id=team.id, cadence="weekly"))
    change = await people.archive_team(any_db, team_id=team.id, now=NOW)
    assert [p.id for p in change.teamless] == [maria.id]
    assert await people.list_teams(any_db) == []
    assert [t.name for t in await people.list_teams(any_db, include_archived=True)] == ["Retention"]
    assert await people.get_team_by_name(any_db, name="Retention") is None
    again = await people.create_team(any_db, name="Retention", timezone="UTC")
    assert again.id != team.id
    async with any_db.session() as s:
        sched = await s.get(PulseSchedule, team.id)
        assert sched is not None
        assert sched.cadence == "off"
    stored = await people.get_person(any_db, person_id=maria.id or 0)
    assert stored is not None
    assert stored.team_id is None
