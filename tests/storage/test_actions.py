"""storage.actions on SQLite and PostgreSQL: items, the trail, guarded changes, follow-up
records and the evidence query."""

from __future__ import annotations

import asyncio
import datetime as dt

from domain.items import ActionStatus
from domain.kpi import KpiRow
from domain.roles import Role
from domain.types import Reply
from storage import actions as store
from storage import outbox
from storage.db import Database
from storage.kpis import upsert_values
from storage.models import ActionItem, ActionItemEvent, ActionProposal, Person
from storage.outbox import OutboxNew
from tests.conftest import make_person, make_team

T0 = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)


async def _setup(db: Database) -> tuple[Person, Person]:
    team = await make_team(db)
    lead = await make_person(db, "lee.lead", role=Role.lead, team=team)
    maria = await make_person(db, "maria.lopez", team=team)
    return lead, maria


def _msg(key: str, person: Person) -> OutboxNew:
    return OutboxNew(dedupe_key=key, payload=Reply(text="hi").to_json(), person_id=person.id)


async def _item(db: Database, lead: Person, maria: Person, **kw: object) -> ActionItem:
    item = ActionItem(
        title="call back",
        owner_id=maria.id,
        assigned_by_id=lead.id,
        team_id=maria.team_id,
        **kw,  # type: ignore[arg-type]
    )
    return await store.create(
        db,
        item=item,
        actor_id=lead.id,
        detail="for Maria",
        now=T0,
        messages=lambda new, _e: [_msg(f"action:{new.id}:assigned", maria)],
    )


async def test_create_writes_item_event_and_message(any_db: Database) -> None:
    lead, maria = await _setup(any_db)
    item = await _item(any_db, lead, maria, due_date=dt.date(2026, 11, 18))
    assert item.id is not None
    got = await store.get(any_db, item_id=item.id)
    assert got is not None
    assert got.created_at == T0
    assert got.due_date == dt.date(2026, 11, 18)
    [event] = await store.events(any_db, item_id=item.id)
    assert (event.kind, event.actor_id, event.created_at) == ("created", lead.id, T0)
    [m] = await outbox.messages_after(any_db, after_id=0)
    assert m.dedupe_key == f"action:{item.id}:assigned"


async def test_get_out_of_range_ids(any_db: Database) -> None:
    assert await store.get(any_db, item_id=0) is None
    assert await store.get(any_db, item_id=2**40) is None
    result = await store.change(
        any_db,
        item_id=2**40,
        actor_id=None,
        kind="done",
        detail="",
        allowed_from=store.OPEN_STATUSES,
        updates={},
        now=T0,
    )
    assert not result.applied


async def test_change_applies_only_from_allowed_status(concurrent_db: Database) -> None:
    lead, maria = await _setup(concurrent_db)
    item = await _item(concurrent_db, lead, maria)
    assert item.id is not None

    async def done() -> store.ChangeResult:
        return await store.change(
            concurrent_db,
            item_id=item.id or 0,
            actor_id=maria.id,
            kind="done",
            detail="",
            allowed_from=store.OPEN_STATUSES,
            updates={"status": ActionStatus.done, "closed_at": T0},
            now=T0,
            messages=lambda i, _e: [_msg(f"action:{i.id}:done", lead)],
        )

    # Two presses at once: exactly one closes it (the row is locked on PostgreSQL).
    results = await asyncio.gather(done(), done(), return_exceptions=True)
    applied = [r for r in results if isinstance(r, store.ChangeResult) and r.applied]
    assert len(applied) == 1
    kinds = [e.kind for e in await store.events(concurrent_db, item_id=item.id)]
    assert kinds == ["created", "done"]
    again = await done()
    assert not again.applied
    assert again.item is not None
    assert again.item.status is ActionStatus.done


