"""Proactive Teams messages through the outbox dispatcher, against a loopback fake Bot
Connector: stored conversations are continued, 1:1 chats are created when needed, a 429
waits for Retry-After, and a message arrives exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.teams.refs import ConversationRef
from bot.teams.sender import TeamsSender, make_teams_sender, retry_after_seconds
from bot.teams.sync import sync as teams_sync
from domain.roles import Role
from domain.settings import Settings
from domain.types import Reply, Text
from domain.types import message as text_message
from jobs.dispatcher import Dispatcher, DispatcherConfig
from storage import outbox, people
from storage import teams as teams_store
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, Person, Team, utcnow
from storage.outbox import OutboxNew
from tests.bot.teams import fakes
from tests.bot.teams.idp import trusted_network
from tests.bot.teams.pki import pki
from tests.conftest import FakeClock, make_person, make_team

APP_ID = "6f1c2d3e-1111-2222-3333-444455556666"


class Monotonic:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def connector() -> AsyncIterator[tuple[fakes.FakeConnector, str]]:
    fake = fakes.FakeConnector()
    url = await fake.start()
    yield fake, url
    await fake.close()


@pytest.fixture
async def sender(db: Database) -> AsyncIterator[TeamsSender]:
    async def token() -> str:
        return "test-token"

    s = TeamsSender(db, token_provider=token, tenant_id=fakes.TENANT)
    yield s
    await s.close()


def dispatcher(db: Database, sender: TeamsSender, clock: FakeClock) -> Dispatcher:
    # Enqueued rows are due from the real "now"; the dispatcher's clock starts there.
    if clock.now < utcnow():
        clock.set(utcnow() + dt.timedelta(seconds=1))
    mono = Monotonic()

    async def no_sleep(seconds: float) -> None:
        mono.now += seconds

    # One message at a time: the in-memory SQLite store shares one connection between
    # sessions, so concurrent deliveries would interleave their transactions.
    return Dispatcher(
        db,
        {"teams": sender},
        config=DispatcherConfig(batch_size=1),
        clock=clock,
        monotonic=mono,
        sleep=no_sleep,
        name="test",
    )


async def on_teams(db: Database, p: Person, n: int, ref: ConversationRef | None = None) -> None:
    assert p.id is not None
    await teams_store.link_person(
        db,
        person_id=p.id,
        teams_user_id=fakes.aad(n),
        conversation_ref=ref.to_json() if ref else None,
    )


def personal_ref(url: str, n: int) -> ConversationRef:
    return ConversationRef(
        service_url=url,
        tenant_id=fakes.TENANT,
        conversation_id=f"a:personal-{n}",
        user_id=fakes.user_id(n),
        aad_object_id=fakes.aad(n),
        bot_id=fakes.BOT_ID,
        bot_name=fakes.BOT_NAME,
    )


def channel_ref(url: str) -> ConversationRef:
    return ConversationRef(
        service_url=url,
        tenant_id=fakes.TENANT,
        conversation_id=fakes.CHANNEL_ID,
        conversation_type="channel",
        bot_id=fakes.BOT_ID,
        bot_name=fakes.BOT_NAME,
        team_id=fakes.TEAM_ID,
    )


async def dm(db: Database, p: Person, key: str, text: str = "Your 1:1 is in 15 minutes") -> None:
    assert p.id is not None
    added = await outbox.enqueue(
        db,
        messages=[OutboxNew(dedupe_key=key, payload=text_message(text).to_json(), person_id=p.id)],
    )
    assert added == 1


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())  # type: ignore[arg-type]


async def test_a_stored_conversation_is_continued_once(
    db: Database,
    clock: FakeClock,
    sender: TeamsSender,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    p = await make_person(db, "maria.lopez", role=Role.lead)
    await on_teams(db, p, 2, personal_ref(url, 2))
    await dm(db, p, "t:1")
    d = dispatcher(db, sender, clock)
    await d.drain()
    await d.drain()
    assert [b["_conversation"] for b in fake.posted] == ["a:personal-2"]
    assert fake.cards()[0]["fallbackText"] == "Your 1:1 is in 15 minutes"
    assert fake.posted[0]["conversation"]["tenantId"] == fakes.TENANT
    assert {auth for _m, _p, auth in fake.requests} == {"Bearer test-token"}
    [row] = await rows(db)
    assert row.platform == "teams"
    assert row.status is OutboxStatus.sent
    assert row.external_ref == "msg-1"


async def test_a_429_waits_for_retry_after_and_the_message_arrives_once(
    db: Database,
    clock: FakeClock,
    sender: TeamsSender,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    fake.throttle_next = 1
    fake.retry_after = "7"
    p = await make_person(db, "maria.lopez", role=Role.lead)
    await on_teams(db, p, 2, personal_ref(url, 2))
    await dm(db, p, "t:429")
    d = dispatcher(db, sender, clock)
    await d.drain()
    assert fake.posted == []
    [row] = await rows(db)
    assert row.status is OutboxStatus.pending
    assert (row.next_attempt_at - clock.now).total_seconds() == pytest.approx(7, abs=1)
    clock.advance(seconds=3)
    await d.drain()
    assert fake.posted == []  # Retry-After has not passed yet
    clock.advance(seconds=5)
    await d.drain()
    await d.drain()
    assert len(fake.posted) == 1
    [row] = await rows(db)
    assert row.status is OutboxStatus.sent


async def test_transient_errors_are_retried(db: Database, clock: FakeClock) -> None:
    p = await make_person(db, "maria.lopez", role=Role.lead)
    # Nothing listens on this port: a network error, retried with backoff.
    dead = personal_ref("http://127.0.0.1:9/teams/", 2)
    await on_teams(db, p, 2, dead)
    await dm(db, p, "t:net")
    s = TeamsSender(db, timeout_seconds=2)
    try:
        d = dispatcher(db, s, clock)
        await d.drain()
    finally:
        await s.close()
    [row] = await rows(db)
    assert row.status is OutboxStatus.pending
    assert row.attempts == 1
    assert row.last_error is not None
    assert "unreachable" in row.last_error


async def test_a_person_without_a_chat_gets_one_created_in_the_tenant(
    db: Database,
    clock: FakeClock,
    sender: TeamsSender,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    team = await make_team(db)
    assert team.id is not None
    await teams_store.set_team_ref(db, team_id=team.id, channel_ref=channel_ref(url).to_json())
    p = await make_person(db, "maria.lopez", role=Role.lead, team=team)
    await on_teams(db, p, 2)  # known to Teams (Entra id), never chatted with the bot
    await dm(db, p, "t:new:1")
    await dm(db, p, "t:new:2", "Second")
    d = dispatcher(db, sender, clock)
    for _ in range(3):
        await d.drain()
    assert len(fake.created) == 1
    created = fake.created[0]
    assert created["members"][0]["id"] == fakes.aad(2)
    assert created["tenantId"] == fakes.TENANT
    assert created["bot"]["id"] == fakes.BOT_ID
    assert [b["_conversation"] for b in fake.posted] == ["a:created-1", "a:created-1"]
    assert [c["fallbackText"] for c in fake.cards()] == ["Your 1:1 is in 15 minutes", "Second"]
    assert p.id is not None
    stored = await people.get_person(db, person_id=p.id)
    assert stored is not None
    ref = ConversationRef.from_json(stored.teams_conversation_ref)
    assert ref is not None
    assert ref.conversation_id == "a:created-1"


async def test_a_person_seen_in_a_roster_gets_a_chat_with_their_teams_id(
    db: Database,
    clock: FakeClock,
    sender: TeamsSender,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    p = await make_person(db, "maria.lopez", role=Role.lead)
    partial = ConversationRef(
        service_url=url,
        tenant_id=fakes.TENANT,
        user_id=fakes.user_id(2),
        aad_object_id=fakes.aad(2),
        bot_id=fakes.BOT_ID,
    )
    await on_teams(db, p, 2, partial)
    await dm(db, p, "t:roster")
    await dispatcher(db, sender, clock).drain()
    assert fake.created[0]["members"][0]["id"] == fakes.user_id(2)
    assert len(fake.posted) == 1


async def test_unreachable_person_waits_with_a_reason_and_the_lead_is_told_once(
    db: Database,
    clock: FakeClock,
    sender: TeamsSender,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    team = await make_team(db)
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    await on_teams(db, lead, 1, personal_ref(url, 1))
    agent = await make_person(db, "maria.lopez", team=team, work_hours="Mon-Sun 00:00-23:59")
    await on_teams(db, agent, 2)  # no team channel linked, no roster entry: no way in
    await dm(db, agent, "t:x:1")
    await dm(db, agent, "t:x:2")
    d = dispatcher(db, sender, clock)
    for _ in range(4):
        await d.drain()
    by_person = {r.dedupe_key: r for r in await rows(db)}
    # Pending (not dead): the message goes out once the person is in a roster leadbot sees.
    assert by_person["t:x:1"].status is OutboxStatus.pending
    assert "unreachable: not in any Teams roster" in (by_person["t:x:1"].last_error or "")
    assert by_person["t:x:2"].status is OutboxStatus.pending  # behind it, in order
    assert by_person["t:x:1"].attempts == 0  # waiting uses up no attempt
    reason = (await people.get_person(db, person_id=agent.id or 0)).unreachable_reason  # type: ignore[union-attr]
    assert reason is not None
    assert "isn't installed" in reason
    notices = [r for r in by_person.values() if r.dedupe_key.startswith("teams:unreachable")]
    assert len(notices) == 1
    assert notices[0].recipient_person_id == lead.id
    assert notices[0].status is OutboxStatus.sent
    assert [b["_conversation"] for b in fake.posted] == ["a:personal-1"]
    assert "Maria Lopez" in fake.cards()[0]["fallbackText"]


async def test_refused_chat_creation_waits_and_is_not_retried_at_once(
    db: Database,
    clock: FakeClock,
    sender: TeamsSender,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    fake.refuse_create = 403
    team = await make_team(db)
    assert team.id is not None
    await teams_store.set_team_ref(db, team_id=team.id, channel_ref=channel_ref(url).to_json())
    p = await make_person(db, "maria.lopez", role=Role.lead, team=team)
    await on_teams(db, p, 2)
    await dm(db, p, "t:refused")
    await dispatcher(db, sender, clock).drain()
    [row] = await rows(db)
    assert row.status is OutboxStatus.pending
    assert "403" in (row.last_error or "")
    assert row.next_attempt_at > clock() + dt.timedelta(hours=1)  # parked, not retried now


async def test_a_team_post_goes_to_the_linked_channel(
    db: Database,
    clock: FakeClock,
    sender: TeamsSender,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    team: Team = await make_team(db)
    assert team.id is not None
    await teams_store.set_team_ref(db, team_id=team.id, channel_ref=channel_ref(url).to_json())
    reply = Reply(blocks=[Text("*Goal hit*: CSAT 92%")], text="Goal hit: CSAT 92%")
    await outbox.enqueue(
        db, messages=[OutboxNew(dedupe_key="team:1", payload=reply.to_json(), team_id=team.id)]
    )
    await dispatcher(db, sender, clock).drain()
    assert [b["_conversation"] for b in fake.posted] == [fakes.CHANNEL_ID]
    assert fake.cards()[0]["body"][0]["text"] == "**Goal hit**: CSAT 92%"


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) == 1.0
    assert retry_after_seconds("soon") == 1.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_make_teams_sender_is_off_without_credentials(db: Database) -> None:
    off = Settings(_env_file=None)
    assert make_teams_sender(off, db) is None
    anon = Settings(_env_file=None, teams_allow_anonymous=True)
    assert isinstance(make_teams_sender(anon, db), TeamsSender)


async def test_a_person_who_removed_the_app_is_reported_to_their_lead(
    db: Database,
    clock: FakeClock,
    sender: TeamsSender,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    team = await make_team(db)
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    await on_teams(db, lead, 1, personal_ref(url, 1))
    maria = await make_person(db, "maria.lopez", team=team)
    # Maria's stored chat points at a conversation the connector no longer knows.
    gone = ConversationRef(
        service_url=url.replace("/teams/", "/gone/"),
        tenant_id=fakes.TENANT,
        conversation_id="a:gone",
        bot_id=fakes.BOT_ID,
    )
    await on_teams(db, maria, 2, gone)
    await dm(db, maria, "t:gone")
    d = dispatcher(db, sender, clock)
    for _ in range(3):
        await d.drain()
    by_key = {r.dedupe_key: r for r in await rows(db)}
    assert by_key["t:gone"].status is OutboxStatus.dead
    assert "404" in (by_key["t:gone"].last_error or "")
    assert by_key["teams:unreachable:" + str(maria.id)].status is OutboxStatus.sent
    assert "Maria Lopez" in fake.cards()[0]["fallbackText"]


async def test_a_401_from_the_connector_is_dead_at_once_and_logged_once(
    db: Database, clock: FakeClock, sender: TeamsSender, caplog: pytest.LogCaptureFixture
) -> None:
    """The Bot Connector answering 401 means the bot itself is refused (no Bot Framework
    registration for the app id): no retry fixes that, so no retry is made."""
    fake = fakes.FakeConnector(unauthorized=True)
    url = await fake.start()
    try:
        people_ = [await make_person(db, f"agent{i}.x", role=Role.lead) for i in range(3)]
        for n, p in enumerate(people_, start=2):
            await on_teams(db, p, n, personal_ref(url, n))
            await dm(db, p, f"t:401:{n}")
        with caplog.at_level(logging.ERROR):
            d = dispatcher(db, sender, clock)
            for _ in range(3):
                await d.drain()
    finally:
        await fake.close()
    found = await rows(db)
    assert [r.status for r in found] == [OutboxStatus.dead] * 3
    assert all(r.attempts == 1 for r in found)
    assert all("401" in (r.last_error or "") for r in found)
    assert all("registration" in (r.last_error or "") for r in found)
    assert len(fake.requests) == 3  # one attempt each, no retries
    logged = [r for r in caplog.records if "refused the bot's credentials" in r.getMessage()]
    assert len(logged) == 1


async def test_a_stored_reference_to_a_host_not_allowed_is_never_sent_to(
    db: Database, clock: FakeClock
) -> None:
    """A reference stored before the inbound checks (or by an attacker) pointing at
    another host: the message is dead and no token goes there."""
    fake = fakes.FakeConnector()
    url = await fake.start()  # http://127.0.0.1:PORT: not a Teams service host
    s = make_teams_sender(
        Settings(_env_file=None, teams_app_id=APP_ID, teams_app_password="pw"), db
    )
    assert s is not None
    tokens = 0

    async def token() -> str:
        nonlocal tokens
        tokens += 1
        return "the-bots-token"

    s.token_provider = token
    try:
        p = await make_person(db, "maria.lopez", role=Role.lead)
        await on_teams(db, p, 2, personal_ref(url, 2))
        await dm(db, p, "t:host")
        team = await make_team(db)
        assert team.id is not None
        await teams_store.set_team_ref(db, team_id=team.id, channel_ref=channel_ref(url).to_json())
        await outbox.enqueue(
            db,
            messages=[
                OutboxNew(
                    dedupe_key="t:host:team", payload=text_message("hi").to_json(), team_id=team.id
                )
            ],
        )
        d = dispatcher(db, s, clock)
        for _ in range(3):
            await d.drain()
    finally:
        await s.close()
        await fake.close()
    found = await rows(db)
    assert [r.status for r in found] == [OutboxStatus.dead, OutboxStatus.dead]
    assert all("not allowed" in (r.last_error or "") for r in found)
    assert fake.requests == []
    assert tokens == 0


async def test_concurrent_sends_at_a_cold_start_fetch_one_token(
    sqlite_file_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox sender's MSAL provider: six sends at once, one token request."""
    db = sqlite_file_db
    with trusted_network(monkeypatch) as login:
        fake = fakes.FakeConnector(tls=pki().server_context())
        url = await fake.start()
        settings = Settings(
            _env_file=None,
            teams_app_id=APP_ID,
            teams_app_password="pw",
            teams_tenant_id=fakes.TENANT,
            teams_allowed_service_hosts=("localhost",),
        )
        s = make_teams_sender(settings, db)
        assert s is not None
        try:
            messages = []
            for n in range(2, 8):
                p = await make_person(db, f"agent{n}.x", role=Role.lead)
                await on_teams(db, p, n, personal_ref(url, n))
                assert p.id is not None
                messages.append(
                    OutboxMessage(
                        id=n,
                        dedupe_key=f"t:{n}",
                        platform="teams",
                        target="",
                        recipient_person_id=p.id,
                        payload=text_message("hello").to_json(),
                    )
                )
            results = await asyncio.gather(*(s.send(m, text_message("hello")) for m in messages))
        finally:
            await s.close()
            await fake.close()
    assert [r.ok for r in results] == [True] * 6, results
    assert login.token_requests == 1
    assert {auth for _m, _p, auth in fake.requests} == {"Bearer outbound-token-1"}


