"""Reaching people imported by email: users.lookupByEmail pacing, and `leadbot slack sync`.

Run by hand:

    .venv/bin/python benchmarks/reach.py [--people 1000] [--users 5000] [--database-url URL]

1. Lookups: `--people` people with no Slack id, one DM each, through the real dispatcher
   and SlackSender to the loopback fake Slack (tests/bot/slack/fake_slack.py). Time is
   virtual: the sender's lookup budget (LOOKUP_RATE, shared through the database) sleeps
   on a clock that jumps instead of waiting, and the fake stamps each call with it, so
   the run shows the pace Slack would see (total time, the most lookups in any 60 s) in
   seconds of real CPU. The dispatcher's own send limits are off here (they are measured
   by benchmarks/fanout.py): only the lookup pace is under test. A message whose lookup
   would queue longer than LOOKUP_MAX_WAIT_SECONDS is handed back and tried when due.
   Floor: (N - 1) x the budget's interval, the least time that pace allows.
2. Sync: `--users` Slack users and as many people on the roster, all by email; `leadbot
   slack sync` lists them (users.list, 200 a page, one page every PAGE_INTERVAL s of
   virtual time: Tier 2) and maps everyone in one transaction. Reported: the virtual
   (Slack-paced) time, the floor of that pace ((pages - 1) x PAGE_INTERVAL), and the real
   time the run took (HTTP to the fake plus the mapping) next to its floor: the same
   pages listed alone, in the same run. Twice: with no messages waiting, and with one
   waiting for every person (day one, messages queued before the sync).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import sync as slack_sync
from bot.slack.sender import LOOKUP_RATE, SlackSender
from domain.types import message
from jobs.dispatcher import Dispatcher, DispatcherConfig, PlatformLimits
from storage import outbox
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.models import OutboxStatus, Person
from storage.outbox import OutboxNew
from tests.bot.slack.fake_slack import FakeSlack


class VirtualClock:
    """Epoch seconds that move only when something sleeps on them."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def utc(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now, dt.UTC)

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def max_per_minute(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    best = j = 0
    for i, t in enumerate(stamps):
        while stamps[j] <= t - 60.0:
            j += 1
        best = max(best, i - j + 1)
    return best


async def fresh(url: str | None, tmp: Path, name: str) -> Database:
    db = Database(url or f"sqlite+aiosqlite:///{tmp / name}")
    await db.create_all()
    await ensure_reference_data(db)
    db.unmapped_platform = "slack"
    return db


async def roster(db: Database, n: int, prefix: str) -> list[int]:
    async with db.session() as s:
        people = [
            Person(email=f"{prefix}{i}@example.com", display_name=f"Person {i}") for i in range(n)
        ]
        s.add_all(people)
        await s.flush()
        return [p.id or 0 for p in people]


async def lookups(url: str | None, tmp: Path, n: int) -> None:
    db = await fresh(url, tmp, "lookups.db")
    clock = VirtualClock()
    fake = FakeSlack(users={f"U{i:06d}": f"p{i}@example.com" for i in range(n)}, clock=clock)
    await fake.start()
    ids = await roster(db, n, "p")
    await outbox.enqueue(
        db,
        messages=[
            OutboxNew(dedupe_key=f"m{pid}", payload=message("hi").to_json(), person_id=pid)
            for pid in ids
        ],
    )
    sender = SlackSender(
        AsyncWebClient(token="xoxb-test", base_url=fake.api_url),
        db,
        wall=clock,
        sleep=clock.sleep,
    )
    no_limits = {"slack": PlatformLimits(app=(), per_target=())}
    d = Dispatcher(
        db,
        {"slack": sender},
        # 40 at a time: what `run()` keeps in flight at Slack's default 20/s (2 s ahead).
        config=DispatcherConfig(limits=no_limits, lease_seconds=3600, batch_size=40),
        clock=clock.utc,
        wall=clock,
        sleep=clock.sleep,
    )
    start_v, start_r = clock(), time.perf_counter()
    # Messages handed back (a lookup queue too long) are due again later: drain, then
    # move the clock on to the next one due, until none is left.
    while True:
        await d.drain()
        waiting = await outbox.list_messages(db, limit=1)
        if not waiting:
            break
        due = waiting[0].next_attempt_at.timestamp()
        clock.now = max(clock.now, due) + 0.001
    virtual, real = clock() - start_v, time.perf_counter() - start_r
    stamps = [c.at for c in fake.of("users.lookupByEmail")]
    sent = len(fake.of("chat.postMessage"))
    left = len(await outbox.list_messages(db, status=OutboxStatus.pending, limit=n))
    interval = LOOKUP_RATE.per_seconds / LOOKUP_RATE.count
    floor = (n - 1) * interval
    print(
        f"lookups: {n} people, {len(stamps)} lookups, {sent} DMs sent, {left} left | "
        f"Slack-paced time {virtual:,.0f} s (floor {floor:,.0f} s at "
        f"{LOOKUP_RATE.count:g}/min, ratio {virtual / floor:.3f}) | "
        f"max {max_per_minute(stamps)} lookups in any 60 s | real {real:.1f} s"
    )
    await sender.close()
    await fake.close()
    await db.dispose()


async def sync(url: str | None, tmp: Path, n: int, *, waiting: bool) -> None:
    db = await fresh(url, tmp, f"sync-{waiting}.db")
    clock = VirtualClock()
    fake = FakeSlack(users={f"U{i:06d}": f"s{i}@example.com" for i in range(n)}, clock=clock)
    await fake.start()
    ids = await roster(db, n, "s")
    if waiting:  # day one: a message already waits for every person
        await outbox.enqueue(
            db,
            messages=[
                OutboxNew(dedupe_key=f"w{pid}", payload=message("hi").to_json(), person_id=pid)
                for pid in ids
            ],
        )
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    # Floor: listing the same pages alone (HTTP to the fake, no mapping).
    t0 = time.perf_counter()
    await slack_sync.list_users(client, sleep=clock.sleep, monotonic=clock)
    list_only = time.perf_counter() - t0
    fake.calls.clear()
    start_v, start_r = clock(), time.perf_counter()
    result, listed = await slack_sync.sync(db, client, sleep=clock.sleep, monotonic=clock)
    virtual, real = clock() - start_v, time.perf_counter() - start_r
    pages = len(fake.of("users.list"))
    floor = (pages - 1) * slack_sync.PAGE_INTERVAL
    print(
        f"sync: {listed} users in {pages} pages of {slack_sync.PAGE_SIZE}, "
        f"{len(result.mapped)} mapped, {result.requeued} waiting messages re-targeted | "
        f"Slack-paced time {virtual:.0f} s (floor {floor:.0f} s "
        f"at {60 / slack_sync.PAGE_INTERVAL:g} pages/min) | "
        f"max {max_per_minute([c.at for c in fake.of('users.list')])} pages in any 60 s | "
        f"real {real:.1f} s (listing alone {list_only:.1f} s)"
    )
    await fake.close()
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: a SQLite file)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await lookups(args.database_url, Path(tmp), args.people)
        await sync(args.database_url, Path(tmp), args.users, waiting=False)
        await sync(args.database_url, Path(tmp), args.users, waiting=True)


if __name__ == "__main__":
    asyncio.run(main())