async def test_change_checks_the_owner(any_db: Database) -> None:
    lead, maria = await _setup(any_db)
    item = await _item(any_db, lead, maria)
    result = await store.change(
        any_db,
        item_id=item.id or 0,
        actor_id=lead.id,
        kind="accepted",
        detail="",
        allowed_from=store.OPEN_STATUSES,
        updates={"status": ActionStatus.in_progress},
        now=T0,
        expect_owner_id=lead.id,
    )
    assert not result.applied
    got = await store.get(any_db, item_id=item.id or 0)
    assert got is not None
    assert got.status is ActionStatus.open


async def test_list_filters(any_db: Database) -> None:
    lead, maria = await _setup(any_db)
    a = await _item(any_db, lead, maria, due_date=dt.date(2026, 11, 20))
    b = await _item(any_db, lead, maria, due_date=dt.date(2026, 11, 16))
    c = await _item(any_db, lead, maria)
    assert [i.id for i in await store.list_items(any_db, owner_id=maria.id)] == [b.id, a.id, c.id]
    overdue = await store.list_items(
        any_db, team_ids=[maria.team_id or 0], due_before=dt.date(2026, 11, 17)
    )
    assert [i.id for i in overdue] == [b.id]
    assert await store.list_items(any_db, team_ids=[]) == []
    assert await store.count_items(any_db, team_ids=[maria.team_id or 0]) == 3
    assert [i.id for i in await store.list_items(any_db, assigned_by_id=lead.id)] == [
        b.id,
        a.id,
        c.id,
    ]


async def test_record_followup_once_and_never_for_closed_items(any_db: Database) -> None:
    lead, maria = await _setup(any_db)
    item = await _item(any_db, lead, maria)
    iid = item.id or 0

    async def nudge(key: str, **kw: bool) -> bool:
        return await store.record_followup(
            any_db,
            item_id=iid,
            kind="nudge_sent",
            detail="nudge",
            message=_msg(key, maria),
            now=T0,
            **kw,
        )

    assert await nudge("k1")
    assert not await nudge("k1")  # same key: nothing twice
    assert await nudge("offer", offer_close=True)
    assert not await nudge("offer2", offer_close=True)  # a close is offered once
    got = await store.get(any_db, item_id=iid)
    assert got is not None
    assert got.close_offered_at == T0
    assert await store.existing_keys(any_db, keys=["k1", "k2", "offer"]) == {"k1", "offer"}
    await store.change(
        any_db,
        item_id=iid,
        actor_id=maria.id,
        kind="done",
        detail="",
        allowed_from=store.OPEN_STATUSES,
        updates={"status": ActionStatus.done},
        now=T0,
    )
    assert not await nudge("k3")
    kinds = [e.kind for e in await store.events(any_db, item_id=iid)]
    assert kinds.count("nudge_sent") == 2
    assert await store.existing_keys(any_db, keys=["k3"]) == set()


async def test_last_events_are_aware(any_db: Database) -> None:
    lead, maria = await _setup(any_db)
    item = await _item(any_db, lead, maria)
    iid = item.id or 0
    later = T0 + dt.timedelta(hours=3)
    await store.add_event(
        any_db, item_id=iid, actor_id=None, kind="escalated", detail="", now=later
    )
    last = await store.last_events(any_db, item_ids=[iid], kinds=["created", "escalated"])
    assert last == {(iid, "created"): T0, (iid, "escalated"): later}


async def test_sweep_candidates(any_db: Database) -> None:
    lead, maria = await _setup(any_db)
    soon = await _item(any_db, lead, maria, due_date=dt.date(2026, 11, 20))
    await _item(any_db, lead, maria, due_date=dt.date(2027, 1, 20))
    linked = await _item(any_db, lead, maria, metric_key="aht", metric_op="<=", metric_target=300)
    ids = [i.id for i in await store.sweep_candidates(any_db, due_until=dt.date(2026, 11, 26))]
    assert ids == [soon.id, linked.id]


async def test_person_values(any_db: Database) -> None:
    _lead, maria = await _setup(any_db)
    rows = [
        KpiRow(dt.date(2026, 11, d), "aht", 300.0 - d, person_id=maria.id, team_id=maria.team_id)
        for d in (10, 16, 17)
    ]
    rows.append(KpiRow(dt.date(2026, 11, 17), "csat", 90.0, person_id=maria.id))
    await upsert_values(any_db, rows=rows)
    got = await store.person_values(
        any_db, pairs=[(maria.id or 0, "aht")], since=dt.date(2026, 11, 15)
    )
    assert got == {
        (maria.id, "aht"): [(dt.date(2026, 11, 16), 284.0), (dt.date(2026, 11, 17), 283.0)]
    }


