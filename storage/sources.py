"""KPI sources' state: watermarks and pull outcomes, and who each platform user or queue is.

A platform agent is matched to a person on the roster by email (or set by hand); a queue
is mapped to a team by an admin. `resolve()` answers, for every subject of every source,
whose figures its intervals are: the person (in the team they are in now) or the team,
and the zone its local days are counted in (the team's, else the person's own).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.localtime import zone_name
from domain.sources import Subject, SubjectKind
from storage.db import Database
from storage.models import Person, SourceState, SourceSubject, Team, utcnow
from storage.outbox import insert_ignore

SubjectKey = tuple[str, str, str]  # (source, kind, external_id)


@dataclass(frozen=True)
class Target:
    """Whose figures a subject's intervals are: a person (with their team) or a team."""

    person_id: int | None
    team_id: int | None
    zone: str

    @property
    def key(self) -> tuple[int | None, int | None]:
        return (self.person_id, None if self.person_id is not None else self.team_id)


# --- state -------------------------------------------------------------------------------


async def get_state(db: Database, *, source: str) -> SourceState | None:
    async with db.session() as s:
        return await s.get(SourceState, source)


async def list_states(db: Database) -> dict[str, SourceState]:
    async with db.session() as s:
        return {st.source: st for st in (await s.execute(sa.select(SourceState))).scalars()}


async def state_in(s: AsyncSession, source: str) -> SourceState:
    """The source's state row inside the caller's transaction (created when missing)."""
    st = await s.get(SourceState, source)
    if st is None:
        st = SourceState(source=source)
        s.add(st)
    return st


async def record_run(
    db: Database, *, source: str, ok: bool, error: str | None = None, rows: int = 0
) -> None:
    """Note how a pull went (the watermark itself moves with each applied window)."""
    async with db.session() as s:
        st = await state_in(s, source)
        now = utcnow()
        st.last_run_at = now
        if ok:
            st.last_ok_at = now
            st.last_error = None
            st.last_rows = rows
        else:
            st.last_error = (error or "failed")[:1000]


async def reset_watermark(db: Database, *, source: str) -> None:
    async with db.session() as s:
        st = await state_in(s, source)
        st.watermark = None


# --- subjects -----------------------------------------------------------------------------


async def save_subjects_in(s: AsyncSession, source: str, subjects: Sequence[Subject]) -> None:
    """Insert new subjects and refresh the names and emails of known ones (never a mapping)."""
    if not subjects:
        return
    dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
    table = SourceSubject.__table__  # type: ignore[attr-defined]
    now = utcnow()
    for i in range(0, len(subjects), 500):
        chunk = subjects[i : i + 500]
        stmt = insert_ignore(dialect, table).values(
            [
                {
                    "source": source,
                    "kind": str(x.kind),
                    "external_id": x.external_id,
                    "name": x.name[:200],
                    "email": x.email.strip().lower()[:254],
                    "seen_at": now,
                }
                for x in chunk
            ]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "kind", "external_id"],
            set_={
                "name": stmt.excluded.name,
                "email": stmt.excluded.email,
                "seen_at": stmt.excluded.seen_at,
            },
        )
        await s.execute(stmt)
    st = await state_in(s, source)
    st.subjects_at = now


async def save_subjects(db: Database, *, source: str, subjects: Sequence[Subject]) -> None:
    async with db.session() as s:
        await save_subjects_in(s, source, subjects)


async def known_ids(db: Database, *, source: str) -> set[str]:
    """External ids of this source's subjects that already have an email or a mapping."""
    t = SourceSubject.__table__.c  # type: ignore[attr-defined]
    async with db.session() as s:
        rows = await s.execute(
            sa.select(t.external_id).where(
                t.source == source, sa.or_(t.email != "", t.team_id.is_not(None))
            )
        )
        return {r[0] for r in rows}


async def list_subjects(db: Database, *, source: str | None = None) -> list[SourceSubject]:
    q = sa.select(SourceSubject).order_by(
        SourceSubject.source, SourceSubject.kind, SourceSubject.name
    )
    if source is not None:
        q = q.where(SourceSubject.source == source)  # type: ignore[arg-type]
    async with db.session() as s:
        return list((await s.execute(q)).scalars())


