"""The dispatcher's rate limits, backoff and run loop (with an in-memory fake sender)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random

import pytest

from domain.types import Reply
from jobs.delivery import SendResult
from jobs.dispatcher import (
    DEFAULT_LIMITS,
    Dispatcher,
    DispatcherConfig,
    PlatformLimits,
    Rate,
    SharedBudget,
    TokenBucket,
    limits_with,
)
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import FakeClock
from tests.jobs.helpers import delivery_db, enqueue_texts, slack_person
from tests.jobs.test_multiprocess import wait_for, wait_for_async

__all__ = ["delivery_db"]

FAST = {"slack": PlatformLimits(app=(Rate(10_000),), per_target=(Rate(10_000),))}


class Mono:
    """A fake monotonic clock whose sleep moves it instead of waiting."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


class FakeSender:
    platform = "slack"

    def __init__(self, results: list[SendResult] | None = None) -> None:
        self.sent: list[tuple[str, str, float]] = []
        self.results = list(results or [])
        self.mono: Mono | None = None

    async def send(self, message: OutboxMessage, reply: Reply) -> SendResult:
        if self.results:
            return self.results.pop(0)
        self.sent.append((message.target, reply.fallback, self.mono() if self.mono else 0.0))
        return SendResult.sent(f"ts{len(self.sent)}")


def test_token_bucket_burst_then_steady_rate() -> None:
    mono = Mono()
    b = TokenBucket(Rate(7, 1.0), mono)
    waits = [b.reserve() for _ in range(14)]
    assert waits[:7] == [0.0] * 7  # Teams: a burst of 7 in a second
    expected = [i / 7 for i in range(1, 8)]  # then one every 1/7 s, queued
    assert all(abs(w - e) < 1e-9 for w, e in zip(waits[7:], expected, strict=True))
    mono.t += 100
    assert b.idle()


def test_limits_live_in_one_place_and_are_configurable() -> None:
    assert DEFAULT_LIMITS["teams"].per_target == (Rate(7, 1.0), Rate(60, 30.0))
    assert DEFAULT_LIMITS["teams"].app == (Rate(50, 1.0),)
    assert DEFAULT_LIMITS["slack"].per_target == (Rate(1, 1.0),)
    custom = limits_with(slack_rate=100, slack_channel_rate=2)
    assert custom["slack"] == PlatformLimits(app=(Rate(100, 1.0),), per_target=(Rate(2, 1.0),))
    assert custom["teams"] == DEFAULT_LIMITS["teams"]


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    d = Dispatcher(
        None,  # type: ignore[arg-type]
        {},
        config=DispatcherConfig(backoff_base_seconds=2, backoff_cap_seconds=60),
        rng=random.Random(3),
    )
    for attempts, base in [(1, 2), (2, 4), (3, 8), (4, 16), (10, 60)]:
        waits = {d.backoff(attempts) for _ in range(20)}
        assert all(base / 2 <= w <= base for w in waits)
        assert len(waits) > 1  # jittered: retries of many messages do not line up


def future_clock() -> FakeClock:
    return FakeClock(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))


async def test_one_message_per_second_per_slack_channel(delivery_db: Database) -> None:
    db = delivery_db
    mono = Mono()
    a = await slack_person(db, "a", "C1")
    b = await slack_person(db, "b", "C2")
    await enqueue_texts(db, a, ["a1", "a2", "a3"])
    await enqueue_texts(db, b, ["b1", "b2", "b3"])
    sender = FakeSender()
    sender.mono = mono
    d = Dispatcher(
        db,
        {"slack": sender},
        config=DispatcherConfig(limits=DEFAULT_LIMITS),
        clock=future_clock(),
        monotonic=mono,
        sleep=mono.sleep,
    )
    await d.drain()
    by_target: dict[str, list[float]] = {}
    for target, _text, at in sender.sent:
        by_target.setdefault(target, []).append(at)
    for times in by_target.values():
        gaps = [y - x for x, y in itertools.pairwise(times)]
        assert all(g >= 0.999 for g in gaps), gaps
    assert [t for t, _, _ in sender.sent if t == "C1"] == ["C1"] * 3


