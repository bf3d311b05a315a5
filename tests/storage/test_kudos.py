"""storage.kudos on SQLite and PostgreSQL: recording (all or nothing, the allowance),
leaderboards, last recognised, value tags, and suggestions happening once."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from domain.roles import Role
from domain.types import message
from storage import kudos as store
from storage.db import Database
from storage.models import OutboxMessage, Recognition
from storage.outbox import OutboxNew
from tests.conftest import make_person, make_team

T0 = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)


async def count(db: Database, model: type[Recognition] | type[OutboxMessage]) -> int:
    async with db.session() as s:
        return len(list((await s.execute(select(model))).scalars()))


async def test_record_with_allowance_and_messages_is_all_or_nothing(any_db: Database) -> None:
    team = await make_team(any_db)
    a = await make_person(any_db, "a.one", team=team)
    b = await make_person(any_db, "b.two", team=team)
    c = await make_person(any_db, "c.three", team=team)
    assert a.id
    assert b.id
    assert c.id
    assert team.id

    def msg(key: str) -> OutboxNew:
        return OutboxNew(dedupe_key=key, payload=message("hi").to_json(), team_id=team.id)

    n = await store.record(
        any_db,
        giver_id=a.id,
        receivers=[store.NewRecognition(b.id, team.id), store.NewRecognition(c.id, team.id)],
        message="thanks",
        value_tag="ownership",
        group_key="g1",
        at=T0,
        messages=[msg("k1")],
        daily_limit=3,
        day_start=T0.replace(hour=0),
    )
    assert n == 2
    refused = await store.record(
        any_db,
        giver_id=a.id,
        receivers=[store.NewRecognition(b.id, team.id), store.NewRecognition(c.id, team.id)],
        message="again",
        value_tag=None,
        group_key="g2",
        at=T0 + dt.timedelta(hours=1),
        messages=[msg("k2")],
        daily_limit=3,
        day_start=T0.replace(hour=0),
    )
    assert refused is None
    assert await count(any_db, Recognition) == 2
    assert await count(any_db, OutboxMessage) == 1
    assert await store.count_given_since(any_db, giver_id=a.id, since=T0.replace(hour=0)) == 2
    assert (
        await store.count_given_since(any_db, giver_id=a.id, since=T0 + dt.timedelta(hours=1)) == 0
    )


async def test_leaderboard_and_last_recognised(any_db: Database) -> None:
    team = await make_team(any_db)
    other = await make_team(any_db, "Sales")
    a = await make_person(any_db, "a.one", team=team)
    b = await make_person(any_db, "b.two", team=team)
    x = await make_person(any_db, "x.sales", team=other)
    assert a.id
    assert b.id
    assert x.id
    assert team.id
    assert other.id
    rows = [
        (a.id, b.id, team.id, "ownership", T0),
        (x.id, b.id, team.id, "ownership", T0 + dt.timedelta(hours=1)),
        (b.id, a.id, team.id, None, T0 + dt.timedelta(hours=2)),
        (a.id, x.id, other.id, "action", T0 + dt.timedelta(hours=3)),
        (b.id, a.id, team.id, "planning", T0 - dt.timedelta(days=30)),
    ]
    for i, (g, r, t, tag, when) in enumerate(rows):
        await store.record(
            any_db,
            giver_id=g,
            receivers=[store.NewRecognition(r, t)],
            message=f"m{i}",
            value_tag=tag,
            group_key=f"g{i}",
            at=when,
        )
    board = await store.leaderboard(
        any_db, team_ids=[team.id], since=T0 - dt.timedelta(days=1), until=T0 + dt.timedelta(days=1)
    )
    assert board.by_person == [(b.id, 2), (a.id, 1)]
    assert board.by_value == [("ownership", 2), ("", 1)]
    assert board.total == 3
    last = await store.last_recognised(any_db, person_ids=[a.id, b.id, x.id])
    assert last == {
        a.id: T0 + dt.timedelta(hours=2),
        b.id: T0 + dt.timedelta(hours=1),
        x.id: T0 + dt.timedelta(hours=3),
    }
    got = await store.in_range(any_db, person_id=a.id)
    assert [r.message for r in got] == ["m2", "m4"]
    assert all(r.created_at.tzinfo is not None for r in got)


async def test_value_tags_add_remove_and_restore(any_db: Database) -> None:
    before = [t.key for t in await store.all_value_tags(any_db)]
    assert before[:2] == ["communication", "ownership"]
    await store.add_value_tag(any_db, key="customer-first", name="Customer first")
    assert await store.remove_value_tag(any_db, key="planning")
    assert not await store.remove_value_tag(any_db, key="planning")
    assert not await store.remove_value_tag(any_db, key="nope")
    active = [t.key for t in await store.all_value_tags(any_db) if t.active]
    assert active == ["communication", "ownership", "action", "partnership", "customer-first"]
    await store.add_value_tag(any_db, key="planning", name="Planning")
    active = [t.key for t in await store.all_value_tags(any_db) if t.active]
    assert active[-1] == "planning"


async def test_suggestions_happen_once_and_resolve_once(any_db: Database) -> None:
    team = await make_team(any_db)
    lead = await make_person(any_db, "the.lead", role=Role.lead, team=team)
    a = await make_person(any_db, "a.one", team=team)
    assert team.id
    assert a.id
    assert lead.id
    built: list[int] = []

    def build(sid: int) -> list[OutboxNew]:
        built.append(sid)
        return [OutboxNew(dedupe_key=f"s:{sid}", payload=message("x").to_json(), person_id=lead.id)]

    kwargs = dict(
        key="streak:1:csat:2026-11-16",
        team_id=team.id,
        person_id=a.id,
        kind="streak",
        detail="5 days",
        value_tag="ownership",
        at=T0,
        messages=build,
    )
    sid = await store.create_suggestion(any_db, **kwargs)  # type: ignore[arg-type]
    again = await store.create_suggestion(any_db, **kwargs)  # type: ignore[arg-type]
    assert sid is not None
    assert again is None
    assert built == [sid]
    assert [s.id for s in await store.pending_suggestions(any_db, team_id=team.id)] == [sid]
    rec = Recognition(
        giver_id=lead.id, receiver_id=a.id, team_id=team.id, message="5 days", created_at=T0
    )
    assert await store.resolve_suggestion(
        any_db, suggestion_id=sid, status="posted", recognition=rec
    )
    rec2 = Recognition(
        giver_id=lead.id, receiver_id=a.id, team_id=team.id, message="5 days", created_at=T0
    )
    assert not await store.resolve_suggestion(
        any_db, suggestion_id=sid, status="posted", recognition=rec2
    )
    assert await count(any_db, Recognition) == 1
    assert await store.pending_suggestions(any_db, team_id=team.id) == []
