"""`/kudos @person ...`: posting (channel + DM through the outbox), values, self-kudos,
unknown people, working hours and the daily allowance."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from domain.types import Reply
from handlers.core.context import HandlerContext
from storage import people
from storage.db import Database
from tests.conftest import FakeClock, make_ctx
from tests.handlers.kudos.helpers import crew, outbox, recognitions, run, text_of


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


async def test_the_giver_is_told_where_the_shout_out_goes(
    db: Database, ctx: HandlerContext
) -> None:
    # In production (Slack configured) a team with no channel linked gets no post: the
    # giver is told so, and that the receiver got it by DM. Once linked, the channel.
    c = await crew(db)
    db.unmapped_platform = "slack"
    reply = await run(db, ctx, c.sam, "/kudos @maria.billing took the outage calls")
    assert reply.ok, reply.text
    said = " ".join(b.text for b in reply.blocks if hasattr(b, "text"))
    assert f"{c.team.name} has no channel linked" in said
    assert "Maria Billing got it by DM" in said
    msgs = await outbox(db)
    assert not [m for m in msgs if m.recipient_team_id is not None]
    assert [m.recipient_person_id for m in msgs] == [c.maria.id]
    assert c.team.id is not None
    await people.link_channel(db, team_id=c.team.id, platform="slack", channel_ref="CB", by=None)
    reply = await run(db, ctx, c.sam, "/kudos @maria.billing again, thank you")
    said = " ".join(b.text for b in reply.blocks if hasattr(b, "text"))
    assert f"posted in {c.team.name}'s channel" in said
    assert [m.target for m in await outbox(db) if m.recipient_team_id] == ["CB"]
