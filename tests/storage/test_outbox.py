"""Outbox claims, leases and results (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.jobs.helpers import enqueue_texts, slack_person

# enqueue() never makes a message due before the real time, so "now" is in the future.
NOW = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(microsecond=0)
LEASE = 60.0


async def claim(db: Database, now: dt.datetime = NOW, limit: int = 50) -> list[outbox.Claim]:
    return await outbox.claim_due_batch(
        db, now=now, limit=limit, lease_seconds=LEASE, platforms=["slack"], claimed_by="t"
    )


def texts(claims: list[outbox.Claim]) -> list[str]:
    from domain.types import Reply

    return [Reply.from_json(c.message.payload).fallback for c in claims]


async def test_one_message_per_target_the_oldest_first(any_db: Database) -> None:
    a = await slack_person(any_db, "ann", "U1")
    b = await slack_person(any_db, "bob", "U2")
    await enqueue_texts(any_db, a, ["a1", "a2", "a3"])
    await enqueue_texts(any_db, b, ["b1", "b2"])
    first = await claim(any_db)
    assert sorted(texts(first)) == ["a1", "b1"]
    # While a1 and b1 are in flight, nothing else of theirs may go.
    assert await claim(any_db) == []
    for c in first:
        assert c.message.id is not None
        await outbox.mark_delivered(any_db, message_id=c.message.id, external_ref="ts", now=NOW)
    assert sorted(texts(await claim(any_db))) == ["a2", "b2"]


async def test_a_retrying_message_blocks_its_target(any_db: Database) -> None:
    a = await slack_person(any_db, "ann", "U1")
    await enqueue_texts(any_db, a, ["a1", "a2"])
    [c] = await claim(any_db)
    later = NOW + dt.timedelta(seconds=30)
    assert await outbox.mark_retry(any_db, claim=c, next_attempt_at=later, error="HTTP 500")
    assert await claim(any_db, now=NOW + dt.timedelta(seconds=10)) == []
    [again] = await claim(any_db, now=later)
    assert texts([again]) == ["a1"]
    assert again.attempts == 2


async def test_held_message_does_not_block_a_later_one(any_db: Database) -> None:
    a = await slack_person(any_db, "ann", "U1")
    tomorrow = NOW + dt.timedelta(hours=20)
    await enqueue_texts(any_db, a, ["held till morning"], not_before=tomorrow)
    await enqueue_texts(any_db, a, ["asked for now"])
    assert texts(await claim(any_db)) == ["asked for now"]


async def test_stale_lease_is_claimed_again_and_old_token_is_void(any_db: Database) -> None:
    a = await slack_person(any_db, "ann", "U1")
    await enqueue_texts(any_db, a, ["a1"])
    [c1] = await claim(any_db)
    assert not c1.unresolved_before
    assert await claim(any_db, now=NOW + dt.timedelta(seconds=LEASE - 1)) == []
    # The first claimer died; after the lease another dispatcher takes the message.
    [c2] = await claim(any_db, now=NOW + dt.timedelta(seconds=LEASE + 1))
    assert c2.message.id == c1.message.id
    assert c2.unresolved_before  # it may have been delivered: logged as such
    # The dead claimer's token changes nothing any more.
    assert not await outbox.mark_retry(any_db, claim=c1, next_attempt_at=NOW, error="x")
    assert not await outbox.mark_dead(any_db, claim=c1, error="x")
    assert await outbox.renew_lease(any_db, claim=c1, now=NOW, lease_seconds=LEASE) is None
    renewed = await outbox.renew_lease(
        any_db, claim=c2, now=NOW + dt.timedelta(seconds=LEASE + 2), lease_seconds=LEASE
    )
    assert renewed is not None
    assert await outbox.mark_dead(any_db, claim=renewed, error="channel_not_found")


async def test_concurrent_claimers_never_share_a_message(concurrent_db: Database) -> None:
    for i in range(20):
        p = await slack_person(concurrent_db, f"p{i}", f"U{i}")
        await enqueue_texts(concurrent_db, p, [f"m{i}"])
    batches = await asyncio.gather(*(claim(concurrent_db, limit=7) for _ in range(4)))
    ids = [c.message.id or 0 for batch in batches for c in batch]
    assert len(ids) == len(set(ids))
    # What one claimer lost in the race, a later round picks up; none is ever shared.
    while more := await claim(concurrent_db, limit=7):
        ids.extend(c.message.id or 0 for c in more)
    assert sorted(ids) == sorted(set(ids))
    assert len(ids) == 20


async def test_rate_limited_retry_does_not_use_an_attempt(any_db: Database) -> None:
    a = await slack_person(any_db, "ann", "U1")
    await enqueue_texts(any_db, a, ["a1"])
    [c] = await claim(any_db)
    assert c.attempts == 1
    await outbox.mark_retry(
        any_db, claim=c, next_attempt_at=NOW, error="rate limited", count_attempt=False
    )
    [c2] = await claim(any_db)
    assert c2.attempts == 1
    assert not c2.unresolved_before


async def test_dead_listed_and_retried(any_db: Database) -> None:
    a = await slack_person(any_db, "ann", "U1")
    await enqueue_texts(any_db, a, ["a1", "a2"])
    [c] = await claim(any_db)
    assert await outbox.mark_dead(any_db, claim=c, error="channel_not_found")
    dead = await outbox.list_messages(any_db, status=OutboxStatus.dead)
    assert [m.last_error for m in dead] == ["channel_not_found"]
    # A dead message does not block the rest of its target.
    [nxt] = await claim(any_db)
    assert texts([nxt]) == ["a2"]
    counts = await outbox.counts(any_db)
    assert counts == {"pending": 1, "sent": 0, "dead": 1}
    assert c.message.id is not None
    again = await outbox.retry(any_db, message_id=c.message.id, now=NOW)
    assert again is not None
    assert again.status == "pending"
    assert again.attempts == 0
    assert await outbox.retry(any_db, message_id=c.message.id, now=NOW) is None  # not dead now
    assert await outbox.list_messages(any_db, status=OutboxStatus.dead) == []


async def test_console_and_unknown_platforms_are_never_claimed(any_db: Database) -> None:
    from domain.roles import Role
    from storage import people

    p = await people.upsert_person(
        any_db, email="c@example.com", display_name="C", role=Role.lead, team_id=None
    )
    await enqueue_texts(any_db, p, ["console only"])
    assert await claim(any_db) == []
    pending = await outbox.list_messages(any_db, status=OutboxStatus.pending)
    assert [m.platform for m in pending] == ["console"]


async def test_mark_delivered_once(any_db: Database) -> None:
    a = await slack_person(any_db, "ann", "U1")
    await enqueue_texts(any_db, a, ["a1"])
    [c] = await claim(any_db)
    assert c.message.id is not None
    assert await outbox.mark_delivered(any_db, message_id=c.message.id, external_ref="1.2", now=NOW)
    assert not await outbox.mark_delivered(
        any_db, message_id=c.message.id, external_ref="9.9", now=NOW
    )
    m = await outbox.get_message(any_db, message_id=c.message.id)
    assert m is not None
    assert m.status == "sent"
    assert m.external_ref == "1.2"
    assert m.sent_at == NOW


async def test_mark_delivered_many_in_one_write(any_db: Database) -> None:
    people_ = [await slack_person(any_db, f"p{i}", f"U{i}") for i in range(3)]
    for p in people_:
        await enqueue_texts(any_db, p, ["hello"])
    claims = await claim(any_db)
    items = [(c.message.id or 0, f"ts{i}") for i, c in enumerate(claims)]
    await outbox.mark_delivered_many(any_db, items=items, now=NOW)
    await outbox.mark_delivered_many(any_db, items=[(items[0][0], "again")], now=NOW)
    sent = await outbox.list_messages(any_db, status=OutboxStatus.sent)
    assert sorted(m.external_ref or "" for m in sent) == ["ts0", "ts1", "ts2"]  # not again
    assert all(m.sent_at == NOW for m in sent)


async def by_id(db: Database, message_id: int) -> OutboxMessage:
    m = await outbox.get_message(db, message_id=message_id)
    assert m is not None
    return m


async def test_claim_names_its_dispatcher_and_results_clear_it(any_db: Database) -> None:
    a = await slack_person(any_db, "ann", "U1")
    await enqueue_texts(any_db, a, ["a1", "a2", "a3"])
    [c] = await claim(any_db)
    assert c.claimed_by == "t"
    assert (await by_id(any_db, c.message.id or 0)).claimed_by == "t"
    assert await outbox.mark_retry(any_db, claim=c, next_attempt_at=NOW, error="HTTP 500")
    assert (await by_id(any_db, c.message.id or 0)).claimed_by is None
    [c] = await claim(any_db)
    assert not c.unresolved_before  # the last claim ended with a result
    assert await outbox.mark_delivered(
        any_db, message_id=c.message.id or 0, external_ref="1.1", now=NOW
    )
    m = await by_id(any_db, c.message.id or 0)
    assert (m.status, m.claimed_by) == ("sent", None)
    [c] = await claim(any_db)
    assert await outbox.mark_dead(any_db, claim=c, error="channel_not_found")
    assert (await by_id(any_db, c.message.id or 0)).claimed_by is None


async def test_renew_leases_renews_what_is_still_held(any_db: Database) -> None:
    people_ = [await slack_person(any_db, f"p{i}", f"U{i}") for i in range(3)]
    for p in people_:
        await enqueue_texts(any_db, p, ["hello"])
    mine = await claim(any_db)
    assert len(mine) == 3
    # One lease runs out and another dispatcher takes that message.
    later = NOW + dt.timedelta(seconds=LEASE + 1)
    lost = mine[0]
    await outbox.renew_leases(
        any_db,
        claimed_by="t",
        held=[(c.message.id or 0, c.attempts) for c in mine[1:]],
        now=later - dt.timedelta(seconds=2),
        lease_seconds=LEASE,
    )
    [taken] = await outbox.claim_due_batch(
        any_db, now=later, limit=10, lease_seconds=LEASE, platforms=["slack"], claimed_by="u"
    )
    assert taken.message.id == lost.message.id
    assert taken.previous_claimer == "t"
    still = await outbox.renew_leases(
        any_db,
        claimed_by="t",
        held=[(c.message.id or 0, c.attempts) for c in mine],
        now=later,
        lease_seconds=LEASE,
    )
    assert still == {c.message.id for c in mine[1:]}
    for c in mine[1:]:
        m = await by_id(any_db, c.message.id or 0)
        assert m.next_attempt_at == later + dt.timedelta(seconds=LEASE)
    assert (await by_id(any_db, lost.message.id or 0)).claimed_by == "u"  # untouched


async def test_release_claims_hands_back_all_but_the_kept(any_db: Database) -> None:
    people_ = [await slack_person(any_db, f"p{i}", f"U{i}") for i in range(3)]
    for p in people_:
        await enqueue_texts(any_db, p, ["hello"])
    mine = await claim(any_db, limit=2)
    [theirs] = await outbox.claim_due_batch(
        any_db, now=NOW, limit=10, lease_seconds=LEASE, platforms=["slack"], claimed_by="u"
    )
    keep = mine[0].message.id or 0
    assert await outbox.release_claims(any_db, claimed_by="t", keep=[keep], now=NOW) == 1
    back = await by_id(any_db, mine[1].message.id or 0)
    assert (back.claimed_by, back.attempts, back.next_attempt_at) == (None, 0, NOW)
    kept = await by_id(any_db, keep)
    assert (kept.claimed_by, kept.attempts) == ("t", 1)
    assert (await by_id(any_db, theirs.message.id or 0)).claimed_by == "u"
    # Handed back untried: claimed again at once, and not as "unresolved".
    [again] = await claim(any_db)
    assert again.message.id == back.id
    assert not again.unresolved_before


async def test_take_over_false_leaves_expired_claims_and_their_targets(any_db: Database) -> None:
    a = await slack_person(any_db, "ann", "U1")
    b = await slack_person(any_db, "bob", "U2")
    await enqueue_texts(any_db, a, ["a1", "a2"])
    await enqueue_texts(any_db, b, ["b1"])
    [first] = await outbox.claim_due_batch(
        any_db, now=NOW, limit=1, lease_seconds=LEASE, platforms=["slack"], claimed_by="dead"
    )
    assert texts([first]) == ["a1"]
    later = NOW + dt.timedelta(seconds=LEASE + 1)
    settling = await outbox.claim_due_batch(
        any_db,
        now=later,
        limit=10,
        lease_seconds=LEASE,
        platforms=["slack"],
        claimed_by="t",
        take_over=False,
    )
    assert texts(settling) == ["b1"]  # neither a1 (its lease ran out) nor a2 behind it
    [taken] = await claim(any_db, now=later)
    assert texts([taken]) == ["a1"]
    assert taken.previous_claimer == "dead"


async def test_reserve_rate_is_a_shared_bucket(any_db: Database) -> None:
    interval, burst = 0.1, 3.0  # 10/s, bursts of 3
    t0 = 1_000_000.0

    async def reserve(now: float, n: int, key: str = "slack:0") -> list[float]:
        first = await outbox.reserve_rate(
            any_db, key=key, now=now, count=n, interval=interval, burst=burst
        )
        return [round(first + i * interval, 6) for i in range(n)]

    # A full bucket: the burst is free at once, then one slot per interval.
    assert await reserve(t0, 2) == [t0 - 0.2, t0 - 0.1]
    assert await reserve(t0, 2) == [t0, t0 + 0.1]  # another dispatcher, same moment
    assert await reserve(t0, 1) == [t0 + 0.2]
    assert await reserve(t0, 1, key="teams:0") == [t0 - 0.2]  # budgets are separate
    # Idle for a while: full again, never more than the burst saved up.
    assert await reserve(t0 + 60, 4) == [t0 + 59.8, t0 + 59.9, t0 + 60.0, t0 + 60.1]


async def test_concurrent_reservations_get_disjoint_slots(concurrent_db: Database) -> None:
    interval = 0.05

    async def reserve() -> float:
        return await outbox.reserve_rate(
            concurrent_db, key="slack:0", now=5_000.0, count=5, interval=interval, burst=20
        )

    firsts = sorted(await asyncio.gather(*(reserve() for _ in range(8))))
    slots = [round(f + i * interval, 6) for f in firsts for i in range(5)]
    assert len(set(slots)) == 40  # 8 x 5 slots, none given twice
    assert slots == sorted(slots)
    assert max(slots) - min(slots) == pytest.approx(39 * interval)