async def test_a_roster_imported_by_email_is_reached_from_the_team_roster(
    db: Database,
    clock: FakeClock,
    sender: TeamsSender,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    # Teams only: people imported by email wait until a team roster leadbot reads (on
    # install, or `leadbot teams sync`) shows them; then each message goes out once. One
    # who is in no roster keeps waiting, and their lead is told once.
    fake, url = connector
    db.unmapped_platform = "teams"
    team = await make_team(db)
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    await on_teams(db, lead, 1, personal_ref(url, 1))
    maria = await make_person(db, "maria.lopez", team=team, work_hours="Mon-Sun 00:00-23:59")
    zoe = await make_person(db, "zoe.new", team=team, work_hours="Mon-Sun 00:00-23:59")
    await dm(db, maria, "pulse:maria")
    await dm(db, zoe, "pulse:zoe")
    assert {(r.platform, r.target) for r in await rows(db)} == {
        ("teams", f"person:{maria.id}"),
        ("teams", f"person:{zoe.id}"),
    }
    await dispatcher(db, sender, clock).drain()
    assert all(
        r.status is OutboxStatus.pending for r in await rows(db) if r.dedupe_key.startswith("pulse")
    )

    # leadbot is added to the team: its roster maps Maria by email.
    ref = channel_ref(url)
    await teams_store.remember_install(db, conversation_id=fakes.CHANNEL_ID, ref=ref.to_json())
    fake.members = {
        fakes.user_id(2): {
            "id": fakes.user_id(2),
            "name": "Maria",
            "aadObjectId": fakes.aad(2),
            "email": "Maria.Lopez@example.com",
        },
    }
    read, mapped, failed = await teams_sync(db, sender)
    assert (read, mapped, failed) == (1, 1, [])
    d = dispatcher(db, sender, clock)
    await d.drain()
    await d.drain()
    by_key = {r.dedupe_key: r for r in await rows(db)}
    assert by_key["pulse:maria"].status is OutboxStatus.sent
    assert by_key["pulse:zoe"].status is OutboxStatus.pending
    to_maria = [b for b in fake.posted if b["_conversation"] != "a:personal-1"]
    assert len(to_maria) == 1  # exactly once, in a new 1:1 chat
    notices = [r for r in by_key.values() if r.dedupe_key.startswith("teams:unreachable")]
    assert sorted(n.dedupe_key for n in notices) == sorted(
        [f"teams:unreachable:{maria.id}", f"teams:unreachable:{zoe.id}"]
    )
    told = [fakes.card_text(c) for c in fake.cards() if "Zoe" in fakes.card_text(c)]
    assert len(told) == 1
