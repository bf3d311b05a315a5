"""Inbound trust with validly signed tokens, checked by the SDK itself: keys are served
on loopback as login.botframework.com / login.microsoftonline.com (a CONNECT proxy and a
test CA, tests/bot/teams/idp.py), nothing of the SDK is patched, and the bot's outbound
token comes from MSAL against the same fake Entra.

A valid Teams token is handled; a wrong audience, an expired token, a wrong key, another
tenant, another issuer, a serviceUrl that is not the token's serviceurl claim, no
serviceurl claim, another tenant in the activity, a service host not allowed: 401, and
nothing is stored, nothing sent, no outbound token fetched."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from bot.teams.refs import ConversationRef
from bot.teams.trust import same_service_url
from domain.roles import Role
from domain.settings import TEAMS_SERVICE_HOSTS, Settings
from storage import people
from storage import teams as teams_store
from storage.db import Database
from storage.models import Person, ProcessedEvent
from tests.bot.teams import fakes
from tests.bot.teams.idp import (
    FakeMicrosoftLogin,
    bot_framework_claims,
    entra_claims,
    sign,
    trusted_network,
)
from tests.bot.teams.pki import pki
from tests.conftest import FakeClock, make_person, make_team

APP_ID = "6f1c2d3e-1111-2222-3333-444455556666"
OTHER_TENANT = "0b1e5c7a-9d2f-4e61-8a3b-5c6d7e8f9a0b"
TEAMS_AMER = "https://smba.trafficmanager.net/amer/"


def secured(**kw: Any) -> Settings:
    """Teams with credentials, our tenant, and the loopback connector's host allowed."""
    values: dict[str, Any] = {
        "teams_app_id": APP_ID,
        "teams_app_password": "app-secret",
        "teams_tenant_id": fakes.TENANT,
        "teams_allowed_service_hosts": ("localhost",),
    }
    values.update(kw)
    return Settings(_env_file=None, slack_bot_token=None, **values)


@pytest.fixture
def login(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMicrosoftLogin]:
    with trusted_network(monkeypatch) as service:
        yield service


@pytest.fixture
async def connector(login: FakeMicrosoftLogin) -> AsyncIterator[tuple[fakes.FakeConnector, str]]:
    fake = fakes.FakeConnector(tls=pki().server_context())
    url = await fake.start()
    yield fake, url
    await fake.close()


async def serve(s: Settings, db: Database, clock: FakeClock) -> TestServer:
    server = TestServer(build_web_app(bootstrap(s, db=db, clock=clock)), host="127.0.0.1")
    await server.start_server()
    return server


