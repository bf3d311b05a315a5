"""Outbox claims, leases and results (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt

from storage import outbox
from storage.db import Database
from storage.models import OutboxStatus
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
