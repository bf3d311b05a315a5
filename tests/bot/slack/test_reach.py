"""Reaching people imported by email only, through the real dispatcher and SlackSender
against the loopback fake: users.lookupByEmail once per person, the DM exactly once, an
unknown email waiting (pending) with its lead told once, `leadbot slack sync` (paged,
through a 429) mapping the rest and sending what waited; channel posts that wait for
leadbot to be invited."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.bootstrap import bootstrap
from bot.slack.sender import LOOKUP_MAX_WAIT_SECONDS, SlackSender
from bot.slack.sync import report, sync
from domain.roles import Role
from handlers.core.context import HandlerContext, system_clock
from handlers.core.dispatch import run_command
from handlers.imports import import_roster
from jobs.dispatcher import Dispatcher, DispatcherConfig, Rate
from storage import outbox, people
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, Person, utcnow
from storage.outbox import OutboxNew
from tests.bot.slack.conftest import slack_settings
from tests.bot.slack.fake_slack import FakeSlack
from tests.conftest import command

HOURS = "Mon-Sun 00:00-23:59"
ROSTER = f"""\
email,name,role,team,timezone,work_hours,manager_email
lee.lead@acme.test,Lee Lead,lead,Billing,Europe/London,{HOURS},
maria.lopez@acme.test,Maria Lopez,agent,Billing,,{HOURS},lee.lead@acme.test
sam.hill@acme.test,Sam Hill,agent,Billing,,{HOURS},lee.lead@acme.test
kim.park@acme.test,Kim Park,agent,Billing,,{HOURS},lee.lead@acme.test
nia.cole@acme.test,Nia Cole,agent,Billing,,{HOURS},lee.lead@acme.test
zoe.new@acme.test,Zoe New,agent,Billing,,{HOURS},lee.lead@acme.test
"""
SLACK_IDS = {
    "ULEE": "lee.lead@acme.test",
    "UMARIA": "Maria.Lopez@acme.test",  # Slack keeps the case people typed
    "USAM": "sam.hill@acme.test",
    "UKIM": "kim.park@acme.test",
    "UNIA": "nia.cole@acme.test",
    # zoe.new@acme.test has no Slack account yet.
}
FAST = Rate(6000, 60.0, burst=1)  # the real pace is LOOKUP_RATE; benchmarks/reach.py


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    f = FakeSlack(users=dict(SLACK_IDS))
    await f.start()
    yield f
    await f.close()


@pytest.fixture
def db(concurrent_db: Database) -> Database:
    """The dispatcher sends while it records: sessions overlap (a file or PostgreSQL)."""
    return concurrent_db


@pytest.fixture
def ctx(fake: FakeSlack, db: Database) -> HandlerContext:
    # The production composition: Slack configured, so unmapped people go to Slack.
    app = bootstrap(slack_settings(fake, db), db=db, clock=system_clock)
    assert db.unmapped_platform == "slack"
    return app.ctx


def message_json(text: str) -> str:
    return json.dumps({"blocks": [], "text": text})


def client_of(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url)


_SENDERS: list[SlackSender] = []


@pytest.fixture(autouse=True)
async def _close_senders() -> AsyncIterator[None]:
    yield
    while _SENDERS:
        await _SENDERS.pop().close()


def dispatcher(db: Database, fake: FakeSlack) -> Dispatcher:
    sender = SlackSender(client_of(fake), db, lookup_rate=FAST)
    _SENDERS.append(sender)
    return Dispatcher(db, {"slack": sender}, config=DispatcherConfig(lease_seconds=30))


async def person(db: Database, email: str) -> Person:
    p = await people.get_by_email(db, email=email)
    assert p is not None
    return p


def dms_to(fake: FakeSlack, channel: str) -> list[str]:
    return [
        str(c.data.get("text", ""))
        for c in fake.of("chat.postMessage")
        if c.data.get("channel") == channel
    ]


async def rows(db: Database) -> list[OutboxMessage]:
    return await outbox.list_messages(db, limit=1000) + await outbox.list_messages(
        db, status=OutboxStatus.sent, limit=1000
    )


async def test_a_roster_imported_by_email_is_reached_once_and_the_unknown_waits(
    fake: FakeSlack, db: Database, ctx: HandlerContext
) -> None:
    result = await import_roster(ctx, ROSTER)
    assert result.ok, result.summary()
    lead = await person(db, "lee.lead@acme.test")
    assert all(p.slack_user_id is None for p in await people.list_people(db))
    reply = await run_command(await command(db, lead, "/pulse now"), ctx)
    assert reply.ok, reply.fallback
    reply = await run_command(
        await command(db, lead, "/action @maria.lopez call back the Smith account"), ctx
    )
    assert reply.ok, reply.fallback
    queued = await outbox.list_messages(db)
    assert queued
    assert all(m.platform == "slack" and m.target.startswith("person:") for m in queued)

    d = dispatcher(db, fake)
    await d.drain()
    await d.drain()  # nothing more goes out on a second pass

    # One lookup per person, however many messages they have.
    looked = [str(c.data["email"]) for c in fake.of("users.lookupByEmail", ok_only=False)]
    assert sorted(looked) == sorted(
        [
            "maria.lopez@acme.test",
            "sam.hill@acme.test",
            "kim.park@acme.test",
            "nia.cole@acme.test",
            "zoe.new@acme.test",
            "lee.lead@acme.test",  # told about Zoe
        ]
    )
    for uid in ("UMARIA", "USAM", "UKIM", "UNIA"):
        pulses = [t for t in dms_to(fake, uid) if "pulse" in t.lower()]
        assert len(pulses) == 1, (uid, dms_to(fake, uid))
    assert len([t for t in dms_to(fake, "UMARIA") if "Smith account" in t]) == 1
    maria = await person(db, "maria.lopez@acme.test")
    assert maria.slack_user_id == "UMARIA"  # stored: never looked up again

    # Zoe: no Slack user with her email. Her pulse waits, pending; the lead is told once.
    zoe = await person(db, "zoe.new@acme.test")
    assert zoe.unreachable_reason is not None
    [waiting] = [m for m in await outbox.list_messages(db) if m.recipient_person_id == zoe.id]
    assert waiting.status is OutboxStatus.pending
    assert (waiting.last_error or "").startswith("unreachable: users_not_found")
    told = dms_to(fake, "ULEE")
    assert len(told) == 1
    assert "Zoe New" in told[0]
    assert "zoe.new@acme.test" in told[0]
    assert not await outbox.list_messages(db, status=OutboxStatus.dead)

    # Zoe joins Slack; `leadbot slack sync` (paged, through a 429) maps her and her pulse
    # goes out, once; the lead is not told again.
    fake.users["UZOE"] = "zoe.new@acme.test"
    fake.users["UBOT9"] = "reports-bot@acme.test"
    fake.bots.add("UBOT9")
    fake.rate_limit_next["users.list"] = 1
    slept: list[float] = []

    async def no_sleep(seconds: float) -> None:
        slept.append(seconds)

    outcome, listed = await sync(db, client_of(fake), page_size=2, sleep=no_sleep)
    assert listed == 7
    pages = fake.of("users.list")
    assert len(pages) == 4  # 7 users, 2 a page
    assert [c.data.get("cursor") for c in pages] == [None, "2", "4", "6"]
    assert len(fake.of("users.list", ok_only=False)) == 5  # and the one 429
    assert [p.email for p in outcome.mapped] == ["zoe.new@acme.test"]
    assert outcome.requeued >= 1
    assert "Zoe New" not in report(outcome, listed).split("mapped")[0]
    await d.drain()
    assert len([t for t in dms_to(fake, "UZOE") if "pulse" in t.lower()]) == 1
    assert len(dms_to(fake, "ULEE")) == 1
    assert (await person(db, "zoe.new@acme.test")).unreachable_reason is None


async def test_a_deactivated_or_bot_user_waits_and_the_lead_is_told_once(
    fake: FakeSlack, db: Database, ctx: HandlerContext
) -> None:
    await import_roster(ctx, ROSTER)
    fake.deleted.add("USAM")
    fake.bots.add("UKIM")
    sam = await person(db, "sam.hill@acme.test")
    kim = await person(db, "kim.park@acme.test")
    for p in (sam, kim):
        for n in (1, 2):
            await outbox.enqueue(
                db,
                messages=[
                    OutboxNew(
                        dedupe_key=f"t:{p.id}:{n}",
                        payload=json.dumps({"blocks": [], "text": f"hello {n}"}),
                        person_id=p.id,
                    )
                ],
            )
    d = dispatcher(db, fake)
    await d.drain()
    await d.drain()
    assert not dms_to(fake, "USAM")
    assert not dms_to(fake, "UKIM")
    pending = [
        m for m in await outbox.list_messages(db) if m.recipient_person_id in (sam.id, kim.id)
    ]
    assert len(pending) == 4  # all waiting, none dead
    told = dms_to(fake, "ULEE")
    assert len(told) == 2  # once per person
    assert any("Sam Hill" in t and "deactivated" in t for t in told)
    assert any("Kim Park" in t and "bot" in t for t in told)


async def test_a_stored_id_whose_slack_email_is_another_roster_persons_moves(
    fake: FakeSlack, db: Database, ctx: HandlerContext
) -> None:
    # Maria's row holds USAM (a copy-paste in the roster); USAM's email is Sam's: the
    # email match wins, Maria falls back to being found by her own email.
    await import_roster(ctx, ROSTER)
    maria = await person(db, "maria.lopez@acme.test")
    assert maria.id is not None
    await people.set_platform_id(db, person_id=maria.id, slack_user_id="USAM")
    await outbox.enqueue(
        db,
        messages=[
            OutboxNew(
                dedupe_key="to-maria",
                payload=json.dumps({"blocks": [], "text": "for maria"}),
                person_id=maria.id,
            )
        ],
    )
    fake.users["UOLD"] = "someone.else@elsewhere.test"
    del fake.users["UNIA"]  # Nia's Slack account is UOLD, under another email
    nia = await person(db, "nia.cole@acme.test")
    assert nia.id is not None
    await people.set_platform_id(db, person_id=nia.id, slack_user_id="UOLD")

    async def no_sleep(_s: float) -> None:
        return None

    outcome, _ = await sync(db, client_of(fake), sleep=no_sleep)
    assert (await person(db, "sam.hill@acme.test")).slack_user_id == "USAM"
    assert (await person(db, "maria.lopez@acme.test")).slack_user_id == "UMARIA"
    # Nia's Slack user has another email that is on nobody's row: the link is kept.
    assert (await person(db, "nia.cole@acme.test")).slack_user_id == "UOLD"
    assert [(p.email, e) for p, e in outcome.email_differs] == [
        ("nia.cole@acme.test", "someone.else@elsewhere.test")
    ]
    await dispatcher(db, fake).drain()
    assert dms_to(fake, "UMARIA") == ["for maria"]
    assert not dms_to(fake, "USAM")


async def test_a_lookup_backlog_hands_messages_back_instead_of_holding_slots(
    fake: FakeSlack, db: Database, ctx: HandlerContext
) -> None:
    # 20 people not mapped yet, at the real pace (40 a minute, on a clock that jumps):
    # those whose lookup would queue more than LOOKUP_MAX_WAIT_SECONDS go back, rate
    # limited (no attempt used), instead of waiting in the dispatcher's in-flight slots.
    for i in range(20):
        fake.users[f"UX{i}"] = f"x{i}@acme.test"
        p = await people.upsert_person(
            db, email=f"x{i}@acme.test", display_name=f"X {i}", role=Role.agent, team_id=None
        )
        await outbox.enqueue(
            db,
            messages=[OutboxNew(dedupe_key=f"x{i}", payload=message_json("hi"), person_id=p.id)],
        )
    now = [time.time()]

    async def jump(seconds: float) -> None:
        now[0] += seconds

    sender = SlackSender(client_of(fake), db, wall=lambda: now[0], sleep=jump)
    _SENDERS.append(sender)
    d = Dispatcher(db, {"slack": sender}, config=DispatcherConfig(lease_seconds=60))
    await d.run_once()
    lookups = len(fake.of("users.lookupByEmail"))
    assert 1 <= lookups < 20  # at least one handed back (the exact count is timing)
    left = await outbox.list_messages(db)
    assert len(left) == 20 - lookups
    assert all(m.attempts == 0 and (m.last_error or "").startswith("rate limited") for m in left)
    assert not await outbox.list_messages(db, status=OutboxStatus.dead)
    # Each waits no longer than the queue it saw (at most the cap plus one interval).
    latest = max(m.next_attempt_at for m in left)
    assert (latest - utcnow()).total_seconds() <= LOOKUP_MAX_WAIT_SECONDS + 2 * 1.5
