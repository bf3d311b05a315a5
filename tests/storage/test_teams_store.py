"""storage/teams.py on SQLite and PostgreSQL: idempotency keys, one-time notices, Teams
identities (an id belongs to one person) and finding a team by its channel."""

from __future__ import annotations

import json

from storage import people
from storage import teams as store
from storage.db import Database
from tests.conftest import make_person, make_team


async def test_claim_event_and_notice_happen_once(any_db: Database) -> None:
    assert await store.claim_event(any_db, key="teams:c:1") is True
    assert await store.claim_event(any_db, key="teams:c:1") is False
    assert await store.claim_event(any_db, key="teams:c:2") is True
    assert await store.claim_notice(any_db, key="n:1") is True
    assert await store.claim_notice(any_db, key="n:1") is False


async def test_a_teams_id_belongs_to_one_person(any_db: Database) -> None:
    a = await make_person(any_db, "ana.old")
    b = await make_person(any_db, "ana.new")
    assert a.id is not None
    assert b.id is not None
    await store.link_person(any_db, person_id=a.id, teams_user_id="aad-1", conversation_ref="{}")
    found = await store.find_person(any_db, teams_ids=["29:x", "aad-1"])
    assert found is not None
    assert found.id == a.id
    # The roster was re-created: the id moves to the new row instead of failing.
    await store.link_person(any_db, person_id=b.id, teams_user_id="aad-1")
    found = await store.find_person(any_db, teams_ids=["aad-1"])
    assert found is not None
    assert found.id == b.id
    old = await people.get_person(any_db, person_id=a.id)
    assert old is not None
    assert old.teams_user_id is None
    assert await store.find_person(any_db, teams_ids=[]) is None


async def test_refs_and_team_by_channel(any_db: Database) -> None:
    billing = await make_team(any_db, "Billing")
    sales = await make_team(any_db, "Sales")
    assert billing.id is not None
    assert sales.id is not None
    ref = json.dumps({"v": 1, "service_url": "https://s", "conversation_id": "19:abc@thread"})
    await store.set_team_ref(any_db, team_id=billing.id, channel_ref=ref)
    await store.set_team_ref(any_db, team_id=sales.id, channel_ref="not json")
    team = await store.team_by_channel(any_db, conversation_id="19:abc@thread;messageid=17")
    assert team is not None
    assert team.id == billing.id
    assert await store.team_by_channel(any_db, conversation_id="19:other") is None
    p = await make_person(any_db, "maria.lopez", team=billing)
    assert p.id is not None
    await store.set_person_ref(any_db, person_id=p.id, conversation_ref=ref)
    found = await store.person_with_team(any_db, person_id=p.id)
    assert found is not None
    person, home = found
    assert person.teams_conversation_ref == ref
    assert home is not None
    assert home.id == billing.id
    assert await store.person_with_team(any_db, person_id=9999) is None
