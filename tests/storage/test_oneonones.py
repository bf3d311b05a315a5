"""storage.oneonones on SQLite and PostgreSQL: one active schedule per pair (agenda moves
with it), occurrences, the compare-and-set that passes a slot once, last held/skipped, and
the KPI figures behind the prep card."""

from __future__ import annotations

import datetime as dt

from domain.kpi import KpiRow
from domain.roles import Role
from storage import oneonones as store
from storage.db import Database
from storage.kpis import upsert_values
from tests.conftest import make_person, make_team

T0 = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)
SLOT = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


async def setup(db: Database) -> tuple[int, int]:
    team = await make_team(db)
    lead = await make_person(db, "the.lead", role=Role.lead, team=team)
    agent = await make_person(db, "an.agent", team=team)
    assert lead.id
    assert agent.id
    return lead.id, agent.id


async def new(db: Database, lead: int, agent: int, next_at: dt.datetime = SLOT) -> int:
    o, _ = await store.schedule(
        db,
        lead_id=lead,
        agent_id=agent,
        cadence_weeks=2,
        weekday=1,
        local_time="10:00",
        duration_minutes=30,
        timezone="Europe/London",
        next_at=next_at,
        at=T0,
    )
    assert o.id is not None
    return o.id


async def test_rescheduling_keeps_one_active_and_moves_pending_agenda(any_db: Database) -> None:
    lead, agent = await setup(any_db)
    first = await new(any_db, lead, agent)
    await store.add_agenda(any_db, one_on_one_id=first, author_id=agent, text="rota", at=T0)
    second, replaced = await store.schedule(
        any_db,
        lead_id=lead,
        agent_id=agent,
        cadence_weeks=1,
        weekday=3,
        local_time="15:00",
        duration_minutes=45,
        timezone="Europe/London",
        next_at=SLOT,
        at=T0,
    )
    assert replaced
    assert second.id != first
    active = await store.list_active(any_db, lead_ids=[lead])
    assert [o.id for o in active] == [second.id]
    assert [
        a.text for a in await store.pending_agenda(any_db, one_on_one_ids=[second.id or 0])
    ] == ["rota"]
    assert sorted(await store.pair_ids(any_db, lead_id=lead, agent_id=agent)) == sorted(
        [first, second.id or 0]
    )
    assert await store.cancel(any_db, one_on_one_id=second.id or 0)
    assert not await store.cancel(any_db, one_on_one_id=second.id or 0)
    assert await store.list_active(any_db) == []


async def test_pass_slot_happens_once_and_done_attaches_the_agenda(any_db: Database) -> None:
    lead, agent = await setup(any_db)
    oid = await new(any_db, lead, agent)
    nxt = SLOT + dt.timedelta(weeks=2)
    assert await store.pass_slot(any_db, one_on_one_id=oid, expected_next_at=SLOT, new_next_at=nxt)
    assert not await store.pass_slot(
        any_db, one_on_one_id=oid, expected_next_at=SLOT, new_next_at=nxt
    )
    occ = await store.occurrences(any_db, one_on_one_ids=[oid])
    assert [(o.scheduled_at, o.status) for o in occ] == [(SLOT, "scheduled")]
    assert await store.last_dealt(any_db, one_on_one_ids=[oid]) == {}
    item = await store.add_agenda(any_db, one_on_one_id=oid, author_id=agent, text="pay", at=T0)
    held = await store.record_occurrence(
        any_db, one_on_one_id=oid, scheduled_at=SLOT, status="held", notes="ok", at=T0
    )
    assert held.id is not None
    assert await store.pending_agenda(any_db, one_on_one_ids=[oid]) == []
    await store.record_occurrence(
        any_db,
        one_on_one_id=oid,
        scheduled_at=nxt,
        status="skipped",
        at=T0,
        next_at=nxt + dt.timedelta(weeks=2),
        set_next=True,
    )
    assert await store.last_dealt(any_db, one_on_one_ids=[oid]) == {oid: nxt}
    got = await store.get(any_db, one_on_one_id=oid)
    assert got is not None
    assert got.next_at == nxt + dt.timedelta(weeks=2)
    assert item.id is not None
    assert [o.status for o in await store.occurrences(any_db, one_on_one_ids=[oid])] == [
        "skipped",
        "held",
    ]


async def test_person_kpis_weighted_with_the_period_before(any_db: Database) -> None:
    lead, agent = await setup(any_db)
    day = dt.date(2026, 11, 16)
    rows = [
        KpiRow(day, "aht", 300.0, person_id=agent, weight=10),
        KpiRow(day - dt.timedelta(days=1), "aht", 400.0, person_id=agent, weight=30),
        KpiRow(day - dt.timedelta(days=5), "aht", 500.0, person_id=agent, weight=1),
        KpiRow(day, "csat", 90.0, person_id=lead, weight=1),
    ]
    await upsert_values(any_db, rows=rows)
    figs = await store.person_kpis(
        any_db,
        person_id=agent,
        metric_keys=["aht", "csat"],
        since=day - dt.timedelta(days=2),
        until=day,
    )
    by = {f.metric.key: f for f in figs}
    assert by["aht"].value == 375.0
    assert by["aht"].days == 2
    assert by["aht"].previous == 500.0
    assert by["csat"].value is None
    assert by["csat"].previous is None


async def test_load_prep_reads_since_the_last_held_1on1(any_db: Database) -> None:
    from domain.items import ActionStatus
    from storage import kudos as kudos_store
    from storage.models import ActionItem, Goal, Person

    lead, agent = await setup(any_db)
    oid = await new(any_db, lead, agent)
    held_at = T0 - dt.timedelta(days=14)
    await store.record_occurrence(
        any_db, one_on_one_id=oid, scheduled_at=held_at, status="held", notes="n1", at=held_at
    )
    await store.add_agenda(any_db, one_on_one_id=oid, author_id=agent, text="pay", at=T0)
    async with any_db.session() as s:
        person = await s.get(Person, agent)
        assert person is not None
        s.add(Goal(team_id=person.team_id or 0, metric_key="aht", op="<=", target=300.0))
        s.add(ActionItem(title="open one", owner_id=agent))
        s.add(
            ActionItem(
                title="closed long ago",
                owner_id=agent,
                status=ActionStatus.done,
                closed_at=held_at - dt.timedelta(days=1),
            )
        )
    for days, msg in ((1, "recent"), (20, "old")):
        await kudos_store.record(
            any_db,
            giver_id=lead,
            receivers=[kudos_store.NewRecognition(agent, None)],
            message=msg,
            value_tag=None,
            group_key=msg,
            at=T0 - dt.timedelta(days=days),
        )
    await upsert_values(
        any_db, rows=[KpiRow(dt.date(2026, 11, 10), "aht", 280.0, person_id=agent, weight=5)]
    )
    data = await store.load_prep(
        any_db,
        lead_id=lead,
        agent=person,
        one_on_one_id=oid,
        now=T0,
        default_days=30,
        default_metrics=("csat",),
    )
    assert data.last_held is not None
    assert data.last_held.notes == "n1"
    assert data.since == held_at
    assert list(data.goals) == ["aht"]
    assert [(f.metric.key, f.value) for f in data.figures] == [("aht", 280.0)]
    assert [a.title for a in data.open_items] == ["open one"]
    assert data.closed_items == []
    assert [k.message for k in data.kudos] == ["recent"]
    assert [a.text for a in data.agenda] == ["pay"]
    assert set(data.names) == {lead, agent}
