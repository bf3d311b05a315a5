"""KPI imports that stream and know what they changed: new, updated and unchanged values.

`import_stream` takes the checked rows in batches and stages them in a temporary table of
the import's own transaction: PostgreSQL through COPY (asyncpg's copy_records_to_table on
SQLAlchemy's raw connection), SQLite through batched inserts. Then, in SQL and in one
pass each: the rows that repeat an earlier line are found, the new, changed and
unchanged ones counted, and everything new or changed merged into `metricvalue`: on
SQLite with one INSERT ... SELECT ... ON CONFLICT; on PostgreSQL, under a lock that
makes other writers (never readers) wait, with one UPDATE of the changed rows and one
plain INSERT of the new ones in index order, which costs less than half as much per row
(docs/performance.md, "KPI import"). Any problem (a bad row the caller found, a repeated
line) rolls the whole transaction back, staging included: all or nothing, and memory
stays flat whatever the file's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.kpi import KpiRow
from domain.localtime import local_date
from storage.db import Database
from storage.kpis import upsert_values_in
from storage.models import MetricValue, Person, Team, utcnow

Key = tuple[int | None, int | None, str, dt.date]  # (person, team when no person, metric, day)

# (line, person_id, team_id, metric_key, day, value, weight, numerator, denominator); the
# day is a date for PostgreSQL and its ISO text for SQLite (how each stores a DATE).
StageRow = tuple[int, int | None, int | None, str, object, float, float, float | None, float | None]
STAGE = "kpi_stage"
SQLITE_CACHE_IMPORT = -32768  # KiB: 32 MB of page cache while a file imports
PG_SORT_MEMORY = "256MB"  # the 2M-row benchmark's merge sorts in 237 MB
LONG_STATEMENT = 3600.0  # seconds a merge may take on PostgreSQL
SQLITE_CACHE_DEFAULT = -2000  # SQLite's default (2 MB), restored afterwards
STAGE_COLUMNS = (
    "line",
    "person_id",
    "team_id",
    "metric_key",
    "day",
    "value",
    "weight",
    "numerator",
    "denominator",
)


@dataclass(frozen=True)
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class Duplicate:
    """A line repeating an earlier line's person (or team), metric and day."""

    line: int
    first: int
    person: bool


@dataclass(frozen=True)
class StreamOutcome:
    """Counts when the import was committed; else the repeated lines found (if any)."""

    counts: ImportCounts | None
    duplicates: list[Duplicate]


class _Refused(Exception):
    """Rolls the import's transaction back (a problem was found); never escapes."""


async def roster_keys(
    db: Database,
) -> tuple[dict[str, tuple[int, int | None]], dict[str, int], dict[int, dt.date | None]]:
    """Everyone's email -> (person, team), every team's name key -> team, and each
    deactivated person -> the last day of theirs that still counts (their local day of
    deactivation; None: no day counts). What KPI rows are matched against, loaded once per
    import."""
    async with db.session() as s:
        rows = (
            await s.execute(
                sa.select(
                    col(Person.email),
                    col(Person.id),
                    col(Person.team_id),
                    col(Person.active),
                    col(Person.deactivated_at),
                    col(Person.timezone),
                )
            )
        ).all()
        teams = {k: int(i) for k, i in (await s.execute(select(Team.name_key, Team.id))).all()}
    people = {e: (i or 0, t) for e, i, t, *_ in rows}
    gone = {
        i or 0: (None if at is None else local_date(at, tz))
        for _, i, _, active, at, tz in rows
        if not active
    }
    return people, teams, gone


async def import_stream(
    db: Database, batches: Iterable[Sequence[StageRow]], *, clean: Callable[[], bool]
) -> StreamOutcome:
    """Stage every batch, then merge all of it in one transaction, or nothing (module doc).

    `clean()` is asked once the batches are exhausted: False (the caller found a bad row)
    rolls everything back. Repeated lines roll back too, and are returned.
    """
    found: list[Duplicate] = []
    try:
        async with db.session() as s:
            driver, dialect = await _driver(s)
            await _create_stage(s, dialect)
            try:
                staged = await _stage_all(driver, dialect, batches)
                if not await _unique_stage(s):
                    found = await _duplicates(s, driver, dialect)
                if found or not clean():
                    raise _Refused
                if dialect == "postgresql":
                    counts = await _merge_postgres(driver, staged)
                else:
                    counts = await _counts(s)
                    await _merge(s)
            finally:
                if dialect == "sqlite":
                    await s.execute(sa.text(f"DROP TABLE IF EXISTS temp.{STAGE}"))
                    await s.execute(sa.text(f"PRAGMA cache_size={SQLITE_CACHE_DEFAULT}"))
            return StreamOutcome(counts, [])
    except _Refused:
        return StreamOutcome(None, found)


