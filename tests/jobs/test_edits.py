"""Edits through the outbox: an "update" row edits the message its original row posted
(chat.update with that message's ts), one edit waits per message at most, and the
dispatcher keeps within chat.update's limit against a fake that enforces it."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest

from bot.slack.sender import SlackSender
from domain.settings import Settings
from domain.types import message
from jobs.dispatcher import DEFAULT_LIMITS, Dispatcher, DispatcherConfig, PlatformLimits, Rate
from storage import edits, outbox, people
from storage.db import Database
from storage.edits import EditOutcome
from storage.models import OutboxStatus
from storage.outbox import OutboxNew
from tests.bot.live.fake_platform import LimitedSlack
from tests.conftest import FakeClock


class SimTime:
    """Simulated monotonic time: a sleep moves it to the sleeper's wake-up time (sleeps
    that overlap do not add up), so the dispatcher's waits take no real time."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t = max(self.t, self.t + max(seconds, 0.0))
        await asyncio.sleep(0)


@pytest.fixture
def sim() -> SimTime:
    return SimTime()


@pytest.fixture
async def slack(sim: SimTime) -> AsyncIterator[LimitedSlack]:
    fake = await LimitedSlack(clock=sim).start()
    yield fake
    await fake.close()


def dispatcher(db: Database, fake: LimitedSlack, sim: SimTime, clock: FakeClock) -> Dispatcher:
    sender = SlackSender.from_settings(
        Settings(_env_file=None, slack_bot_token="xoxb-test", slack_api_url=fake.url)
    )
    return Dispatcher(
        db,
        {"slack": sender},
        config=DispatcherConfig(),
        clock=clock,
        monotonic=sim,
        sleep=sim.sleep,
    )


async def _team_post(db: Database, n: int, clock: FakeClock) -> list[int]:
    ids = []
    for i in range(n):
        team = await people.create_team(db, name=f"Team {i}", timezone="UTC")
        assert team.id is not None
        await people.update_team(db, team_id=team.id, slack_channel_id=f"C{i:04d}")
        await outbox.enqueue(
            db,
            messages=[
                OutboxNew(
                    dedupe_key=f"p{i}", payload=message(f"post {i}").to_json(), team_id=team.id
                )
            ],
        )
    for m in await outbox.messages_after(db, after_id=0, limit=10_000):
        assert m.id is not None
        ids.append(m.id)
    return ids


async def deliver_all(d: Dispatcher, db: Database, clock: FakeClock) -> None:
    """Drain, moving the clock past retries, until nothing is pending."""
    for _ in range(50):
        await d.drain()
        if not await outbox.list_messages(db, status=OutboxStatus.pending):
            return
        clock.advance(seconds=30)
    raise AssertionError("messages still pending")


async def _edit(db: Database, original: int, text: str) -> EditOutcome:
    async with db.session() as s:
        return await edits.enqueue_edit_in(s, original_id=original, payload=message(text).to_json())


async def test_an_edit_goes_to_the_posted_message(
    concurrent_db: Database, slack: LimitedSlack, sim: SimTime
) -> None:
    db = concurrent_db
    clock = FakeClock(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    [post_id] = await _team_post(db, 1, clock)
    # Not sent yet: the edit changes the post itself.
    assert await _edit(db, post_id, "post 0, edited before it went out") is EditOutcome.folded
    d = dispatcher(db, slack, sim, clock)
    await d.drain()
    assert [p["text"] for p in slack.posts] == ["post 0, edited before it went out"]
    # Sent: edits are rows of kind "update"; a second edit while one waits replaces it.
    assert await _edit(db, post_id, "edit 1") is EditOutcome.queued
    assert await _edit(db, post_id, "edit 2") is EditOutcome.coalesced
    await d.drain()
    for sender in d.senders.values():
        await sender.close()  # type: ignore[attr-defined]
    [(_, body)] = slack.updates
    assert (body["channel"], body["ts"], body["text"]) == ("C0000", "1700000000.000001", "edit 2")
    rows = await outbox.messages_after(db, after_id=0)
    assert [(m.kind, m.status) for m in rows] == [
        ("message", OutboxStatus.sent),
        ("update", OutboxStatus.sent),
    ]


async def test_a_lost_original_is_reported(concurrent_db: Database) -> None:
    assert await _edit(concurrent_db, 12345, "nothing to edit") is EditOutcome.lost


async def test_edits_never_break_chat_update_limit(concurrent_db: Database) -> None:
    # Time scaled down 20 times: chat.update's minute is 3 s here, in the fake and in the
    # dispatcher's limit alike; everything else is as in production.
    db = concurrent_db
    clock = FakeClock(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    fake = await LimitedSlack(update_window=3.0).start()
    posts = await _team_post(db, 120, clock)
    limits = dict(DEFAULT_LIMITS)
    limits["slack:update"] = PlatformLimits(app=(Rate(40, 3.0, burst=5),), per_target=())
    sender = SlackSender.from_settings(
        Settings(_env_file=None, slack_bot_token="xoxb-test", slack_api_url=fake.url)
    )
    d = Dispatcher(db, {"slack": sender}, config=DispatcherConfig(limits=limits), clock=clock)
    try:
        await deliver_all(d, db, clock)
        assert len(fake.posts) == 120
        for p in posts:
            await _edit(db, p, f"edit of {p}")
        start = time.monotonic()
        await deliver_all(d, db, clock)
    finally:
        await sender.close()
        await fake.close()
    assert len(fake.updates) == 120
    assert fake.violations == 0
    times = [t for t, _ in fake.updates]
    # 40 a "minute" with bursts of 5: 120 edits take almost three of them.
    assert times[-1] - start >= 3.0 * (120 - 5) / 40 - 0.2
    assert all(sum(1 for u in times if t - 3.0 < u <= t) <= 45 for t in times)
