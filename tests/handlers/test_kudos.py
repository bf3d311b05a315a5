"""`/kudos`: posting (channel + DM through the outbox), values, self-kudos, the daily
allowance, the leaderboard, `/kudos mine`, and the suggestion buttons."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from domain.roles import Role
from domain.types import Action, Block, Buttons, Context, Fields, Header, Reply, Table, Text
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from storage import kudos as store
from storage.db import Database
from storage.models import KudosSuggestion, OutboxMessage, Person, Recognition, Team
from tests.conftest import FakeClock, actor_of, command, make_ctx, make_person, make_team


@dataclasses.dataclass
class Crew:
    team: Team
    lead: Person
    maria: Person
    sam: Person
    lee: Person


async def crew(db: Database, name: str = "Billing", tz: str = "Europe/London") -> Crew:
    team = await make_team(db, name, tz=tz)
    slug = name.lower()
    lead = await make_person(db, f"lead.{slug}", role=Role.lead, team=team, tz=tz)
    maria = await make_person(db, f"maria.{slug}", team=team, tz=tz)
    sam = await make_person(db, f"sam.{slug}", team=team, tz=tz)
    lee = await make_person(db, f"lee.{slug}", team=team, tz=tz)
    return Crew(team, lead, maria, sam, lee)


def block_text(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Header | Text | Context):
            out.append(b.text)
        elif isinstance(b, Table):
            out.append(" | ".join(b.columns))
            out.extend(" | ".join(r) for r in b.rows)
        elif isinstance(b, Fields):
            out.extend(f"{a}: {v}" for a, v in b.pairs)
        elif isinstance(b, Buttons):
            out.extend(x.label for x in b.buttons)
    return "\n".join(out)


def text_of(reply: Reply) -> str:
    return block_text(reply.blocks) + "\n" + reply.text


async def run(db: Database, ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(db, who, line), ctx)


async def recognitions(db: Database) -> list[Recognition]:
    async with db.session() as s:
        return list((await s.execute(select(Recognition).order_by(col(Recognition.id)))).scalars())


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list(
            (await s.execute(select(OutboxMessage).order_by(col(OutboxMessage.id)))).scalars()
        )


async def test_kudos_records_posts_in_channel_and_dms_the_receiver(
    db: Database, ctx: HandlerContext
) -> None:
    c = await crew(db)
    reply = await run(db, ctx, c.sam, "/kudos @maria.billing #ownership took the outage calls")
    assert reply.ok, reply.text
    assert "Maria Billing" in reply.text
    assert "Ownership" in reply.text
    recs = await recognitions(db)
    assert len(recs) == 1
    r = recs[0]
    assert (r.giver_id, r.receiver_id, r.team_id) == (c.sam.id, c.maria.id, c.team.id)
    assert r.value_tag == "ownership"
    assert r.message == "took the outage calls"
    msgs = await outbox(db)
    post = [m for m in msgs if m.recipient_team_id == c.team.id]
    dm = [m for m in msgs if m.recipient_person_id == c.maria.id]
    assert len(post) == 1
    assert len(dm) == 1
    assert post[0].dedupe_key == f"kudos:{r.group_key}:team:{c.team.id}"
    posted = text_of(Reply.from_json(post[0].payload))
    assert "Sam Billing" in posted
    assert "Maria Billing" in posted
    assert "Ownership" in posted
    assert "took the outage calls" in posted
    assert "gave you kudos" in text_of(Reply.from_json(dm[0].payload))


async def test_kudos_to_several_people_share_one_post(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    reply = await run(
        db, ctx, c.lead, "/kudos @maria.billing @sam.billing great handover #partnership"
    )
    assert reply.ok, reply.text
    recs = await recognitions(db)
    assert {r.receiver_id for r in recs} == {c.maria.id, c.sam.id}
    assert len({r.group_key for r in recs}) == 1
    assert all(r.value_tag == "partnership" for r in recs)
    assert all(r.message == "great handover" for r in recs)
    msgs = await outbox(db)
    assert sum(1 for m in msgs if m.recipient_team_id is not None) == 1
    assert {m.recipient_person_id for m in msgs if m.recipient_person_id} == {c.maria.id, c.sam.id}
    assert "Maria Billing and Sam Billing" in text_of(
        Reply.from_json(next(m for m in msgs if m.recipient_team_id).payload)
    )


async def test_unknown_value_lists_the_valid_ones_and_changes_nothing(
    db: Database, ctx: HandlerContext
) -> None:
    c = await crew(db)
    reply = await run(db, ctx, c.sam, "/kudos @maria.billing #heroics saved the day")
    assert not reply.ok
    for key in ("#communication", "#ownership", "#planning", "#action", "#partnership"):
        assert key in reply.text
    assert await recognitions(db) == []
    assert await outbox(db) == []


async def test_self_kudos_and_empty_message_are_refused(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    reply = await run(db, ctx, c.sam, "/kudos @sam.billing I was great")
    assert not reply.ok
    assert "yourself" in reply.text
    reply = await run(db, ctx, c.sam, "/kudos @maria.billing @sam.billing we were great")
    assert not reply.ok
    assert "yourself" in reply.text
    reply = await run(db, ctx, c.sam, "/kudos @maria.billing #ownership")
    assert not reply.ok
    assert "Say what they did" in reply.text
    reply = await run(db, ctx, c.sam, "/kudos @nobody.here thanks")
    assert not reply.ok
    assert "@nobody.here" in reply.text
    assert await recognitions(db) == []
    assert await outbox(db) == []


async def test_receiver_dm_waits_for_working_hours_but_channel_post_does_not(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    c = await crew(db)
    # The outbox never schedules before the real time, so use a Tuesday in the future.
    real = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=7)
    tuesday = real + dt.timedelta(days=(1 - real.weekday()) % 7)
    evening = dt.datetime.combine(tuesday, dt.time(20, 0), tzinfo=ZoneInfo("Europe/London"))
    clock.set(evening)
    assert (await run(db, ctx, c.sam, "/kudos @maria.billing thanks for the cover")).ok
    msgs = await outbox(db)
    dm = next(m for m in msgs if m.recipient_person_id == c.maria.id)
    post = next(m for m in msgs if m.recipient_team_id == c.team.id)
    wednesday_nine = dt.datetime.combine(
        tuesday + dt.timedelta(days=1), dt.time(9, 0), tzinfo=ZoneInfo("Europe/London")
    )
    assert dm.next_attempt_at == wednesday_nine
    assert post.next_attempt_at < evening


async def test_daily_allowance_is_enforced_per_local_day(db: Database, clock: FakeClock) -> None:
    ctx = make_ctx(db, clock, leadbot_secret="s", kudos_daily_limit=2)
    c = await crew(db)
    r1 = await run(db, ctx, c.sam, "/kudos @maria.billing thanks")
    assert r1.ok
    assert "1 of your 2 daily kudos left" in text_of(r1)
    refused = await run(db, ctx, c.sam, "/kudos @maria.billing @lee.billing thanks both")
    assert not refused.ok
    assert "1 kudos left today" in refused.text
    assert (await run(db, ctx, c.sam, "/kudos @lee.billing thanks")).ok
    refused = await run(db, ctx, c.sam, "/kudos @lead.billing thanks")
    assert not refused.ok
    assert "all 2 of today's kudos" in refused.text
    assert "tomorrow" in refused.text
    assert len(await recognitions(db)) == 2
    # Someone else's allowance is their own.
    assert (await run(db, ctx, c.lee, "/kudos @sam.billing thanks")).ok
    # The next local day (London midnight) refreshes it.
    clock.set(dt.datetime(2026, 11, 18, 0, 1, tzinfo=dt.UTC))
    assert (await run(db, ctx, c.sam, "/kudos @lead.billing thanks")).ok


async def test_values_list_and_admin_changes(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    admin = await make_person(db, "root.admin", role=Role.admin)
    listed = await run(db, ctx, c.sam, "/kudos values")
    assert listed.ok
    assert "#ownership" in text_of(listed)
    refused = await run(db, ctx, c.sam, "/kudos values add Customer first")
    assert not refused.ok
    assert "admins" in refused.text
    added = await run(db, ctx, admin, "/kudos values add Customer first")
    assert added.ok
    assert "#customer-first" in added.text
    assert (await run(db, ctx, c.sam, "/kudos @maria.billing #customer-first stayed on")).ok
    removed = await run(db, ctx, admin, "/kudos values remove planning")
    assert removed.ok
    after = await run(db, ctx, c.sam, "/kudos @maria.billing #planning good rota")
    assert not after.ok
    assert (
        "one of: #communication, #ownership, #action, #partnership, #customer-first." in after.text
    )
    again = await run(db, ctx, admin, "/kudos values remove planning")
    assert not again.ok
    recs = await recognitions(db)
    assert [r.value_tag for r in recs] == ["customer-first"]


async def seed_kudos(
    db: Database, at: dt.datetime, rows: list[tuple[Person, Person, str | None]]
) -> None:
    for i, (giver, receiver, tag) in enumerate(rows):
        await store.record(
            db,
            giver_id=giver.id or 0,
            receivers=[store.NewRecognition(receiver.id or 0, receiver.team_id)],
            message=f"thanks {i}",
            value_tag=tag,
            group_key=f"g{i}-{giver.id}-{receiver.id}-{at.isoformat()}",
            at=at + dt.timedelta(minutes=i),
        )


async def test_leaderboard_by_person_and_value_scoped_to_the_team(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    c = await crew(db)
    other = await crew(db, "Sales")
    monday = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
    await seed_kudos(
        db,
        monday,
        [
            (c.sam, c.maria, "ownership"),
            (c.lee, c.maria, "ownership"),
            (c.lead, c.maria, "communication"),
            (c.maria, c.sam, "ownership"),
            (other.sam, other.maria, "action"),
        ],
    )
    # Last week's kudos are outside "week" but inside "month".
    await seed_kudos(db, monday - dt.timedelta(days=7), [(c.maria, c.lee, "planning")])
    week = await run(db, ctx, c.lee, "/kudos top week")
    assert week.ok
    tables = [b for b in week.blocks if isinstance(b, Table)]
    assert tables[0].rows == (("1", "Maria Billing", "3"), ("2", "Sam Billing", "1"))
    assert tables[1].rows[0][:2] == ("Ownership", "3")
    assert ("Communication", "1", "25 %") in tables[1].rows
    assert "Sales" not in text_of(week)
    month = await run(db, ctx, c.lee, "/kudos top month")
    rows = next(b for b in month.blocks if isinstance(b, Table)).rows
    assert ("3", "Lee Billing", "1") in rows or ("2", "Lee Billing", "1") in rows
    # A manager of both teams sees both.
    mgr = await make_person(db, "boss.person", role=Role.manager, team=c.team)
    async with db.session() as s:
        t = await s.get(Team, other.team.id)
        assert t is not None
        t.manager_id = mgr.id
    both = await run(db, ctx, mgr, "/kudos top week")
    assert "Maria Sales" in text_of(both)
    assert "Maria Billing" in text_of(both)
    bad = await run(db, ctx, c.lee, "/kudos top year")
    assert not bad.ok


async def test_mine_shows_received_and_given(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    assert (await run(db, ctx, c.sam, "/kudos @maria.billing #action fixed the IVR")).ok
    assert (await run(db, ctx, c.maria, "/kudos @sam.billing @lee.billing covered lunch")).ok
    mine = await run(db, ctx, c.maria, "/kudos mine")
    body = text_of(mine)
    assert "Received: 1" in body
    assert "fixed the IVR" in body
    assert "Sam Billing" in body
    assert "Given: 1" in body
    assert "Sam Billing and Lee Billing" in body


async def test_bare_kudos_shows_recent_team_shout_outs(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    assert (await run(db, ctx, c.sam, "/kudos @maria.billing #action fixed the IVR")).ok
    feed = await run(db, ctx, c.lee, "/kudos")
    assert feed.ok
    assert "fixed the IVR" in text_of(feed)
    assert "#ownership" in text_of(feed)


async def make_suggestion(db: Database, c: Crew) -> int:
    sid = await store.create_suggestion(
        db,
        key=f"streak:{c.maria.id}:csat:2026-11-10",
        team_id=c.team.id or 0,
        person_id=c.maria.id or 0,
        kind="streak",
        detail="5 working days in a row on target for CSAT (goal >= 90.0 %)",
        value_tag="ownership",
        at=dt.datetime(2026, 11, 17, 8, 30, tzinfo=dt.UTC),
        messages=lambda sid: [],
    )
    assert sid is not None
    return sid


async def test_suggestion_post_records_once_and_posts(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    sid = await make_suggestion(db, c)
    press = Action(actor_of(c.lead), "kudos.suggest.post", str(sid))
    reply = await run_action(press, ctx)
    assert reply.ok
    assert reply.replace_original
    assert "Posted" in reply.text
    again = await run_action(press, ctx)
    assert "already" in block_text(again.blocks)
    recs = await recognitions(db)
    assert len(recs) == 1
    assert (recs[0].giver_id, recs[0].receiver_id, recs[0].source) == (
        c.lead.id,
        c.maria.id,
        "suggested",
    )
    assert recs[0].message.startswith("5 working days in a row")
    msgs = await outbox(db)
    assert sum(1 for m in msgs if m.recipient_team_id == c.team.id) == 1
    async with db.session() as s:
        sug = await s.get(KudosSuggestion, sid)
        assert sug is not None
        assert sug.status == "posted"


async def test_suggestion_buttons_refuse_forged_values_and_strangers(
    db: Database, ctx: HandlerContext
) -> None:
    c = await crew(db)
    other = await crew(db, "Sales")
    sid = await make_suggestion(db, c)
    for actor, value in (
        (other.lead, str(sid)),
        (c.sam, str(sid)),
        (c.lead, "x1"),
        (c.lead, "999"),
    ):
        reply = await run_action(Action(actor_of(actor), "kudos.suggest.post", value), ctx)
        assert not reply.ok
    assert await recognitions(db) == []
    edited = await run_action(
        Action(actor_of(c.lead), "kudos.suggest.post", str(sid), form={"message": "Superb week!"}),
        ctx,
    )
    assert edited.ok
    assert [r.message for r in await recognitions(db)] == ["Superb week!"]
    sid2 = await store.create_suggestion(
        db,
        key="best:x",
        team_id=c.team.id or 0,
        person_id=c.sam.id or 0,
        kind="personal_best",
        detail="a personal best",
        value_tag=None,
        at=ctx.now(),
        messages=lambda _sid: [],
    )
    dismissed = await run_action(Action(actor_of(c.lead), "kudos.suggest.dismiss", str(sid2)), ctx)
    assert dismissed.ok
    assert "Dismissed" in dismissed.text
    assert len(await recognitions(db)) == 1
