"""The storage edge, on SQLite and PostgreSQL alike: what a statement's parameters may
hold (NUL), what an error or log line may show of them (nothing), and which errors mean
"the database is unavailable" (a server shutting down is one)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from domain.roles import Role
from storage import outbox, people
from storage.db import Database, DatabaseUnavailable, is_connection_error
from storage.models import OutboxMessage, Person, PulseResponse
from tests.faults.tcp_proxy import TcpProxy
from tests.faults.test_database_down import _via
from tests.faults.test_dispatcher_outage import terminate_backends

NUL = "\x00"
SECRET = "my-private-pulse-comment-7f3a"

log = logging.getLogger("tests.storage_edge")


async def test_nul_in_text_is_removed_the_same_way_on_both_stores(any_db: Database) -> None:
    # ORM insert (upsert_person), then lookups with and without the NUL.
    p = await people.upsert_person(
        any_db,
        email=f"ma{NUL}ria@example.com",
        display_name=f"Maria{NUL} Lopez",
        role=Role.agent,
        team_id=None,
    )
    assert p.id is not None
    got = await people.get_person(any_db, person_id=p.id)
    assert got is not None
    assert (got.email, got.display_name) == ("maria@example.com", "Maria Lopez")
    by_plain = await people.get_by_email(any_db, email="maria@example.com")
    by_nul = await people.get_by_email(any_db, email=f"ma{NUL}ria@example.com")
    assert by_plain is not None
    assert by_nul is not None
    assert by_plain.id == by_nul.id == p.id

    # Core INSERT ... ON CONFLICT (the outbox), with NUL in the key and the payload.
    added = await outbox.enqueue(
        any_db,
        messages=[outbox.OutboxNew(dedupe_key=f"k{NUL}1", payload=f"{{}}{NUL}", person_id=p.id)],
    )
    assert added == 1
    again = await outbox.enqueue(
        any_db, messages=[outbox.OutboxNew(dedupe_key="k1", payload="{}", person_id=p.id)]
    )
    assert again == 0  # the same key once the NUL is gone
    [m] = await outbox.messages_after(any_db, after_id=0)
    assert (m.dedupe_key, m.payload) == ("k1", "{}")

    # executemany (the dispatcher's group commit) and an UPDATE of a free-text column.
    assert m.id is not None
    await outbox.mark_delivered_many(any_db, items=[(m.id, f"17.{NUL}5")], now=m.created_at)
    sent = await outbox.get_message(any_db, message_id=m.id)
    assert sent is not None
    assert sent.external_ref == "17.5"

    # A text() statement with a bound parameter, and a free-text comment (a pulse).
    async with any_db.session() as s:
        await s.execute(
            sa.text("UPDATE person SET work_hours = :w WHERE id = :i"),
            {"w": f"Mon-Fri{NUL} 09:00-17:00", "i": p.id},
        )
        value = await s.scalar(sa.select(col(Person.work_hours)).where(col(Person.id) == p.id))
    assert value == "Mon-Fri 09:00-17:00"
    # Every text column read back holds no NUL at all.
    async with any_db.session() as s:
        rows = (await s.execute(select(OutboxMessage))).scalars().all()
        people_rows = (await s.execute(select(Person))).scalars().all()
    for row in [*rows, *people_rows]:
        for value in row.model_dump().values():
            assert not (isinstance(value, str) and NUL in value), row


async def test_errors_and_logs_never_show_bound_parameters(
    any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # SQLAlchemy's engine log of every statement included
    # aiosqlite logs each call with its arguments at DEBUG; the product keeps it at WARNING
    # (bot.logs.setup_logging), as here.
    caplog.set_level(logging.WARNING, logger="aiosqlite")
    # A pulse comment on a round that does not exist: a foreign-key violation whose
    # statement carries the comment as a parameter.
    with pytest.raises(IntegrityError) as raised:
        async with any_db.session() as s:
            s.add(
                PulseResponse(
                    round_id=424242, question="esat", respondent_hash="h", score=4, comment=SECRET
                )
            )
    try:
        raise raised.value
    except IntegrityError:
        log.exception("storing the comment failed")
    # A unique violation through a Core INSERT with the text in another column.
    await people.upsert_person(
        any_db, email="dup@example.com", display_name="Dup", role=Role.agent, team_id=None
    )
    with pytest.raises(IntegrityError) as second:
        async with any_db.session() as s:
            await s.execute(
                sa.insert(Person).values(
                    email="dup@example.com",
                    display_name=SECRET,
                    role=Role.agent.value,
                    timezone="UTC",
                    work_hours="x",
                    active=True,
                    created_at=sa.func.now(),
                )
            )
    try:
        raise second.value
    except IntegrityError:
        log.exception("storing the person failed")
    for exc in (raised.value, second.value):
        assert SECRET not in str(exc)
        assert "SQL parameters hidden" in str(exc)
    assert "storing the comment failed" in caplog.text  # the traceback was logged...
    assert "Traceback" in caplog.text
    assert SECRET not in caplog.text  # ...without the parameters


@pytest.mark.postgres
async def test_a_server_shutting_down_is_unavailable_not_an_error(pg_url: str) -> None:
    """What `pg_ctl stop` does, on the wire: open connections are terminated (57P01),
    new ones are answered "the database system is shutting down" (57P03)."""
    direct = Database(pg_url)
    parts = urlsplit(pg_url)
    proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    db = Database(_via(pg_url, proxy.port))
    try:
        async with db.session() as s:
            assert await s.scalar(sa.text("SELECT 1")) == 1
        assert proxy.upstream_ports()
        proxy.shutting_down()
        killed = await terminate_backends(direct, proxy.upstream_ports())
        assert killed == 1
        for _ in range(2):  # the terminated pooled connection, then a new one refused
            with pytest.raises(DatabaseUnavailable) as down:
                async with db.session() as s:
                    await s.scalar(sa.text("SELECT 1"))
            assert is_connection_error(down.value.__cause__ or down.value)
        assert proxy.refused >= 1
        assert "shutting down" in str(down.value.__cause__)
        assert not db.available
        await proxy.restore()
        async with db.session() as s:
            assert await s.scalar(sa.text("SELECT 1")) == 1
        assert db.available
    finally:
        await proxy.restore()
        await db.dispose()
        await proxy.close()
        await direct.dispose()