async def _stage_all(driver: Any, dialect: str, batches: Iterable[Sequence[StageRow]]) -> int:
    """Stage each batch while the next one is being checked: SQLite inserts in its own
    thread (sqlite3 lets go of the GIL while it works) and PostgreSQL in its own process,
    so the two overlap. Returns how many rows were staged."""
    pending: asyncio.Future[None] | None = None
    staged = 0
    try:
        for batch in batches:
            staged += len(batch)
            if pending is not None:
                await pending
                pending = None
            if batch:
                pending = asyncio.ensure_future(_stage(driver, dialect, batch))
                await asyncio.sleep(0)  # hand the batch over before checking the next
        if pending is not None:
            await pending
            pending = None
    finally:
        if pending is not None:  # a bad file stopped the batches: let the insert finish
            with contextlib.suppress(Exception):
                await pending
    return staged


async def _unique_stage(s: AsyncSession) -> bool:
    """Index the staged rows by what must be unique; False when a key repeats.

    One sort, where a search for repeats would take several; the merge then reads the
    rows in index order, which keeps metricvalue's own index inserts local."""
    try:
        async with s.begin_nested():
            await s.execute(
                sa.text(
                    f"CREATE UNIQUE INDEX {STAGE}_person ON {STAGE} (person_id, metric_key, day) "
                    "WHERE person_id IS NOT NULL"
                )
            )
            await s.execute(
                sa.text(
                    f"CREATE UNIQUE INDEX {STAGE}_team ON {STAGE} (team_id, metric_key, day) "
                    "WHERE person_id IS NULL"
                )
            )
    except IntegrityError:
        return False
    return True


async def _driver(s: AsyncSession) -> tuple[Any, str]:
    conn = await s.connection()
    raw = await conn.get_raw_connection()
    return raw.driver_connection, conn.dialect.name


async def _create_stage(s: AsyncSession, dialect: str) -> None:
    if dialect == "sqlite":
        # A larger page cache for this import: the merge touches every index page.
        await s.execute(sa.text(f"PRAGMA cache_size={SQLITE_CACHE_IMPORT}"))
    if dialect == "postgresql":
        await s.execute(
            sa.text(
                f"CREATE TEMP TABLE {STAGE} (line integer, person_id integer, team_id integer, "
                "metric_key text, day date, value float8, weight float8, numerator float8, "
                "denominator float8) ON COMMIT DROP"
            )
        )
        # Memory for this import's sorts (the duplicate check's index, the merge's order):
        # in memory they take a fraction of the time they take on disk.
        for setting in ("work_mem", "maintenance_work_mem"):
            await s.execute(sa.text(f"SET LOCAL {setting} = '{PG_SORT_MEMORY}'"))
        return
    await s.execute(sa.text(f"DROP TABLE IF EXISTS temp.{STAGE}"))
    await s.execute(
        sa.text(
            f"CREATE TEMP TABLE {STAGE} (line INTEGER, person_id INTEGER, team_id INTEGER, "
            "metric_key TEXT, day TEXT, value REAL, weight REAL, numerator REAL, "
            "denominator REAL)"
        )
    )


async def _stage(driver: Any, dialect: str, batch: Sequence[StageRow]) -> None:
    if dialect == "postgresql":
        await driver.copy_records_to_table(STAGE, records=batch, columns=STAGE_COLUMNS)
    else:
        sql = f"INSERT INTO {STAGE} VALUES (?,?,?,?,?,?,?,?,?)"  # noqa: S608 (constants only)
        await driver.executemany(sql, batch)


