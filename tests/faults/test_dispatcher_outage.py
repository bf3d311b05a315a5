"""PostgreSQL going away in the middle of a fan-out (issue: "the dispatcher keeps sending
while it can't record").

The real Dispatcher and SlackSender, the loopback fake Slack, and the product's Database
connected to CI's PostgreSQL through a TCP proxy that the test cuts. Two ways down:
- "reset": the proxy resets every connection right before a group commit (an UPDATE
  marking messages sent) reaches the server, and refuses new ones: messages Slack has
  accepted are waiting to be recorded at the cut;
- "shutdown": what `pg_ctl stop` does on the wire: the real server terminates the
  dispatcher's connections (57P01), new ones are answered "the database system is
  shutting down" (57P03), then nothing listens.

The leases are 300 s long here, so a delivery that resumes in seconds cannot have waited
for one. What must hold: nothing is sent while the database is away (no send starts
after the dispatcher noticed), what Slack accepted is recorded once it is back and never
sent again (0 duplicates), every message arrives once and in order, and the log has one
warning when delivery pauses and one when it resumes: no tracebacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from bot.slack.sender import SlackSender
from domain.settings import Settings
from domain.types import Reply
from jobs.delivery import SendResult
from jobs.dispatcher import Dispatcher, DispatcherConfig, PlatformLimits, Rate
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage
from tests.bot.fake_slack_web import FakeSlackWeb
from tests.faults.tcp_proxy import TcpProxy
from tests.faults.test_database_down import Cutter, Proxied, _via, proxied
from tests.jobs.helpers import enqueue_texts, slack_person
from tests.jobs.test_multiprocess import wait_for, wait_for_async

__all__ = ["proxied"]

pytestmark = pytest.mark.postgres

AGENTS = 40
PER_AGENT = 2


class RecordingSender:
    """The real Slack sender, with a count of the sends started (test instrumentation)."""

    platform = "slack"

    def __init__(self, inner: SlackSender) -> None:
        self.inner = inner
        self.calls = 0

    async def send(self, message: OutboxMessage, reply: Reply) -> SendResult:
        self.calls += 1
        return await self.inner.send(message, reply)


class LogWatch(logging.Handler):
    """Every log record, with the number of sends started when it was emitted."""

    def __init__(self, sender: RecordingSender) -> None:
        super().__init__(logging.DEBUG)
        self.sender = sender
        self.records: list[tuple[logging.LogRecord, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record, self.sender.calls))

    def dispatcher_warnings(self, needle: str) -> list[tuple[logging.LogRecord, int]]:
        return [
            (r, calls)
            for r, calls in self.records
            if r.name == "jobs.dispatcher"
            and r.levelno == logging.WARNING
            and needle in r.getMessage()
        ]


async def terminate_backends(direct: Database, ports: list[int]) -> int:
    """pg_terminate_backend on the backends behind the proxy (the server's 57P01): this
    test's database only (other suites may share the server), never this connection.
    The backends are picked first and terminated after: in one WHERE, PostgreSQL may
    call pg_terminate_backend before the other conditions have ruled a row out."""
    async with direct.session() as s:
        pids = (
            await s.scalars(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND client_port = ANY(:ports)"
                ),
                {"ports": ports},
            )
        ).all()
        done = (
            await s.scalars(
                sa.text("SELECT pg_terminate_backend(p) FROM unnest(CAST(:pids AS int[])) AS p"),
                {"pids": list(pids)},
            )
        ).all()
    return sum(1 for ok in done if ok)


def per_outbox_id(fake: FakeSlackWeb) -> Counter[int]:
    return Counter(int(m["metadata"]["event_payload"]["outbox_id"]) for m in fake.delivered)


@pytest.mark.parametrize("mode", ["reset", "shutdown"])
async def test_database_outage_mid_fanout(proxied: Proxied, mode: str) -> None:
    p = proxied
    expected: dict[str, list[str]] = {}
    for i in range(AGENTS):
        person = await slack_person(p.direct, f"agent{i}", f"U{i:03d}")
        expected[f"U{i:03d}"] = [f"U{i:03d}-{n}" for n in range(PER_AGENT)]
        await enqueue_texts(p.direct, person, expected[f"U{i:03d}"])
    total = AGENTS * PER_AGENT
    fake = await FakeSlackWeb().start()
    settings = Settings(_env_file=None, slack_bot_token="xoxb-test", slack_api_url=fake.url)
    sender = RecordingSender(SlackSender.from_settings(settings))
    config = DispatcherConfig(
        batch_size=20,
        max_in_flight=20,
        lease_seconds=300.0,  # resuming in seconds proves no lease was waited out
        poll_seconds=0.05,
        probe_seconds=0.1,
        limits={"slack": PlatformLimits(app=(Rate(60, burst=5),), per_target=(Rate(100),))},
    )
    dispatcher = Dispatcher(p.db, {"slack": sender}, config=config, name="outage-test")
    watch = LogWatch(sender)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(watch)
    root.setLevel(logging.DEBUG)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        await wait_for(lambda: len(fake.delivered) >= 25, what=lambda: len(fake.delivered))
        if mode == "reset":
            cutter = Cutter(p.db, p.proxy)
            cutter.arm(pattern=r"^UPDATE outboxmessage SET status")
            await wait_for(lambda: cutter.fired_on is not None)
        else:
            p.proxy.shutting_down()
            assert await terminate_backends(p.direct, p.proxy.upstream_ports()) >= 1
        await wait_for(lambda: watch.dispatcher_warnings("paused"), what=lambda: watch.records)
        [(_paused, calls_at_pause)] = watch.dispatcher_warnings("paused")
        # Down for a while (for "shutdown": refusing, then not listening at all).
        await asyncio.sleep(1.0)
        if mode == "shutdown":
            p.proxy.cut()
        await asyncio.sleep(0.5)
        # Nothing was sent while it was away: no send started after the pause, and Slack
        # accepted exactly the sends that were in flight when it came.
        assert sender.calls == calls_at_pause
        accepted_while_down = len(fake.delivered)
        assert accepted_while_down == calls_at_pause
        recorded_while_down = (await outbox.counts(p.direct))["sent"]
        if mode == "reset":  # the cut fell on a group commit: accepted, not yet recorded
            assert recorded_while_down < accepted_while_down
        assert accepted_while_down < total

        await p.proxy.restore()

        async def all_recorded() -> bool:
            if len(fake.delivered) < total:
                return False
            return (await outbox.counts(p.direct))["pending"] == 0

        await wait_for_async(
            all_recorded, what=lambda: (len(fake.delivered), dispatcher.stats), seconds=60
        )
    finally:
        stop.set()
        await task
        root.removeHandler(watch)
        root.setLevel(old_level)
        await sender.inner.close()
        await fake.close()

    # Every message once (0 duplicates, the ones accepted during the outage included),
    # each person's in order, and all recorded as sent.
    counts = per_outbox_id(fake)
    assert len(counts) == total
    assert set(counts.values()) == {1}, {i: n for i, n in counts.items() if n > 1}
    assert fake.channels() == expected
    assert await outbox.counts(p.direct) == {"pending": 0, "sent": total, "dead": 0}
    assert dispatcher.stats.outages == 1
    assert dispatcher.stats.resent == 0
    if mode == "reset":
        assert dispatcher.stats.recorded_late >= 1
    # The log: one warning when delivery paused, one when it resumed (after the database
    # was back), sends again only after that, and not a single traceback.
    [(resumed, calls_at_resume)] = watch.dispatcher_warnings("resumed")
    assert calls_at_resume == calls_at_pause
    assert len(watch.dispatcher_warnings("paused")) == 1
    tracebacks: list[Any] = [
        (r.name, r.getMessage()) for r, _ in watch.records if r.exc_info or r.exc_text
    ]
    assert tracebacks == []
    db_warnings = [
        r.getMessage()
        for r, _ in watch.records
        if r.name.startswith("storage") and r.levelno >= logging.WARNING
    ]
    assert len(db_warnings) <= 1, db_warnings  # "database unavailable", once
    assert "answered again" in resumed.getMessage()


@pytest.mark.parametrize("settle", [5.0, 0.0])
async def test_two_dispatchers_back_from_an_outage(proxied: Proxied, settle: float) -> None:
    """Two dispatchers, each through its own proxy, lose the database together, for longer
    than their 1 s leases, right as A commits messages Slack accepted. B gets it back
    first (its proxy is restored first), A a second after B resumed.

    settle=5: B leaves rows whose lease ran out under A's claim alone for 5 s after its
    return; A records its deliveries meanwhile: nothing is sent twice.
    settle=0 (the at-least-once edge): B takes over A's expired claims at once and sends
    again what A had sent but not recorded: never more than that one group of messages."""
    p = proxied
    agents, per = 30, 2
    expected: dict[str, list[str]] = {}
    for i in range(agents):
        person = await slack_person(p.direct, f"agent{i}", f"U{i:03d}")
        expected[f"U{i:03d}"] = [f"U{i:03d}-{n}" for n in range(per)]
        await enqueue_texts(p.direct, person, expected[f"U{i:03d}"])
    total = agents * per
    fake = await FakeSlackWeb().start()
    settings = Settings(_env_file=None, slack_bot_token="xoxb-test", slack_api_url=fake.url)
    senders = [RecordingSender(SlackSender.from_settings(settings)) for _ in "ab"]
    proxy_b = await TcpProxy(*p.proxy.upstream).start()
    db_b = Database(_via(p.db.url, proxy_b.port))
    limits = {"slack": PlatformLimits(app=(Rate(60, burst=5),), per_target=(Rate(100),))}

    def config(settle_seconds: float) -> DispatcherConfig:
        return DispatcherConfig(
            batch_size=10,
            max_in_flight=10,
            lease_seconds=1.0,
            poll_seconds=0.05,
            probe_seconds=0.1,
            settle_seconds=settle_seconds,
            limits=limits,
        )

    a = Dispatcher(p.db, {"slack": senders[0]}, config=config(5.0), name="A")
    b = Dispatcher(db_b, {"slack": senders[1]}, config=config(settle), name="B")
    watch = LogWatch(senders[0])
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(watch)
    root.setLevel(logging.INFO)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(d.run(stop)) for d in (a, b)]
    unsure: list[int] = []
    fired: list[str] = []

    def cut_both_on_a_group_commit(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if not fired and statement.lstrip().startswith("UPDATE outboxmessage SET status"):
            fired.append(statement)
            p.proxy.cut()
            proxy_b.cut()

    try:
        await wait_for(lambda: len(fake.delivered) >= 15, what=lambda: len(fake.delivered))
        sa.event.listen(
            p.db.engine.sync_engine, "before_cursor_execute", cut_both_on_a_group_commit
        )
        await wait_for(lambda: bool(fired))
        await wait_for(lambda: not a.database_up)
        await asyncio.sleep(2.0)  # longer than the leases: every claim has run out
        unsure = a.unrecorded  # accepted by Slack, not recorded (the sends in flight too)
        assert unsure
        await proxy_b.restore()
        await wait_for(lambda: b.database_up and b.stats.outages == 1, what=lambda: b.stats)
        if settle:
            await asyncio.sleep(1.0)  # B sends what nobody holds, and none of A's
            assert b.stats.resent == 0
        else:  # B sends A's unrecorded messages again
            await wait_for(
                lambda: all(per_outbox_id(fake)[i] == 2 for i in unsure), what=lambda: b.stats
            )
        assert not a.database_up
        await p.proxy.restore()

        async def all_recorded() -> bool:
            if len({m["text"] for m in fake.delivered}) < total:
                return False
            return (await outbox.counts(p.direct))["pending"] == 0

        await wait_for_async(all_recorded, what=lambda: (a.stats, b.stats), seconds=60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        root.removeHandler(watch)
        root.setLevel(old_level)
        for s in senders:
            await s.inner.close()
        await fake.close()
        await proxy_b.restore()
        await db_b.dispose()
        await proxy_b.close()

    counts = per_outbox_id(fake)
    twice = sum(n - 1 for n in counts.values())
    assert len(counts) == total
    assert await outbox.counts(p.direct) == {"pending": 0, "sent": total, "dead": 0}
    assert a.stats.recorded_late == len(unsure)
    firsts: dict[str, list[str]] = {}
    for m in fake.delivered:  # each person's messages in order (first arrivals)
        seen = firsts.setdefault(m["channel"], [])
        if m["text"] not in seen:
            seen.append(m["text"])
    assert firsts == expected
    if settle:
        assert twice == 0, counts
        assert b.stats.resent == 0
    else:
        assert b.stats.resent >= len(unsure)
        assert twice == len(unsure), (counts, unsure)  # those, and nothing else


async def test_a_database_that_hangs_stops_sending_within_the_record_lag(
    proxied: Proxied,
) -> None:
    """The network to PostgreSQL stops carrying packets (nothing fails, a write just
    never returns) right as a group commit goes out. Sending stops once a delivery has
    waited `max_record_lag_seconds` to be recorded, so what a crash could then send twice
    stays small; when the network flows again everything is recorded, once. (The shared
    budget would stop sends on its own next reservation: it is off here, to show this.)"""
    p = proxied
    total = 120
    for i in range(total):
        person = await slack_person(p.direct, f"agent{i}", f"U{i:03d}")
        await enqueue_texts(p.direct, person, [f"U{i:03d}-0"])
    fake = await FakeSlackWeb().start()
    settings = Settings(_env_file=None, slack_bot_token="xoxb-test", slack_api_url=fake.url)
    sender = RecordingSender(SlackSender.from_settings(settings))
    rate, burst, lag = 40, 5, 0.5
    config = DispatcherConfig(
        batch_size=total,  # all claimed at once: the in-flight limit is no brake here
        max_in_flight=total,
        lease_seconds=300.0,
        poll_seconds=0.05,
        max_record_lag_seconds=lag,
        claim_ahead_seconds=100.0,
        shared_rate=False,
        limits={"slack": PlatformLimits(app=(Rate(rate, burst=burst),), per_target=(Rate(100),))},
    )
    dispatcher = Dispatcher(p.db, {"slack": sender}, config=config, name="hang-test")
    stalled_at: list[int] = []

    def stall_on_group_commit(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not stalled_at and statement.lstrip().startswith("UPDATE outboxmessage SET status"):
            stalled_at.append(sender.calls)
            p.proxy.stall()

    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        await wait_for(lambda: len(fake.delivered) >= 25, what=lambda: len(fake.delivered))
        sa.event.listen(p.db.engine.sync_engine, "before_cursor_execute", stall_on_group_commit)
        await wait_for(lambda: bool(stalled_at))
        await asyncio.sleep(3.0)  # six times the lag: at the rate, 120 more sends
        assert dispatcher.stats.claimed == total
        started_while_hung = sender.calls - stalled_at[0]
        # At most what the rate allows within the lag (its burst, then rate * lag).
        assert started_while_hung <= burst + rate * lag + 1, started_while_hung
        assert len(fake.delivered) < total
        p.proxy.flow()

        async def all_recorded() -> bool:
            if len(fake.delivered) < total:
                return False
            return (await outbox.counts(p.direct))["pending"] == 0

        await wait_for_async(all_recorded, what=lambda: dispatcher.stats, seconds=60)
    finally:
        p.proxy.flow()
        stop.set()
        await task
        await sender.inner.close()
        await fake.close()
    counts = per_outbox_id(fake)
    assert len(counts) == total
    assert set(counts.values()) == {1}
    assert await outbox.counts(p.direct) == {"pending": 0, "sent": total, "dead": 0}
