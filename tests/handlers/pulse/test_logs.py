"""Logs keep the pulse's promise: every pulse path, failing in the database at its most
telling statement, logs a ref and a traceback, and nothing in the log (messages, their
arguments, exception text) or in a failed job's stored error names who answered or what.

The failures are real: a write refused by the database (a SQLite trigger; on PostgreSQL a
CHECK constraint, whose error details list the whole failing row) and a table taken away
under a read, so the driver and SQLAlchemy raise as in production: with the statement
and, unless something hides them, its bound values (the comment, the respondent hash, the
person).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa

from domain.privacy import respondent_hash
from domain.types import Reply
from jobs.pulse_jobs import JOBS
from jobs.scheduler import Outcome, Runtime, run_job
from storage.db import Database
from storage.models import Person
from tests.conftest import FakeClock, make_ctx
from tests.handlers.pulse.helpers import close_all, comment, make_crew, open_now, run, tap

OOPS = "something went wrong on our side"
OPEN_COMMENT = "My lead ignores me and I dread Mondays"
CLOSED_COMMENT = "I am interviewing elsewhere next week"
NEW_COMMENT = "Please stop the surprise overtime"

AWAY = (
    "ALTER TABLE pulseresponse RENAME TO pulseresponse_away",
    "ALTER TABLE pulseresponse_away RENAME TO pulseresponse",
)


def abort(dialect: str, when: str, table: str) -> tuple[str, str]:
    """A fault that makes `when` (BEFORE INSERT or BEFORE UPDATE) on `table` fail, and its
    undoing. PostgreSQL: a CHECK that no new row meets (existing rows are not checked)."""
    if dialect == "postgresql":
        return (
            f"ALTER TABLE {table} ADD CONSTRAINT injected_{table} CHECK (false) NOT VALID",
            f"ALTER TABLE {table} DROP CONSTRAINT injected_{table}",
        )
    name = f"injected_{when.split()[1].lower()}_{table}"
    return (
        f"CREATE TRIGGER {name} {when} ON {table} BEGIN SELECT RAISE(ABORT, 'injected'); END",
        f"DROP TRIGGER {name}",
    )


@asynccontextmanager
async def broken(db: Database, fault: tuple[str, str]) -> AsyncIterator[None]:
    make, undo = fault
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(make))
    try:
        yield
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(sa.text(undo))


async def _people_from_70001(db: Database) -> None:
    """Person ids far from any line number, count or round id, so finding one in a log
    means a person was logged. (SQLite numbers new rows after the highest id.)"""
    async with db.session() as s:
        s.add(Person(id=70000, email="placeholder@example.com", display_name="Placeholder"))
    if db.dialect == "postgresql":
        async with db.engine.begin() as conn:
            await conn.execute(sa.text("SELECT setval('person_id_seq', 70000)"))


def _everything_logged(records: list[logging.LogRecord]) -> str:
    fmt = logging.Formatter()
    parts = []
    for r in records:
        parts += [r.getMessage(), repr(r.args), r.exc_text or ""]
        if r.exc_info:
            parts.append(fmt.formatException(r.exc_info))
    return "\n".join(parts)


async def test_every_pulse_path_fails_without_naming_anyone(
    any_db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    db = any_db
    ctx = make_ctx(db, clock)
    d = db.dialect
    caplog.set_level(logging.DEBUG)
    # As in production (bot/logs.setup_logging): aiosqlite's DEBUG lines echo every
    # statement with its parameters, so it is held at WARNING whatever LOG_LEVEL says.
    caplog.set_level(logging.WARNING, logger="aiosqlite")
    await _people_from_70001(db)
    billing = await make_crew(db, "Billing", 8)
    sales = await make_crew(db, "Sales", 6)
    # A closed round with a comment (for the results), then an open one with answers.
    old = await open_now(db, ctx, billing)
    for agent, score in zip(billing.agents, [5, 4, 4, 2, 1, 3], strict=False):
        await tap(ctx, agent, f"{old}:esat:{score}")
    await comment(ctx, billing.agents[1], old, CLOSED_COMMENT)
    await close_all(db)
    clock.advance(days=7)
    rid = await open_now(db, ctx, billing)
    for agent, score in zip(billing.agents, [5, 2, 4, 1, 3], strict=False):
        await tap(ctx, agent, f"{rid}:esat:{score}")
        await tap(ctx, agent, f"{rid}:enps:{score + 4}")
    await comment(ctx, billing.agents[0], rid, OPEN_COMMENT)
    ana, ben = billing.agents[0], billing.agents[1]
    caplog.clear()

    replies: dict[str, Reply] = {}
    paths: list[tuple[str, tuple[str, str], Callable[[], object]]] = [
        (
            "answer",
            abort(d, "BEFORE INSERT", "pulseresponse"),
            lambda: tap(ctx, billing.agents[6], f"{rid}:esat:4"),
        ),
        (
            "change answer",
            abort(d, "BEFORE UPDATE", "pulseresponse"),
            lambda: tap(ctx, ben, f"{rid}:esat:5"),
        ),
        (
            "comment",
            abort(d, "BEFORE UPDATE", "pulseresponse"),
            lambda: comment(ctx, ana, rid, NEW_COMMENT),
        ),
        ("agent status", AWAY, lambda: run(db, ctx, ana, "/pulse status")),
        ("lead status", AWAY, lambda: run(db, ctx, billing.lead, "/pulse status")),
        ("results", AWAY, lambda: run(db, ctx, billing.lead, "/pulse results")),
        ("mine", AWAY, lambda: run(db, ctx, ana, "/pulse mine")),
        (
            "open",
            abort(d, "BEFORE INSERT", "pulsedelivery"),
            lambda: run(db, ctx, sales.lead, "/pulse now"),
        ),
    ]
    for name, fault, call in paths:
        async with broken(db, fault):
            reply = await call()  # type: ignore[misc]
        assert isinstance(reply, Reply)
        assert OOPS in reply.text, name
        replies[name] = reply

    # The jobs, as the scheduler runs them: a failed run is logged and its error stored.
    rt = Runtime(ctx=ctx, jobs={j.id: j for j in JOBS})
    clock.advance(hours=25)
    async with broken(db, abort(d, "BEFORE UPDATE", "pulsedelivery")):
        assert await run_job(rt, "pulse.remind", team_id=None, fire_time=clock()) is Outcome.failed
    clock.advance(hours=48)
    async with broken(db, abort(d, "BEFORE INSERT", "pulseresponse")):  # the unlinking rewrite
        assert await run_job(rt, "pulse.close", team_id=None, fire_time=clock()) is Outcome.failed

    records = list(caplog.records)
    logged = _everything_logged(records)
    async with db.engine.connect() as conn:
        stored = "\n".join(
            str(e)
            for e in (
                await conn.execute(sa.text("SELECT job_id || ': ' || error FROM jobrun"))
            ).scalars()
        )
    # Not vacuous: each path failed in the database and logged it with its statement...
    failures = [r for r in records if r.exc_info]
    assert len(failures) == len(paths) + 2
    told = [str(r.exc_info[1]) for r in failures if r.exc_info]
    assert all(
        t.startswith(("IntegrityError", "OperationalError", "ProgrammingError")) for t in told
    )
    for statement in ("INSERT INTO pulseresponse", "UPDATE pulseresponse", "FROM pulseresponse"):
        assert any(f"in: {statement}" in t or statement in t for t in told), statement
    assert "INSERT INTO pulsedelivery" in logged
    assert "UPDATE pulsedelivery" in stored  # the reminder
    assert "INSERT INTO pulseresponse" in stored  # the unlinking rewrite at close
    # ... and never with the values bound to it, nor the driver's copy of the row.
    for text in (logged, stored):
        assert "[parameters:" not in text
        assert "Failing row" not in text
        assert "DETAIL" not in text

    async with db.session() as s:
        persons = list((await s.execute(sa.select(Person))).scalars())
    secret = ctx.settings.secret
    forbidden = {OPEN_COMMENT, CLOSED_COMMENT, NEW_COMMENT}
    for p in persons:
        assert p.id is not None
        forbidden |= {str(p.id), p.email, p.email.split("@")[0], p.display_name}
        for r in (old, rid, rid + 1):
            forbidden.add(respondent_hash(secret, round_id=r, person_id=p.id))
    for r in (old, rid):
        forbidden |= {f"{r}:{q}:{s}" for q in ("esat", "enps") for s in range(11)}
    for text in (logged, stored):
        found = sorted(f for f in forbidden if f in text)
        assert found == [], found
        assert not re.search(r"score\W{0,4}\d", text)
        assert not re.search(r"actor\W{0,4}\d", text)
    ids = {p.id for p in persons}
    assert not any(a in ids for r in records for a in (r.args or ()) if isinstance(a, int))


async def test_any_database_error_is_told_without_its_values(any_db: Database) -> None:
    """Beyond the pulse store: the engine hides bound values from every error's text."""
    async with any_db.session() as s:
        s.add(Person(email="maria.lopez@example.com", display_name="Maria Lopez"))
    with pytest.raises(sa.exc.IntegrityError) as caught:
        async with any_db.session() as s:
            s.add(Person(email="maria.lopez@example.com", display_name="Maria Again"))
    assert "hide_parameters=True" in str(caught.value)
    assert "maria" not in str(caught.value).lower()
