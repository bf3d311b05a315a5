"""Slack (and Teams) answering 500s, then hanging past the client's timeout, for a while
(issue 10, Faults): the real Dispatcher and SlackSender / TeamsSender against a loopback
fake Slack / Bot Connector whose outage follows the test's clock. Nothing is lost,
nothing is sent twice, and the outbox drains once the platform is back. Only the hangs
take real time (each well under a second)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
from collections import Counter
from collections.abc import Callable

from aiohttp import web

from bot.slack.client import make_client
from bot.slack.sender import SlackSender
from bot.teams.sender import TeamsSender
from domain.roles import Role
from domain.settings import Settings
from jobs.dispatcher import Dispatcher, DispatcherConfig, PlatformLimits, Rate
from storage import outbox
from storage.db import Database
from storage.models import OutboxStatus
from tests.bot.fake_slack_web import FakeSlackWeb
from tests.bot.teams import fakes as teams_fakes
from tests.bot.teams.fakes import FakeConnector
from tests.bot.teams.test_sender import on_teams, personal_ref
from tests.conftest import FakeClock, make_person
from tests.jobs.helpers import delivery_db, enqueue_texts, slack_person

__all__ = ["delivery_db"]

FAST = {"slack": PlatformLimits(app=(Rate(10_000),), per_target=(Rate(10_000),))}
FAST_TEAMS = {"teams": PlatformLimits(app=(Rate(10_000),), per_target=(Rate(10_000),))}
CLIENT_TIMEOUT = 0.1  # seconds, real: the sender's HTTP timeout in this test
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
HANG = 0.3  # seconds, real: how long the hanging Slack holds a request


class OutageSlack(FakeSlackWeb):
    """FakeSlackWeb with an outage on the test's clock: HTTP 500 until `errors_until`,
    then every request hangs past the client's timeout (and is never accepted) until
    `hangs_until`, then normal service."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        super().__init__()
        self.clock = clock
        self.errors_until = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.hangs_until = self.errors_until
        self.failed: Counter[str] = Counter()

    async def post_message(self, request: web.Request) -> web.StreamResponse:
        now = self.clock()
        if now < self.errors_until:
            self.requests += 1
            self.failed["500"] += 1
            return web.Response(status=500, text="Internal Server Error")
        if now < self.hangs_until:
            self.requests += 1
            self.failed["hang"] += 1
            await asyncio.sleep(HANG)  # the client has given up by now
            return web.Response(status=504, text="Gateway Timeout")
        return await super().post_message(request)

    def per_outbox_id(self) -> Counter[int]:
        return Counter(int(m["metadata"]["event_payload"]["outbox_id"]) for m in self.delivered)


async def drain_through_outage(db: Database, dispatcher: Dispatcher, clock: FakeClock) -> None:
    """Deliver until the outbox is empty, moving the clock from retry to retry."""
    for _ in range(200):
        await dispatcher.drain()
        pending = await outbox.list_messages(db, status=OutboxStatus.pending)
        if not pending:
            return
        # Nothing can go now: move the clock to the next retry (no real waiting). Rows
        # behind a waiting one of the same person are due but wait their turn.
        clock.set(min(m.next_attempt_at for m in pending if m.next_attempt_at > clock()))
    raise AssertionError("the outbox never drained")


async def start_clock_at_enqueue(db: Database, clock: FakeClock) -> dt.datetime:
    """Enqueueing stamps rows with the real time; the test's clock starts there."""
    clock.set(max(m.next_attempt_at for m in await outbox.list_messages(db)))
    return clock()


