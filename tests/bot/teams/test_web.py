"""POST /api/messages over real HTTP on the server's Application: unauthenticated requests
are refused before anything is read, anonymous mode (local testing only) is processed,
and replies go to the Bot Connector named by the activity (a loopback fake here)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from bot.teams.refs import ConversationRef
from bot.teams.sender import TeamsSender
from domain.roles import Role
from domain.settings import Settings
from domain.types import message
from handlers.core.dispatch import run_command
from jobs.dispatcher import Dispatcher, DispatcherConfig
from storage import outbox, people
from storage import teams as teams_store
from storage.db import Database
from storage.models import Person, ProcessedEvent, PulseResponse, utcnow
from storage.outbox import OutboxNew
from tests.bot.teams import fakes
from tests.conftest import FakeClock, command, make_ctx, make_person, make_team

APP_ID = "6f1c2d3e-1111-2222-3333-444455556666"


def settings(**kw: Any) -> Settings:
    return Settings(_env_file=None, slack_bot_token=None, **kw)


@pytest.fixture
async def connector() -> AsyncIterator[tuple[fakes.FakeConnector, str]]:
    fake = fakes.FakeConnector()
    url = await fake.start()
    yield fake, url
    await fake.close()


async def serve(s: Settings, db: Database, clock: FakeClock) -> TestServer:
    server = TestServer(build_web_app(bootstrap(s, db=db, clock=clock)), host="127.0.0.1")
    await server.start_server()
    return server


async def post(
    server: TestServer, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.make_url("/api/messages"), json=body, headers=headers or {}) as resp,
    ):
        return resp.status, await resp.text()


async def nothing_recorded(db: Database, person: Person) -> None:
    async with db.session() as s:
        assert list((await s.execute(select(ProcessedEvent))).scalars()) == []
    assert person.id is not None
    again = await people.get_person(db, person_id=person.id)
    assert again is not None
    assert again.teams_conversation_ref is None


async def _person(db: Database) -> Person:
    team = await make_team(db)
    p = await make_person(db, "lena.lead", role=Role.lead, team=team)
    assert p.id is not None
    await teams_store.link_person(db, person_id=p.id, teams_user_id=fakes.aad(1))
    return p


async def test_teams_off_answers_401_and_processes_nothing(
    db: Database, clock: FakeClock, connector: tuple[fakes.FakeConnector, str]
) -> None:
    fake, url = connector
    p = await _person(db)
    server = await serve(settings(), db, clock)
    try:
        status, _ = await post(server, fakes.message("leadbot whoami", service_url=url))
    finally:
        await server.close()
    assert status == 401
    await nothing_recorded(db, p)
    assert fake.requests == []


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer garbage",
        "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer a b",
    ],
)
async def test_requests_without_a_valid_token_get_401_and_change_nothing(
    authorization: str | None,
    db: Database,
    clock: FakeClock,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    p = await _person(db)
    s = settings(teams_app_id=APP_ID, teams_app_password="secret", teams_tenant_id=fakes.TENANT)
    server = await serve(s, db, clock)
    headers = {"Authorization": authorization} if authorization is not None else {}
    try:
        status, text = await post(server, fakes.message("leadbot whoami", service_url=url), headers)
    finally:
        await server.close()
    assert status == 401, text
    assert "Traceback" not in text
    await nothing_recorded(db, p)
    assert fake.requests == []


async def test_anonymous_mode_processes_and_replies_through_the_connector(
    db: Database, clock: FakeClock, connector: tuple[fakes.FakeConnector, str]
) -> None:
    fake, url = connector
    p = await _person(db)
    server = await serve(settings(teams_allow_anonymous=True), db, clock)
    try:
        status, _ = await post(server, fakes.message("leadbot whoami", service_url=url))
        # A card button in anonymous mode: the invoke is answered in the HTTP response.
        inv_status, inv_text = await post(
            server, fakes.invoke({"leadbot": "nosuch.button", "value": "1"}, service_url=url)
        )
    finally:
        await server.close()
    assert status in (200, 202)
    cards = fake.cards()
    assert len(cards) == 1
    assert "lena.lead@example.com" in cards[0]["fallbackText"]
    # No credentials, no token on the outbound call either.
    assert all(auth is None for _m, _p, auth in fake.requests)
    assert p.id is not None
    stored = await people.get_person(db, person_id=p.id)
    assert stored is not None
    ref = ConversationRef.from_json(stored.teams_conversation_ref)
    assert ref is not None
    assert ref.service_url == url
    assert inv_status == 200
    body = json.loads(inv_text)
    assert body["statusCode"] == 200
    assert "no longer valid" in body["value"]


async def test_first_contact_links_the_person_by_email_from_the_roster(
    db: Database, clock: FakeClock, connector: tuple[fakes.FakeConnector, str]
) -> None:
    fake, url = connector
    team = await make_team(db)
    maria = await make_person(db, "maria.lopez", team=team)
    assert maria.id is not None
    # Maria already uses leadbot on Slack: on Teams she is the same person, not a new one.
    await people.set_platform_id(db, person_id=maria.id, slack_user_id="U0MARIA")
    fake.members[fakes.user_id(5)] = {
        "id": fakes.user_id(5),
        "name": "Maria L.",
        "aadObjectId": fakes.aad(5),
        "email": "Maria.Lopez@example.com",
        "userPrincipalName": "maria.lopez@example.com",
    }
    server = await serve(settings(teams_allow_anonymous=True), db, clock)
    try:
        status, _ = await post(server, fakes.message("leadbot whoami", user=5, service_url=url))
    finally:
        await server.close()
    assert status in (200, 202)
    assert "maria.lopez@example.com" in fake.cards()[0]["fallbackText"]
    assert maria.id is not None
    linked = await people.get_person(db, person_id=maria.id)
    assert linked is not None
    assert linked.teams_user_id == fakes.aad(5)
    assert linked.slack_user_id == "U0MARIA"
    async with db.session() as session:
        assert len(list((await session.execute(select(Person))).scalars())) == 1


async def test_a_private_answer_asked_in_a_channel_goes_to_a_1_1_chat(
    db: Database, clock: FakeClock, connector: tuple[fakes.FakeConnector, str]
) -> None:
    fake, url = connector
    await _person(db)
    server = await serve(settings(teams_allow_anonymous=True), db, clock)
    raw = fakes.message(
        "<at>leadbot</at> leadbot whoami",
        user=1,
        service_url=url,
        conversation_type="channel",
        mentions=[(None, "leadbot")],
    )
    try:
        status, _ = await post(server, raw)
    finally:
        await server.close()
    assert status in (200, 202)
    # A 1:1 chat was opened with the asker and the answer went there...
    assert len(fake.created) == 1
    assert fake.created[0]["members"][0]["id"] == fakes.user_id(1)
    convs = [b["_conversation"] for b in fake.posted]
    assert convs[0] == "a:created-1"
    assert "lena.lead@example.com" in fake.cards()[0]["fallbackText"]
    # ...and the channel only hears where it went.
    assert convs[1].startswith(fakes.CHANNEL_ID)
    assert "1:1" in fake.cards()[1]["fallbackText"]
    assert "lena.lead@example.com" not in json.dumps(fake.cards()[1])


async def test_installing_in_a_team_maps_the_roster_and_links_no_channel(
    db: Database, clock: FakeClock, connector: tuple[fakes.FakeConnector, str]
) -> None:
    fake, url = connector
    team = await make_team(db, "Billing")
    maria = await make_person(db, "maria.lopez", team=team)
    # A Teams-only install: a message to Maria, imported by email, waits for the roster.
    db.unmapped_platform = "teams"
    assert maria.id is not None
    await outbox.enqueue(
        db,
        messages=[
            OutboxNew(dedupe_key="early", payload=message("hi").to_json(), person_id=maria.id)
        ],
    )
    fake.members = {
        fakes.user_id(2): {
            "id": fakes.user_id(2),
            "name": "Maria",
            "aadObjectId": fakes.aad(2),
            "email": "maria.lopez@example.com",
        },
        fakes.user_id(8): {"id": fakes.user_id(8), "name": "Guest", "aadObjectId": fakes.aad(8)},
    }
    raw = fakes.message("", user=1, service_url=url, conversation_type="channel")
    raw["type"] = "conversationUpdate"
    raw["membersAdded"] = [{"id": fakes.BOT_ID}]
    raw["conversation"]["id"] = fakes.CHANNEL_ID
    raw.pop("text")
    server = await serve(settings(teams_allow_anonymous=True), db, clock)
    try:
        status, _ = await post(server, raw)
    finally:
        await server.close()
    assert status in (200, 202)
    assert team.id is not None
    linked = await people.get_team(db, team_id=team.id)
    assert linked is not None
    assert linked.teams_channel_ref is None  # channels are linked with `leadbot link` only
    assert "leadbot link" in fake.cards()[0]["fallbackText"]
    # Maria, found in the roster by email, can now be messaged in a new 1:1 chat.
    m = await people.get_person(db, person_id=maria.id)
    assert m is not None
    assert m.teams_user_id == fakes.aad(2)
    partial = ConversationRef.from_json(m.teams_conversation_ref)
    assert partial is not None
    assert partial.user_id == fakes.user_id(2)
    assert partial.conversation_id is None
    # Her waiting message now goes to her Teams id, due at once.
    [row] = await outbox.list_messages(db)
    assert (row.platform, row.target) == ("teams", fakes.aad(2))
    assert row.next_attempt_at <= utcnow()
    assert row.last_error is None


async def test_malformed_activities_are_400_not_500(db: Database, clock: FakeClock) -> None:
    server = await serve(settings(teams_allow_anonymous=True), db, clock)
    try:
        not_json = await post_raw(server, b"{nope")
        wrong_shape = await post_raw(server, json.dumps({"type": 5, "entities": "x"}).encode())
        no_conversation = await post_raw(server, json.dumps({"type": "message"}).encode())
    finally:
        await server.close()
    assert not_json == 400
    assert wrong_shape == 400
    assert no_conversation == 400


async def post_raw(server: TestServer, body: bytes) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.make_url("/api/messages"),
            data=body,
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        return resp.status


def test_anonymous_mode_is_logged_as_a_warning_at_start(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"):
        build_web_app(bootstrap(settings(teams_allow_anonymous=True), db=db))
    assert any(
        r.levelname == "WARNING" and "TEAMS_ALLOW_ANONYMOUS" in r.getMessage()
        for r in caplog.records
    )
    caplog.clear()
    with caplog.at_level("WARNING"):
        build_web_app(bootstrap(settings(teams_app_id=APP_ID, teams_app_password="s"), db=db))
    assert not any("TEAMS_ALLOW_ANONYMOUS" in r.getMessage() for r in caplog.records)


async def test_pulse_card_sent_by_the_outbox_is_answered_in_place_over_http(
    db: Database, clock: FakeClock, connector: tuple[fakes.FakeConnector, str]
) -> None:
    """End to end: a lead opens a pulse, the dispatcher delivers the card to an agent in
    Teams, the agent taps 4, and the card they see becomes the thank-you card."""
    fake, url = connector
    team = await make_team(db)
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    agents = [
        await make_person(db, f"agent{i}.x", team=team, work_hours="Mon-Sun 00:00-23:59")
        for i in range(5)
    ]
    for n, a in enumerate(agents, start=2):
        assert a.id is not None
        ref = ConversationRef(
            service_url=url,
            tenant_id=fakes.TENANT,
            conversation_id=f"a:personal-{n}",
            user_id=fakes.user_id(n),
            aad_object_id=fakes.aad(n),
            bot_id=fakes.BOT_ID,
        )
        await teams_store.link_person(
            db, person_id=a.id, teams_user_id=fakes.aad(n), conversation_ref=ref.to_json()
        )
    ctx = make_ctx(db, clock, leadbot_secret="s")
    clock.set(utcnow())
    assert (await run_command(await command(db, lead, "/pulse now"), ctx)).ok
    sender = TeamsSender(db)
    try:
        d = Dispatcher(db, {"teams": sender}, config=DispatcherConfig(batch_size=1), clock=clock)
        clock.advance(seconds=1)
        await d.drain()
    finally:
        await sender.close()
    to_first = [b for b in fake.posted if b["_conversation"] == "a:personal-2"]
    assert len(to_first) == 1
    card = to_first[0]["attachments"][0]["content"]
    four = next(
        a
        for block in card["body"]
        if block["type"] == "ActionSet"
        for a in block["actions"]
        if a["title"].startswith("4")
    )
    assert four["type"] == "Action.Execute"

    server = await serve(settings(teams_allow_anonymous=True), db, clock)
    try:
        status, text = await post(
            server, fakes.invoke(four["data"], user=2, verb=four["verb"], service_url=url)
        )
        again, _ = await post(
            server, fakes.invoke(four["data"], user=2, verb=four["verb"], service_url=url)
        )
    finally:
        await server.close()
    assert status == 200
    assert again == 200
    body = json.loads(text)
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Thanks, your answer is in" in body["value"]["fallbackText"]
    async with db.session() as s:
        rows = list((await s.execute(select(PulseResponse))).scalars())
    assert [(r.question, r.score) for r in rows] == [("esat", 4)]


async def test_the_roster_is_read_page_by_page_with_the_paged_members_api(
    db: Database, clock: FakeClock, connector: tuple[fakes.FakeConnector, str]
) -> None:
    fake, url = connector
    team = await make_team(db, "Billing")
    agents = [await make_person(db, f"agent{n}.x", team=team) for n in range(2, 7)]
    fake.members = {
        fakes.user_id(n): {
            "id": fakes.user_id(n),
            "name": f"Agent{n} X",
            "aadObjectId": fakes.aad(n),
            "email": f"agent{n}.x@example.com",
        }
        for n in range(2, 7)
    }
    fake.member_page_size = 2  # five members: three pages
    raw = fakes.message("", user=1, service_url=url, conversation_type="channel")
    raw["type"] = "conversationUpdate"
    raw["membersAdded"] = [{"id": fakes.BOT_ID}]
    raw["conversation"]["id"] = fakes.CHANNEL_ID
    raw.pop("text")
    server = await serve(settings(teams_allow_anonymous=True), db, clock)
    try:
        status, _ = await post(server, raw)
    finally:
        await server.close()
    assert status in (200, 202)
    # Roster reads (a single member's lookup, GET .../members/{id}, is not one).
    roster_calls = [p for m, p, _a in fake.requests if p.endswith(("/members", "/pagedmembers"))]
    assert roster_calls == [f"/teams/v3/conversations/{fakes.CHANNEL_ID}/pagedmembers"] * 3
    for n, a in enumerate(agents, start=2):
        assert a.id is not None
        stored = await people.get_person(db, person_id=a.id)
        assert stored is not None
        assert stored.teams_user_id == fakes.aad(n)
        ref = ConversationRef.from_json(stored.teams_conversation_ref)
        assert ref is not None
        assert ref.user_id == fakes.user_id(n)