async def _duplicates(s: AsyncSession, driver: Any, dialect: str) -> list[Duplicate]:
    """Lines whose person (or team), metric and day an earlier line already had."""
    q = (  # the SQL below is built from constants, never from input
        f"""
        SELECT line, first, person FROM (
            SELECT line, person_id IS NOT NULL AS person,
                   MIN(line) OVER (PARTITION BY person_id, team_id, metric_key, day) AS first,
                   COUNT(*) OVER (PARTITION BY person_id, team_id, metric_key, day) AS n
            FROM (SELECT line, person_id,
                         CASE WHEN person_id IS NULL THEN team_id END AS team_id,
                         metric_key, day
                  FROM {STAGE}) AS k
        ) AS w
        WHERE n > 1 AND line <> first
        ORDER BY line
        LIMIT 1000
        """  # noqa: S608
    )
    return [Duplicate(int(a), int(b), bool(c)) for a, b, c in await _run(s, driver, dialect, q)]


# The two kinds of value, each with the unique key the merge writes it by, the condition
# of its partial unique index, and how a staged row `s` finds its stored twin `m`.
_SAME_DAY = "m.metric_key = s.metric_key AND m.day = s.day"
_KINDS = (
    (
        "person_id, metric_key, day",
        "person_id IS NOT NULL",
        f"m.person_id = s.person_id AND {_SAME_DAY}",
    ),
    (
        "team_id, metric_key, day",
        "person_id IS NULL",
        f"m.person_id IS NULL AND m.team_id = s.team_id AND {_SAME_DAY}",
    ),
)
_FIELDS = ("value", "weight", "numerator", "denominator", "team_id")  # what "changed" compares


async def _run(s: AsyncSession, driver: Any, dialect: str, sql: str) -> list[tuple[Any, ...]]:
    """One set-based query of the import. On PostgreSQL it goes straight to asyncpg with a
    long timeout: reading millions of staged rows outlasts the 30 s a command may take."""
    if dialect == "postgresql":
        return [tuple(r) for r in await driver.fetch(sql, timeout=LONG_STATEMENT)]
    return [tuple(r) for r in (await s.execute(sa.text(sql))).all()]


async def _counts(s: AsyncSession) -> ImportCounts:
    """SQLite: what the staged rows will create, change and leave as they are (on
    PostgreSQL the merge counts what it writes)."""
    # "Unchanged": every stored field equal, NULL equal to NULL (SQLite's IS).
    same = " AND ".join(f"m.{c} IS s.{c}" for c in _FIELDS)
    created = unchanged = total = 0
    for _, where, match in _KINDS:
        q = f"""
            SELECT COUNT(*),
                   COALESCE(SUM(CASE WHEN m.id IS NULL THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN m.id IS NOT NULL AND {same} THEN 1 ELSE 0 END), 0)
            FROM {STAGE} s
            LEFT JOIN metricvalue m ON {match}
            WHERE s.{where}
            """  # noqa: S608
        ((n, c, u),) = (await s.execute(sa.text(q))).all()
        total, created, unchanged = total + int(n), created + int(c), unchanged + int(u)
    return ImportCounts(created, total - created - unchanged, unchanged)


async def _merge_postgres(driver: Any, staged: int) -> ImportCounts:
    """PostgreSQL's merge of the `staged` rows: the changed ones updated, then the new ones
    inserted, each in one statement, counted by what they wrote.

    Plain INSERT ... WHERE NOT EXISTS, sorted by metricvalue's unique key, is much
    cheaper per row than INSERT ... ON CONFLICT (no speculative insertion per row; docs/
    performance.md). It is safe because other writers of metricvalue wait for this
    transaction (SHARE ROW EXCLUSIVE conflicts with every write, not with reads: /stats
    keeps reading the committed values meanwhile), so no key can appear in between.
    """
    await driver.execute("LOCK TABLE metricvalue IN SHARE ROW EXCLUSIVE MODE")
    differs = " OR ".join(f"m.{c} IS DISTINCT FROM s.{c}" for c in _FIELDS)
    now = utcnow()
    created = updated = 0
    for keys, where, match in _KINDS:
        status = await driver.execute(
            f"""
            UPDATE metricvalue m SET
                value = s.value, weight = s.weight, numerator = s.numerator,
                denominator = s.denominator, team_id = s.team_id, updated_at = $1
            FROM {STAGE} s
            WHERE s.{where} AND {match} AND ({differs})
            """,  # noqa: S608 (constants only)
            now,
            timeout=LONG_STATEMENT,
        )
        updated += int(status.rsplit(" ", 1)[1])
        status = await driver.execute(
            f"""
            INSERT INTO metricvalue
                (metric_key, person_id, team_id, day, value, weight, numerator,
                 denominator, updated_at)
            SELECT s.metric_key, s.person_id, s.team_id, s.day, s.value, s.weight,
                   s.numerator, s.denominator, $1
            FROM {STAGE} s
            WHERE s.{where} AND NOT EXISTS (SELECT 1 FROM metricvalue m WHERE {match})
            ORDER BY {keys}
            """,  # noqa: S608 (constants only)
            now,
            timeout=LONG_STATEMENT,
        )
        created += int(status.rsplit(" ", 1)[1])
    return ImportCounts(created, updated, staged - created - updated)