async def test_unreadable_payload_goes_dead(delivery_db: Database) -> None:
    db = delivery_db
    a = await slack_person(db, "a", "U1")
    await enqueue_texts(db, a, ["fine"])
    await outbox.enqueue(
        db,
        messages=[outbox.OutboxNew(dedupe_key="broken", payload="{not json", person_id=a.id)],
    )
    sender = FakeSender()
    d = Dispatcher(
        db, {"slack": sender}, config=DispatcherConfig(limits=FAST), clock=future_clock()
    )
    await d.drain()
    [dead] = await outbox.list_messages(db, status=OutboxStatus.dead)
    assert dead.dedupe_key == "broken"
    assert (dead.last_error or "").startswith("unreadable payload")
    assert [t for _, t, _ in sender.sent] == ["fine"]


async def test_sender_exception_is_retried_not_lost(delivery_db: Database) -> None:
    db = delivery_db
    a = await slack_person(db, "a", "U1")
    await enqueue_texts(db, a, ["x"])

    class Boom(FakeSender):
        calls = 0

        async def send(self, message: OutboxMessage, reply: Reply) -> SendResult:
            self.calls += 1
            if self.calls == 1:
                raise ConnectionResetError("peer reset")
            return await super().send(message, reply)

    clock = future_clock()
    sender = Boom()
    d = Dispatcher(db, {"slack": sender}, config=DispatcherConfig(limits=FAST), clock=clock)
    await d.drain()
    [m] = await outbox.list_messages(db, status=OutboxStatus.pending)
    assert "ConnectionResetError" in (m.last_error or "")
    clock.advance(seconds=60)
    await d.drain()
    assert [t for _, t, _ in sender.sent] == ["x"]


async def test_run_loop_sends_and_stops_cleanly(delivery_db: Database) -> None:
    db = delivery_db
    for i in range(5):
        p = await slack_person(db, f"p{i}", f"U{i}")
        await enqueue_texts(db, p, [f"m{i}-0", f"m{i}-1"])
    sender = FakeSender()
    d = Dispatcher(
        db,
        {"slack": sender, "console": FakeSender()},
        config=DispatcherConfig(limits=FAST, poll_seconds=0.01, max_in_flight=4, batch_size=4),
        clock=future_clock(),
    )
    assert d.platforms == ["slack"]  # console rows are never sent
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop))
    async with asyncio.timeout(20):
        while (await outbox.counts(db))["pending"]:
            d.wake()
            await asyncio.sleep(0.01)
    stop.set()
    await task
    assert len(sender.sent) == 10
    for i in range(5):
        assert [t for tg, t, _ in sender.sent if tg == f"U{i}"] == [f"m{i}-0", f"m{i}-1"]


async def test_bucket_acquire_never_bursts_past_capacity_after_a_stall() -> None:
    mono = Mono()
    b = TokenBucket(Rate(10, 1.0, burst=2), mono)
    for _ in range(2):
        await b.acquire(mono.sleep)
    assert mono.slept == []  # the burst
    await b.acquire(mono.sleep)
    assert mono.slept == [pytest.approx(0.1)]
    mono.t += 60  # the event loop stalled for a minute
    for _ in range(4):
        await b.acquire(mono.sleep)
    assert len(mono.slept) == 3  # two went at once (capacity), then one per 0.1 s


async def test_a_targets_spacing_counts_from_the_send() -> None:
    """Slack's 1 a second per channel: a message that waited 0.6 s for the app-wide budget
    after taking its channel's token leaves the next one a full second after it."""
    mono = Mono()
    channel = TokenBucket(Rate(1, 1.0), mono)
    await channel.acquire(mono.sleep)
    mono.t += 0.6  # the wait for the workspace's budget
    channel.used_now()  # sent now
    await channel.acquire(mono.sleep)
    assert mono.t == pytest.approx(1001.6)
    # Without waiting in between, the spacing stays the rate's.
    channel.used_now()
    await channel.acquire(mono.sleep)
    assert mono.t == pytest.approx(1002.6)


