"""Builders shared by the scheduler and delivery tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.roles import Role
from domain.types import message
from storage import outbox, people
from storage.db import Database
from storage.models import Person
from storage.outbox import OutboxNew


async def slack_person(
    db: Database, handle: str, slack_id: str, *, role: Role = Role.lead
) -> Person:
    """A person reachable on Slack (leads by default: no quiet-hours hold)."""
    p = await people.upsert_person(
        db, email=f"{handle}@example.com", display_name=handle, role=role, team_id=None
    )
    assert p.id is not None
    await people.set_platform_id(db, person_id=p.id, slack_user_id=slack_id)
    got = await people.get_person(db, person_id=p.id)
    assert got is not None
    return got


async def enqueue_texts(
    db: Database,
    person: Person,
    texts: list[str],
    *,
    not_before: dt.datetime | None = None,
) -> None:
    """One outbox message per text, to one person, in order."""
    assert person.id is not None
    for text in texts:
        await outbox.enqueue(
            db,
            messages=[
                OutboxNew(
                    dedupe_key=f"test:{person.id}:{text}",
                    payload=message(text).to_json(),
                    person_id=person.id,
                    not_before=not_before,
                )
            ],
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def delivery_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A file SQLite store (one connection per session, as in production; the in-memory
    fixture shares one connection between concurrent sessions) or a PostgreSQL one."""
    from tests.conftest import fresh_store

    async with fresh_store(request.param, file_dir=tmp_path) as database:
        yield database