async def test_requests_one_pending_per_item_decided_once(any_db: Database) -> None:
    lead, maria = await _setup(any_db)
    item = await _item(any_db, lead, maria, due_date=dt.date(2026, 11, 18))
    assert item.id
    assert maria.id
    assert lead.id

    def asked(i: ActionItem, p: ActionProposal) -> list[OutboxNew]:
        return [_msg(f"action:{i.id}:proposal:{p.id}", lead)]

    new_due = dt.date(2026, 11, 27)
    first = await store.propose(
        any_db,
        proposal=ActionProposal(
            item_id=item.id, kind="due", due_date=new_due, proposed_by_id=maria.id
        ),
        now=T0,
        detail="asked",
        messages=asked,
    )
    second = await store.propose(
        any_db,
        proposal=ActionProposal(item_id=item.id, kind="cancel", proposed_by_id=maria.id),
        now=T0,
        detail="asked",
        messages=asked,
    )
    assert first.applied
    assert second.applied
    assert second.replaced is not None
    assert first.proposal is not None
    assert second.replaced.id == first.proposal.id
    # Someone who isn't the owner asks nothing.
    not_owner = await store.propose(
        any_db,
        proposal=ActionProposal(item_id=item.id, kind="cancel", proposed_by_id=lead.id),
        now=T0,
        detail="asked",
        messages=asked,
    )
    assert not not_owner.applied
    pending = await store.pending_proposal(any_db, item_id=item.id)
    assert pending is not None
    assert pending.kind == "cancel"
    assert pending.from_due == dt.date(2026, 11, 18)
    # The withdrawn one can't be decided; the pending one once.
    assert first.proposal.id
    assert pending.id

    def none(_i: ActionItem, _p: ActionProposal) -> list[OutboxNew]:
        return []

    def told(_i: ActionItem, p: ActionProposal) -> list[OutboxNew]:
        return [_msg(f"decided:{p.id}", maria)]

    stale = await store.decide(
        any_db,
        proposal_id=first.proposal.id,
        approve=True,
        actor_id=lead.id,
        now=T0,
        detail="",
        messages=none,
    )
    assert not stale.applied
    for approve, applied in ((True, True), (False, False)):  # decided once
        result = await store.decide(
            any_db,
            proposal_id=pending.id,
            approve=approve,
            actor_id=lead.id,
            now=T0,
            detail="approved",
            messages=told,
        )
        assert result.applied is applied
    after = await store.get(any_db, item_id=item.id)
    assert after is not None
    assert after.status is ActionStatus.cancelled
    kinds = [e.kind for e in await store.events(any_db, item_id=item.id)]
    assert kinds == ["created", "due_proposed", "cancel_requested", "cancelled"]


async def test_a_help_request_is_recorded_once_per_request(any_db: Database) -> None:
    lead, maria = await _setup(any_db)
    item = await _item(any_db, lead, maria)
    assert item.id
    assert maria.id

    def dm(event: ActionItemEvent) -> list[OutboxNew]:
        return [_msg(f"action:{item.id}:help:{event.id}", lead)]

    window = dt.timedelta(seconds=60)
    results = []
    for seconds in (0, 1.1, 120):  # the form twice 1.1 s apart, then again two minutes on
        results.append(
            await store.request_help(
                any_db,
                item_id=item.id,
                actor_id=maria.id,
                detail="stuck",
                now=T0 + dt.timedelta(seconds=seconds),
                repeat_within=window,
                messages=dm,
            )
        )
    assert [r.repeat for r in results] == [False, True, False]
    keys = [m.dedupe_key for m in await outbox.messages_after(any_db, after_id=0)]
    assert len([k for k in keys if ":help:" in k]) == 2