async def _merge(s: AsyncSession) -> None:
    """SQLite: everything new or changed into metricvalue, one INSERT ... SELECT ... ON
    CONFLICT per kind of value."""
    changed = " OR ".join(f"metricvalue.{c} IS NOT excluded.{c}" for c in _FIELDS)
    # The column is UTCDateTime: SQLite keeps it as SQLAlchemy writes a naive UTC time.
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    for keys, where, _ in _KINDS:
        await s.execute(
            sa.text(
                f"""
                INSERT INTO metricvalue
                    (metric_key, person_id, team_id, day, value, weight, numerator,
                     denominator, updated_at)
                SELECT metric_key, person_id, team_id, day, value, weight, numerator,
                       denominator, :now
                FROM {STAGE} WHERE {where}
                ORDER BY {keys}
                ON CONFLICT ({keys}) WHERE {where} DO UPDATE SET
                    value = excluded.value, weight = excluded.weight,
                    numerator = excluded.numerator, denominator = excluded.denominator,
                    team_id = excluded.team_id, updated_at = excluded.updated_at
                WHERE {changed}
                """  # noqa: S608
            ),
            {"now": now},
        )


# --- the row-by-row path (small imports, tests) -----------------------------------------


def _key(person_id: int | None, team_id: int | None, metric: str, day: dt.date) -> Key:
    return (person_id, None if person_id is not None else team_id, metric, day)


def _same_row(a: MetricValue, r: KpiRow) -> bool:
    return (
        a.value == r.value
        and a.weight == r.weight
        and a.numerator == r.numerator
        and a.denominator == r.denominator
        and a.team_id == r.team_id
    )


async def _existing(s: AsyncSession, rows: Sequence[KpiRow]) -> dict[Key, MetricValue]:
    if not rows:
        return {}
    first = min(r.day for r in rows)
    last = max(r.day for r in rows)
    metrics = sorted({r.metric_key for r in rows})
    out: dict[Key, MetricValue] = {}
    person_ids = sorted({r.person_id for r in rows if r.person_id is not None})
    team_ids = sorted({r.team_id for r in rows if r.person_id is None and r.team_id is not None})
    base = select(MetricValue).where(
        col(MetricValue.day) >= first,
        col(MetricValue.day) <= last,
        col(MetricValue.metric_key).in_(metrics),
    )
    for i in range(0, len(person_ids), 500):
        q = base.where(col(MetricValue.person_id).in_(person_ids[i : i + 500]))
        for v in (await s.execute(q)).scalars():
            out[_key(v.person_id, v.team_id, v.metric_key, v.day)] = v
    if team_ids:
        q = base.where(col(MetricValue.person_id).is_(None), col(MetricValue.team_id).in_(team_ids))
        for v in (await s.execute(q)).scalars():
            out[_key(None, v.team_id, v.metric_key, v.day)] = v
    return out


async def import_values(db: Database, *, rows: Sequence[KpiRow]) -> ImportCounts:
    """Upsert `rows` in one transaction, writing only what is new or different."""
    async with db.session() as s:
        have = await _existing(s, rows)
        created = updated = unchanged = 0
        write: list[KpiRow] = []
        for r in rows:
            old = have.get(_key(r.person_id, r.team_id, r.metric_key, r.day))
            if old is None:
                created += 1
                write.append(r)
            elif _same_row(old, r):
                unchanged += 1
            else:
                updated += 1
                write.append(r)
        await upsert_values_in(s, write)
        return ImportCounts(created, updated, unchanged)