class Wall:
    """A fake epoch clock whose sleep moves it (for the shared budget)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


async def test_shared_budget_keeps_two_dispatchers_within_one_rate(
    delivery_db: Database,
) -> None:
    wall = Wall(1_700_000_000.0)
    rate = Rate(10, 1.0, burst=4)
    # Two dispatchers' budgets for the same workspace, on the same database.
    a, b = (SharedBudget(delivery_db, "slack:0", rate, wall=wall, sleep=wall.sleep) for _ in "ab")
    times = []
    for i in range(40):
        await (a if i % 3 else b).acquire()
        times.append(wall())
    # In any one second: at most the burst plus the rate; over all, the rate.
    for t in times:
        assert sum(1 for u in times if t <= u < t + 1 - 1e-3) <= 4 + 10
    assert times[-1] - times[0] >= (40 - 4) / 10 - 1e-3  # (float epoch seconds)
    assert a.reservations + b.reservations >= 40 // a.block
    # Each on its own bucket (SHARED_RATE off) the two would have sent twice as fast.
    mono = Mono()
    local = [TokenBucket(rate, mono) for _ in "ab"]
    for i in range(40):
        await local[i % 2].acquire(mono.sleep)
    assert mono() - 1000.0 < (40 - 4) / 10 / 1.5


async def test_a_claim_lost_before_sending_is_not_sent(delivery_db: Database) -> None:
    db = delivery_db
    a = await slack_person(db, "a", "U1")
    await enqueue_texts(db, a, ["x", "y"])
    clock = future_clock()
    mono = Mono()
    taken: list[outbox.Claim] = []

    async def slow(seconds: float) -> None:
        # While "y" waits for its target's rate (one a second, after "x"), its lease runs
        # out and another dispatcher claims it.
        await mono.sleep(seconds)
        clock.advance(seconds=120)
        taken.extend(
            await outbox.claim_due_batch(
                db, now=clock(), limit=5, lease_seconds=10, platforms=["slack"], claimed_by="b"
            )
        )

    sender = FakeSender()
    limits = {"slack": PlatformLimits(app=(), per_target=(Rate(1, 1.0),))}
    d = Dispatcher(
        db,
        {"slack": sender},
        config=DispatcherConfig(limits=limits, lease_seconds=10),
        clock=clock,
        monotonic=mono,
        sleep=slow,
        name="a",
    )
    assert await d.run_once() == 1
    assert [t for _, t, _ in sender.sent] == ["x"]
    assert taken == []
    assert await d.run_once() == 1
    assert [t for _, t, _ in sender.sent] == ["x"]  # "y" not sent: the claim was lost
    assert d.stats.lost_claims == 1
    [c] = taken
    assert c.previous_claimer == "a"
    m = await outbox.get_message(db, message_id=c.message.id or 0)
    assert m is not None
    assert (m.claimed_by, m.attempts) == ("b", 2)


async def test_claims_no_more_than_the_rate_sends_in_claim_ahead_seconds(
    delivery_db: Database,
) -> None:
    db = delivery_db
    for i in range(60):
        p = await slack_person(db, f"p{i}", f"U{i}")
        await enqueue_texts(db, p, [f"m{i}"])
    release = asyncio.Event()

    class Held(FakeSender):
        async def send(self, message: OutboxMessage, reply: Reply) -> SendResult:
            await release.wait()
            return await super().send(message, reply)

    limits = {"slack": PlatformLimits(app=(Rate(10, burst=10),), per_target=(Rate(100),))}
    config = DispatcherConfig(limits=limits, poll_seconds=0.01, claim_ahead_seconds=2.0)
    d = Dispatcher(db, {"slack": Held()}, config=config, clock=future_clock(), name="ahead")
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop))
    await wait_for(lambda: d.stats.claimed >= 20, what=lambda: d.stats)
    await asyncio.sleep(0.3)  # (it would claim more now, if it were going to)
    pending = await outbox.list_messages(db, status=OutboxStatus.pending, limit=100)
    assert d.stats.claimed == 20  # 10/s for 2 s, though 200 may be in flight
    assert sum(1 for m in pending if m.claimed_by == "ahead") == 20
    assert len(pending) == 60
    release.set()

    async def drained() -> bool:
        return (await outbox.counts(db))["pending"] == 0

    await wait_for_async(drained, what=lambda: d.stats)
    stop.set()
    await task
    assert d.stats.sent == 60
