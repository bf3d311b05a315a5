"""The Slack sender and the dispatcher against a loopback fake of Slack's Web API."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator

import pytest

from bot.slack.sender import SlackSender
from domain.settings import Settings
from domain.types import Header, Reply, Text, message
from jobs.delivery import SendResult
from jobs.dispatcher import Dispatcher, DispatcherConfig, PlatformLimits, Rate
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.bot.fake_slack_web import FakeSlackWeb, rate_limited, server_error
from tests.conftest import FakeClock
from tests.jobs.helpers import delivery_db, enqueue_texts, slack_person

__all__ = ["delivery_db"]

FAST = {"slack": PlatformLimits(app=(Rate(10_000),), per_target=(Rate(10_000),))}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackWeb]:
    server = await FakeSlackWeb().start()
    yield server
    await server.close()


def sender_for(fake: FakeSlackWeb) -> SlackSender:
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=fake.url)
    return SlackSender.from_settings(settings)


def future_clock() -> FakeClock:
    # enqueue() never makes a message due before the real time: start a little after it.
    return FakeClock(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))


def msg(target: str, id_: int = 1) -> OutboxMessage:
    return OutboxMessage(id=id_, dedupe_key="k", platform="slack", target=target, payload="{}")


async def test_posts_block_kit_to_the_user_id_as_channel(fake: FakeSlackWeb) -> None:
    sender = sender_for(fake)
    reply = Reply(blocks=[Header("Pulse"), Text("How was your week?")], text="Pulse time")
    result = await sender.send(msg("U123", 42), reply)
    await sender.close()
    assert result == SendResult.sent("1700000000.000001")
    [body] = fake.delivered
    assert body["channel"] == "U123"  # a DM: no conversations.open
    assert body["text"] == "Pulse time"
    assert body["blocks"][0]["type"] == "header"
    assert body["metadata"]["event_payload"] == {"outbox_id": 42}


async def test_maps_slack_errors(fake: FakeSlackWeb) -> None:
    sender = sender_for(fake)
    fake.script.extend([rate_limited(7), server_error()])
    fake.errors["C404"] = "channel_not_found"
    fake.errors["C500"] = "internal_error"
    r429 = await sender.send(msg("C1"), message("x"))
    r500 = await sender.send(msg("C1"), message("x"))
    gone = await sender.send(msg("C404"), message("x"))
    flaky = await sender.send(msg("C500"), message("x"))
    await sender.close()
    assert r429.retry_after == 7.0
    assert not r429.ok
    assert r500.transient
    assert "500" in (r500.error or "")
    assert gone == SendResult.failed("channel_not_found")
    assert flaky.transient
    assert flaky.error == "internal_error"
    assert fake.delivered == []


async def test_network_error_is_transient() -> None:
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url="http://127.0.0.1:9/api/")
    sender = SlackSender.from_settings(settings)
    result = await sender.send(msg("C1"), message("x"))
    await sender.close()
    assert result.transient
    assert not result.ok


async def deliver_all(d: Dispatcher, clock: FakeClock, db: Database, rounds: int = 50) -> None:
    """Drain, then move the clock past any Retry-After or backoff, until nothing is pending."""
    for _ in range(rounds):
        await d.drain()
        if (await outbox.counts(db))["pending"] == 0:
            return
        clock.advance(seconds=120)
    raise AssertionError("messages still pending")


async def test_429_then_500s_every_message_once_in_order(
    fake: FakeSlackWeb, delivery_db: Database
) -> None:
    db = delivery_db
    clock = future_clock()
    people = [await slack_person(db, f"p{i}", f"U{i}") for i in range(4)]
    for p in people:
        await enqueue_texts(db, p, [f"{p.slack_user_id}-{n}" for n in range(5)])
    fake.script.extend([rate_limited(1), server_error(), server_error(), rate_limited(2)])
    fake.script.extend([server_error()] * 4)
    d = Dispatcher(
        db,
        {"slack": sender_for(fake)},
        config=DispatcherConfig(limits=FAST),
        clock=clock,
        rng=random.Random(1),
    )
    await deliver_all(d, clock, db)
    await d.senders["slack"].close()  # type: ignore[attr-defined]
    got = fake.channels()
    assert got == {f"U{i}": [f"U{i}-{n}" for n in range(5)] for i in range(4)}
    assert len(fake.delivered) == 20  # exactly once each
    assert d.stats.rate_limited == 2
    assert d.stats.retried == 6
    sent = await outbox.list_messages(db, status=OutboxStatus.sent)
    assert len(sent) == 20
    assert all(m.external_ref for m in sent)


async def test_rate_limited_target_waits_others_go_on(
    fake: FakeSlackWeb, delivery_db: Database
) -> None:
    db = delivery_db
    clock = future_clock()
    a = await slack_person(db, "a", "UA")
    b = await slack_person(db, "b", "UB")
    await enqueue_texts(db, a, ["a1", "a2"])
    await enqueue_texts(db, b, ["b1", "b2"])
    fake.script.append(rate_limited(30))  # the first request (a1) is refused for 30 s
    d = Dispatcher(
        db, {"slack": sender_for(fake)}, config=DispatcherConfig(limits=FAST), clock=clock
    )
    await d.drain()
    assert fake.channels() == {"UB": ["b1", "b2"]}
    clock.advance(seconds=29)
    await d.drain()
    assert "UA" not in fake.channels()
    clock.advance(seconds=2)
    await d.drain()
    await d.senders["slack"].close()  # type: ignore[attr-defined]
    assert fake.channels()["UA"] == ["a1", "a2"]


async def test_permanent_failure_goes_dead_then_retry_sends_it(
    fake: FakeSlackWeb, delivery_db: Database
) -> None:
    db = delivery_db
    clock = future_clock()
    a = await slack_person(db, "a", "UGONE")
    await enqueue_texts(db, a, ["hello"])
    fake.errors["UGONE"] = "user_not_found"
    d = Dispatcher(
        db, {"slack": sender_for(fake)}, config=DispatcherConfig(limits=FAST), clock=clock
    )
    await d.drain()
    [dead] = await outbox.list_messages(db, status=OutboxStatus.dead)
    assert dead.last_error == "user_not_found"
    assert dead.attempts == 1
    del fake.errors["UGONE"]
    assert dead.id is not None
    await outbox.retry(db, message_id=dead.id, now=clock())
    await d.drain()
    await d.senders["slack"].close()  # type: ignore[attr-defined]
    assert fake.channels() == {"UGONE": ["hello"]}


async def test_keeps_failing_goes_dead_after_max_attempts(
    fake: FakeSlackWeb, delivery_db: Database
) -> None:
    db = delivery_db
    clock = future_clock()
    a = await slack_person(db, "a", "UX")
    await enqueue_texts(db, a, ["x"])
    fake.script.extend([server_error()] * 10)
    d = Dispatcher(
        db,
        {"slack": sender_for(fake)},
        config=DispatcherConfig(limits=FAST, max_attempts=3),
        clock=clock,
    )
    for _ in range(5):
        await d.drain()
        clock.advance(seconds=600)
    await d.senders["slack"].close()  # type: ignore[attr-defined]
    [dead] = await outbox.list_messages(db, status=OutboxStatus.dead)
    assert dead.attempts == 3
    assert "500" in (dead.last_error or "")
    assert fake.requests == 3