async def post(server: TestServer, body: dict[str, Any], token: str | None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.make_url("/api/messages"), json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text()


async def lead_with_a_chat(db: Database, url: str) -> tuple[Person, str]:
    """Lena, known on Teams, with her 1:1 chat stored (what an attacker would re-point)."""
    team = await make_team(db)
    p = await make_person(db, "lena.lead", role=Role.lead, team=team)
    assert p.id is not None
    ref = ConversationRef(
        service_url=url,
        tenant_id=fakes.TENANT,
        conversation_id="a:personal-1",
        user_id=fakes.user_id(1),
        aad_object_id=fakes.aad(1),
        bot_id=fakes.BOT_ID,
        bot_name=fakes.BOT_NAME,
    ).to_json()
    await teams_store.link_person(
        db, person_id=p.id, teams_user_id=fakes.aad(1), conversation_ref=ref
    )
    return p, ref


async def events(db: Database) -> list[ProcessedEvent]:
    async with db.session() as s:
        return list((await s.execute(select(ProcessedEvent))).scalars())


async def stored_ref(db: Database, p: Person) -> str | None:
    assert p.id is not None
    again = await people.get_person(db, person_id=p.id)
    assert again is not None
    return again.teams_conversation_ref


async def test_a_validly_signed_teams_token_is_handled(
    db: Database,
    clock: FakeClock,
    login: FakeMicrosoftLogin,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    p, _ref = await lead_with_a_chat(db, url)
    server = await serve(secured(), db, clock)
    token = sign(bot_framework_claims(APP_ID, url), pki().bot_framework)
    try:
        status, text = await post(server, fakes.message("leadbot whoami", service_url=url), token)
    finally:
        await server.close()
    assert status in (200, 202), text
    cards = fake.cards()
    assert len(cards) == 1
    assert "lena.lead@example.com" in cards[0]["fallbackText"]
    # The reply carried the bot's own token, from MSAL against the fake Entra.
    assert [auth for _m, _p, auth in fake.requests] == ["Bearer outbound-token-1"]
    assert login.token_requests == 1
    assert len(await events(db)) == 1
    stored = ConversationRef.from_json(await stored_ref(db, p))
    assert stored is not None
    assert stored.service_url == url


async def test_an_entra_token_of_our_tenant_with_the_claim_is_handled(
    db: Database,
    clock: FakeClock,
    login: FakeMicrosoftLogin,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    """The control for the Entra cases below: Entra's keys are served and checked, so
    those are refused for their issuer and tenant, not for a key the SDK couldn't fetch."""
    fake, url = connector
    await lead_with_a_chat(db, url)
    server = await serve(secured(), db, clock)
    token = sign(entra_claims(APP_ID, fakes.TENANT, serviceurl=url), pki().entra)
    try:
        status, text = await post(server, fakes.message("leadbot whoami", service_url=url), token)
    finally:
        await server.close()
    assert status in (200, 202), text
    assert len(fake.cards()) == 1


Case = tuple[Callable[[str], str], Callable[[dict[str, Any], str], None], str]


def _activity_unchanged(_body: dict[str, Any], _url: str) -> None:
    return None


def _service_url(value: str) -> Callable[[dict[str, Any], str], None]:
    def change(body: dict[str, Any], _url: str) -> None:
        body["serviceUrl"] = value

    return change


def _tenant(value: str) -> Callable[[dict[str, Any], str], None]:
    def change(body: dict[str, Any], _url: str) -> None:
        body["conversation"]["tenantId"] = value
        body["channelData"]["tenant"]["id"] = value

    return change


def bf(**overrides: Any) -> Callable[[str], str]:
    def make(url: str) -> str:
        return sign(bot_framework_claims(APP_ID, url, **overrides), pki().bot_framework)

    return make


REFUSED: dict[str, Case] = {
    "wrong audience": (
        bf(aud="a0a0a0a0-0000-0000-0000-000000000000"),
        _activity_unchanged,
        "JWT audience not accepted",
    ),
    "expired": (bf(exp=1_700_000_000, nbf=1_699_990_000), _activity_unchanged, "JWT validation"),
    "wrong key": (
        lambda url: sign(bot_framework_claims(APP_ID, url), pki().attacker),
        _activity_unchanged,
        "JWT validation",
    ),
    "other tenant": (
        lambda url: sign(entra_claims(APP_ID, OTHER_TENANT, serviceurl=url), pki().entra),
        _tenant(OTHER_TENANT),
        "JWT issuer not accepted",
    ),
    "other tenant, our tenant in the activity": (
        lambda url: sign(entra_claims(APP_ID, OTHER_TENANT, serviceurl=url), pki().entra),
        _activity_unchanged,
        "JWT issuer not accepted",
    ),
    "wrong issuer": (
        lambda url: sign(
            entra_claims(APP_ID, fakes.TENANT, iss="https://issuer.example.net/", serviceurl=url),
            pki().entra,
        ),
        _activity_unchanged,
        "JWT issuer not accepted",
    ),
    "serviceUrl is not the token's claim": (
        # Teams' token says amer; the activity names another (allowed) host.
        lambda url: sign(bot_framework_claims(APP_ID, TEAMS_AMER), pki().bot_framework),
        _activity_unchanged,
        "not the token's serviceurl claim",
    ),
    "serviceUrl on another path of the claimed host": (
        bf(),
        lambda body, url: body.__setitem__("serviceUrl", url + "evil/"),
        "not the token's serviceurl claim",
    ),
    "no serviceurl claim": (bf(serviceurl=None), _activity_unchanged, "no serviceurl claim"),
    "no serviceUrl in the activity": (
        bf(),
        lambda body, _url: body.pop("serviceUrl"),
        "not the token's serviceurl claim",
    ),
    "a service host that is not allowed": (
        bf(serviceurl="https://connector.example.net/teams/"),
        _service_url("https://connector.example.net/teams/"),
        "not an allowed service host",
    ),
    "another tenant in the activity": (
        bf(),
        _tenant(OTHER_TENANT),
        "tenant is not an allowed tenant",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
async def test_refused_tokens_get_401_and_nothing_is_stored_or_sent(
    case: str,
    db: Database,
    clock: FakeClock,
    login: FakeMicrosoftLogin,
    connector: tuple[fakes.FakeConnector, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    make_token, change, logged = REFUSED[case]
    fake, url = connector
    p, ref = await lead_with_a_chat(db, url)
    body = fakes.message("leadbot whoami", service_url=url)
    change(body, url)
    server = await serve(secured(), db, clock)
    try:
        with caplog.at_level(logging.WARNING):
            status, text = await post(server, body, make_token(url))
            # And as a card button (an invoke is answered in the response itself).
            press = fakes.invoke({"leadbot": "nosuch.button", "value": "1"}, service_url=url)
            change(press, url)
            press_status, _ = await post(server, press, make_token(url))
    finally:
        await server.close()
    assert status == 401, text
    assert press_status == 401
    assert "Traceback" not in text
    assert any(logged in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]
    # Nothing stored: no event claimed, her conversation reference as it was, nobody new.
    assert await events(db) == []
    assert await stored_ref(db, p) == ref
    async with db.session() as s:
        assert len(list((await s.execute(select(Person))).scalars())) == 1
    # Nothing sent, and no token fetched to send it with.
    assert fake.requests == []
    assert login.token_requests == 0


async def test_with_no_tenant_configured_nothing_is_accepted(
    db: Database,
    clock: FakeClock,
    login: FakeMicrosoftLogin,
    connector: tuple[fakes.FakeConnector, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, url = connector
    p, ref = await lead_with_a_chat(db, url)
    with caplog.at_level(logging.ERROR):
        server = await serve(secured(teams_tenant_id=None), db, clock)
    assert any("TEAMS_TENANT_ID is not set" in r.getMessage() for r in caplog.records)
    token = sign(bot_framework_claims(APP_ID, url), pki().bot_framework)
    try:
        status, _ = await post(server, fakes.message("leadbot whoami", service_url=url), token)
    finally:
        await server.close()
    assert status == 401
    assert await events(db) == []
    assert await stored_ref(db, p) == ref
    assert fake.requests == []


async def test_another_allowed_tenant_is_accepted(
    db: Database,
    clock: FakeClock,
    login: FakeMicrosoftLogin,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    fake, url = connector
    await lead_with_a_chat(db, url)
    body = fakes.message("leadbot whoami", service_url=url)
    _tenant(OTHER_TENANT)(body, url)
    token = sign(bot_framework_claims(APP_ID, url), pki().bot_framework)
    server = await serve(secured(teams_allowed_tenant_ids=OTHER_TENANT.upper()), db, clock)
    try:
        status, text = await post(server, body, token)
    finally:
        await server.close()
    assert status in (200, 202), text
    assert len(fake.cards()) == 1


async def test_a_cold_start_fetches_one_outbound_token(
    sqlite_file_db: Database,
    clock: FakeClock,
    login: FakeMicrosoftLogin,
    connector: tuple[fakes.FakeConnector, str],
) -> None:
    """Six activities at once on a fresh server: one token request to Entra, not six."""
    db = sqlite_file_db
    fake, url = connector
    await lead_with_a_chat(db, url)
    server = await serve(secured(), db, clock)
    token = sign(bot_framework_claims(APP_ID, url), pki().bot_framework)
    try:
        results = await asyncio.gather(
            *(
                post(server, fakes.message("leadbot whoami", service_url=url), token)
                for _ in range(6)
            )
        )
    finally:
        await server.close()
    assert [s for s, _ in results] == [202] * 6, results
    assert login.token_requests == 1
    assert len(fake.cards()) == 6
    assert {auth for _m, _p, auth in fake.requests} == {"Bearer outbound-token-1"}


def test_service_urls_compare_by_scheme_host_port_and_path() -> None:
    assert same_service_url(TEAMS_AMER, "https://SMBA.trafficmanager.net/amer")
    assert not same_service_url(TEAMS_AMER, "https://smba.trafficmanager.net/emea/")
    assert not same_service_url(TEAMS_AMER, "http://smba.trafficmanager.net/amer/")
    assert not same_service_url(TEAMS_AMER, "https://smba.trafficmanager.net:8443/amer/")
    assert not same_service_url(TEAMS_AMER, "https://x@smba.trafficmanager.net/amer/")
    assert not same_service_url(TEAMS_AMER, "https://smba.trafficmanager.net.evil.example/amer/")
    assert not same_service_url("not a url", "not a url")


def test_production_defaults_allow_only_teams_service_hosts() -> None:
    s = Settings(_env_file=None)
    assert s.teams_allowed_service_hosts == TEAMS_SERVICE_HOSTS
    assert not any("localhost" in h or "127." in h for h in s.teams_allowed_service_hosts)


async def test_a_connector_refusing_the_bot_is_logged_once_and_not_answered(
    db: Database,
    clock: FakeClock,
    login: FakeMicrosoftLogin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 401 from the Bot Connector (the bot is not registered): no 'sorry' reply that
    would be refused as well, and one clear error, not one per message."""
    fake = fakes.FakeConnector(tls=pki().server_context(), unauthorized=True)
    url = await fake.start()
    try:
        await lead_with_a_chat(db, url)
        server = await serve(secured(), db, clock)
        token = sign(bot_framework_claims(APP_ID, url), pki().bot_framework)
        try:
            with caplog.at_level(logging.ERROR):
                for _ in range(3):
                    status, _ = await post(
                        server, fakes.message("leadbot whoami", service_url=url), token
                    )
                    assert status == 202
        finally:
            await server.close()
    finally:
        await fake.close()
    assert len(fake.requests) == 3  # the reply of each turn, nothing after it
    logged = [r for r in caplog.records if "refused the bot's credentials" in r.getMessage()]
    assert len(logged) == 1
    assert not any("teams turn failed" in r.getMessage() for r in caplog.records)