async def find_subject(
    db: Database, *, source: str, kind: SubjectKind, text: str
) -> list[SourceSubject]:
    """Subjects of a source whose id, name or email is `text` (case-insensitive)."""
    t = SourceSubject.__table__.c  # type: ignore[attr-defined]
    want = text.strip().lower()
    async with db.session() as s:
        q = sa.select(SourceSubject).where(
            t.source == source,
            t.kind == str(kind),
            sa.or_(
                sa.func.lower(t.external_id) == want,
                sa.func.lower(t.name) == want,
                t.email == want,
            ),
        )
        return list((await s.execute(q)).scalars())


# --- resolution -----------------------------------------------------------------------------


async def resolve_in(s: AsyncSession) -> dict[SubjectKey, Target]:
    """Every mapped subject of every source and whose figures its intervals are."""
    sub = SourceSubject.__table__.c  # type: ignore[attr-defined]
    p_by_id = sa.orm.aliased(Person)
    p_by_email = sa.orm.aliased(Person)
    person_team = sa.orm.aliased(Team)
    queue_team = sa.orm.aliased(Team)
    columns: list[Any] = [
        sub.source,
        sub.kind,
        sub.external_id,
        sa.func.coalesce(p_by_id.id, p_by_email.id),
        sa.func.coalesce(p_by_id.team_id, p_by_email.team_id),
        sa.func.coalesce(p_by_id.timezone, p_by_email.timezone),
        person_team.timezone,
        sub.team_id,
        queue_team.timezone,
    ]
    q = (
        sa.select(*columns)
        .select_from(SourceSubject)
        .outerjoin(p_by_id, col(p_by_id.id) == sub.person_id)
        .outerjoin(
            p_by_email,
            sa.and_(sub.person_id.is_(None), sub.email != "", col(p_by_email.email) == sub.email),
        )
        .outerjoin(
            person_team,
            col(person_team.id) == sa.func.coalesce(p_by_id.team_id, p_by_email.team_id),
        )
        .outerjoin(queue_team, col(queue_team.id) == sub.team_id)
    )
    out: dict[SubjectKey, Target] = {}
    for src, kind, ext, pid, ptid, ptz, pteam_tz, qtid, qtz in (await s.execute(q)).all():
        if kind == SubjectKind.agent and pid is not None:
            out[(src, kind, ext)] = Target(int(pid), ptid, zone_name(pteam_tz or ptz))
        elif kind == SubjectKind.queue and qtid is not None:
            out[(src, kind, ext)] = Target(None, int(qtid), zone_name(qtz))
    return out


async def resolve(db: Database) -> dict[SubjectKey, Target]:
    async with db.session() as s:
        return await resolve_in(s)


async def set_queue_team_in(
    s: AsyncSession, *, source: str, external_id: str, team_id: int | None
) -> Target | None:
    """Map (or unmap) a queue; returns the target it had before."""
    sub = await _subject(s, source, SubjectKind.queue, external_id)
    before = await _target_of(s, sub)
    sub.team_id = team_id
    return before


async def set_agent_person_in(
    s: AsyncSession, *, source: str, external_id: str, person_id: int | None
) -> Target | None:
    """Map an agent to a person by hand (None: back to matching by email)."""
    sub = await _subject(s, source, SubjectKind.agent, external_id)
    before = await _target_of(s, sub)
    sub.person_id = person_id
    return before


async def _subject(s: AsyncSession, source: str, kind: SubjectKind, ext: str) -> SourceSubject:
    t = SourceSubject.__table__.c  # type: ignore[attr-defined]
    found = (
        await s.execute(
            sa.select(SourceSubject).where(
                t.source == source, t.kind == str(kind), t.external_id == ext
            )
        )
    ).scalar_one_or_none()
    if found is None:
        found = SourceSubject(source=source, kind=str(kind), external_id=ext)
        s.add(found)
        await s.flush()
    return found


async def _target_of(s: AsyncSession, sub: SourceSubject) -> Target | None:
    await s.flush()
    return (await resolve_in(s)).get((sub.source, sub.kind, sub.external_id))


def utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC)
