"""Fixtures for the `/action` tests: two teams and their people."""

from __future__ import annotations

import pytest

from domain.roles import Role
from storage.db import Database
from tests.conftest import make_person, make_team
from tests.handlers.actions.helpers import World


@pytest.fixture
async def w(db: Database) -> World:
    billing = await make_team(db, "Billing", "Europe/London")
    tech = await make_team(db, "Tech Support", "America/New_York")
    return World(
        lead=await make_person(db, "lee.lead", role=Role.lead, team=billing),
        maria=await make_person(db, "maria.lopez", team=billing),
        sam=await make_person(db, "sam.agent", team=billing),
        manager=await make_person(db, "mona.manager", role=Role.manager, team=billing),
        other_lead=await make_person(
            db, "olga.other", role=Role.lead, team=tech, tz="America/New_York"
        ),
        oscar=await make_person(db, "oscar.other", team=tech, tz="America/New_York"),
        admin=await make_person(db, "ada.admin", role=Role.admin),
    )