async def test_slack_500s_then_timeouts_then_recovery(
    delivery_db: Database, clock: FakeClock
) -> None:
    db = delivery_db
    fake = OutageSlack(clock)
    await fake.start()
    settings = Settings(_env_file=None, slack_bot_token="xoxb-test", slack_api_url=fake.url)
    client = make_client(settings, max_rate_limit_retries=0)
    client.timeout = CLIENT_TIMEOUT  # type: ignore[assignment]
    sender = SlackSender(client)
    expected: dict[str, list[str]] = {}
    for i in range(4):
        person = await slack_person(db, f"agent{i}", f"U{i}")
        expected[f"U{i}"] = [f"U{i}-{n}" for n in range(5)]
        await enqueue_texts(db, person, expected[f"U{i}"])
    start = await start_clock_at_enqueue(db, clock)
    fake.errors_until = start + dt.timedelta(seconds=30)
    fake.hangs_until = start + dt.timedelta(seconds=100)
    config = DispatcherConfig(limits=FAST, max_attempts=8)
    dispatcher = Dispatcher(db, {"slack": sender}, config=config, clock=clock, rng=random.Random(7))
    try:
        await drain_through_outage(db, dispatcher, clock)
    finally:
        await sender.close()
        await fake.close()

    # Slack really was down both ways, and the messages were retried through it.
    assert fake.failed["500"] >= 4, fake.failed
    assert fake.failed["hang"] >= 4, fake.failed
    assert dispatcher.stats.retried == fake.failed["500"] + fake.failed["hang"]
    assert clock() >= fake.hangs_until
    # Nothing lost, nothing twice, each person's messages in order.
    assert fake.channels() == expected
    counts = fake.per_outbox_id()
    assert len(counts) == 20
    assert set(counts.values()) == {1}
    assert await outbox.counts(db) == {"pending": 0, "sent": 20, "dead": 0}
    sent = await outbox.list_messages(db, status=OutboxStatus.sent, limit=100)
    assert sorted(m.id or 0 for m in sent) == sorted(counts)
    assert all(m.last_error is None and m.attempts <= config.max_attempts for m in sent)


@dataclasses.dataclass
class OutageConnector(FakeConnector):
    """The fake Bot Connector with the same outage on the test's clock."""

    clock: Callable[[], dt.datetime] = dt.datetime.now
    errors_until: dt.datetime = LONG_AGO
    hangs_until: dt.datetime = LONG_AGO
    failed: Counter[str] = dataclasses.field(default_factory=Counter)

    async def _post(self, request: web.Request) -> web.Response:
        now = self.clock()
        if now < self.errors_until:
            self.failed["500"] += 1
            return web.json_response({"error": {"code": "ServiceError"}}, status=500)
        if now < self.hangs_until:
            self.failed["hang"] += 1
            await asyncio.sleep(HANG)
            return web.json_response({"error": {"code": "GatewayTimeout"}}, status=504)
        return await super()._post(request)


async def test_teams_500s_then_timeouts_then_recovery(
    delivery_db: Database, clock: FakeClock
) -> None:
    db = delivery_db
    fake = OutageConnector(clock=clock)
    url = await fake.start()

    async def token() -> str:
        return "test-token"

    sender = TeamsSender(
        db, token_provider=token, tenant_id=teams_fakes.TENANT, timeout_seconds=CLIENT_TIMEOUT
    )
    expected: list[str] = []
    for i in range(4):
        person = await make_person(db, f"agent{i}.teams", role=Role.lead)
        await on_teams(db, person, i + 2, personal_ref(url, i + 2))
        texts = [f"T{i}-{n}" for n in range(5)]
        expected.extend(texts)
        await enqueue_texts(db, person, texts)
    start = await start_clock_at_enqueue(db, clock)
    fake.errors_until = start + dt.timedelta(seconds=30)
    fake.hangs_until = start + dt.timedelta(seconds=100)
    config = DispatcherConfig(limits=FAST_TEAMS, max_attempts=8)
    dispatcher = Dispatcher(db, {"teams": sender}, config=config, clock=clock, rng=random.Random(7))
    try:
        await drain_through_outage(db, dispatcher, clock)
    finally:
        await sender.close()
        await fake.close()

    assert fake.failed["500"] >= 4, fake.failed
    assert fake.failed["hang"] >= 4, fake.failed
    assert dispatcher.stats.retried == fake.failed["500"] + fake.failed["hang"]
    delivered = Counter(card["fallbackText"] for card in fake.cards())
    assert sorted(delivered) == sorted(expected)
    assert set(delivered.values()) == {1}
    per_person: dict[str, list[str]] = {}
    for text in (card["fallbackText"] for card in fake.cards()):
        per_person.setdefault(text.split("-")[0], []).append(text)
    assert per_person == {f"T{i}": [f"T{i}-{n}" for n in range(5)] for i in range(4)}
    assert await outbox.counts(db) == {"pending": 0, "sent": 20, "dead": 0}
