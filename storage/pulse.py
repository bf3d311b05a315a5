"""Pulse (ESAT) storage: schedules, rounds, deliveries and anonymous responses.

Privacy rules kept here: while a round is open, a response is tied to its respondent only
by a keyed hash that the caller computes (domain.privacy.respondent_hash), so they can
change it; the transaction that closes a round cuts that tie for good (`unlink_in`: the
hash is cleared and the rows rewritten in an order that says nothing). Deliveries say who
was asked and whether they answered, never what nor when. Nothing here returns a hash
next to a person, and no error from here carries a value (PulseStoreError).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.roles import Role
from storage.db import Database
from storage.models import (
    Notice,
    OutboxMessage,
    OutboxStatus,
    Person,
    PulseDelivery,
    PulseResponse,
    PulseRound,
    PulseSchedule,
    Team,
    utcnow,
)
from storage.outbox import OutboxNew, enqueue_in, insert_ignore, route_person, unmapped_platform

QUESTIONS = ("esat", "enps")
SCALES = {"esat": (1, 5), "enps": (0, 10)}


class AnswerOutcome(StrEnum):
    recorded = "recorded"  # a first answer to this question
    changed = "changed"  # replaced an earlier answer
    closed = "closed"  # the round is over; nothing changed
    not_asked = "not_asked"  # no delivery to this person (forged value); nothing changed
    invalid = "invalid"  # a question the round does not ask or a score off the scale
    no_answer = "no_answer"  # a comment before any score; nothing changed
    unrecognised = "unrecognised"  # answered under another server secret; nothing changed


@dataclass(frozen=True)
class RoundStats:
    """What results may be computed from: counts only, no respondent of any kind."""

    round_id: int
    team_id: int
    question: str
    include_enps: bool
    opens_at: dt.datetime
    closes_at: dt.datetime
    status: str
    asked: int
    min_responses: int  # the threshold the round was opened under
    esat: Counter[int] = field(default_factory=Counter)
    enps: Counter[int] = field(default_factory=Counter)
    comments: tuple[str, ...] = ()

    @property
    def responses(self) -> int:
        return sum(self.esat.values())


class PulseStoreError(Exception):
    """A database error in the pulse store, told without a single value.

    The engine hides bound parameters (storage.db), but a driver's own message can quote
    the data: PostgreSQL's "Failing row contains (...)" lists a whole row (a respondent
    hash, a comment), a duplicate key shows its values. So a pulse store function that
    fails raises this instead, naming the statement and the error's kind only, with no
    chained exception for a traceback to print.
    """

    @classmethod
    def of(cls, exc: DBAPIError) -> PulseStoreError:
        orig = exc.orig
        code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
        kind = type(orig).__name__ + (f" {code}" if code else "")
        return cls(f"{type(exc).__name__} ({kind}) in: {exc.statement}")


_P = ParamSpec("_P")
_R = TypeVar("_R")


def quiet_errors(fn: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """Turn a database error inside `fn` into a PulseStoreError (see there)."""

    @functools.wraps(fn)
    async def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await fn(*args, **kwargs)
        except DBAPIError as exc:
            failure = PulseStoreError.of(exc)
        # Raised outside the handler, so the original (and its data) is not its context.
        raise failure

    return run


def is_open(rnd: PulseRound, now: dt.datetime) -> bool:
    """A round takes answers while it is open and before it closes."""
    return rnd.status == "open" and now < rnd.closes_at


# --- schedules -----------------------------------------------------------------------


@quiet_errors
async def get_schedule(db: Database, *, team_id: int) -> PulseSchedule:
    """The team's schedule (the defaults, not saved, when it has none)."""
    async with db.session() as s:
        found = await s.get(PulseSchedule, team_id)
        return found if found is not None else PulseSchedule(team_id=team_id)


@quiet_errors
async def set_schedule(
    db: Database,
    *,
    team_id: int,
    now: dt.datetime,
    cadence: str | None = None,
    weekday: int | None = None,
    local_time: str | None = None,
    question: str | None = None,
    enps_monthly: bool | None = None,
) -> PulseSchedule:
    """Create or change a team's schedule; only the arguments given change."""
    async with db.session() as s:
        sched = await s.get(PulseSchedule, team_id)
        if sched is None:
            sched = PulseSchedule(team_id=team_id)
            s.add(sched)
        if cadence is not None:
            sched.cadence = cadence
        if weekday is not None:
            sched.weekday = weekday
        if local_time is not None:
            sched.local_time = local_time
        if question is not None:
            sched.question = question
        if enps_monthly is not None:
            sched.enps_monthly = enps_monthly
        # `updated_at` marks when the timing last changed: the opening sweep never opens a
        # slot from before it. A new question or eNPS setting must not skip today's slot.
        if cadence is not None or weekday is not None or local_time is not None:
            sched.updated_at = now
        await s.flush()
        return sched


@quiet_errors
async def active_schedules(db: Database) -> list[tuple[PulseSchedule, Team]]:
    """Every schedule that is not off, with its team."""
    async with db.session() as s:
        rows = await s.execute(
            select(PulseSchedule, Team)
            .join(Team, col(Team.id) == col(PulseSchedule.team_id))
            .where(PulseSchedule.cadence != "off")
        )
        return [(sched, team) for sched, team in rows]


# --- rounds ----------------------------------------------------------------------------


@quiet_errors
async def team_agents(db: Database, *, team_id: int) -> list[Person]:
    """The active agents of a team: the people a pulse is sent to."""
    async with db.session() as s:
        return await _team_agents(s, team_id)


async def _team_agents(s: AsyncSession, team_id: int) -> list[Person]:
    rows = await s.execute(
        select(Person)
        .where(Person.team_id == team_id, col(Person.active), Person.role == Role.agent.value)
        .order_by(col(Person.id))
    )
    return list(rows.scalars())


@quiet_errors
async def current_round(db: Database, *, team_id: int, now: dt.datetime) -> PulseRound | None:
    """The team's round that is still taking answers, if any."""
    async with db.session() as s:
        return await _current_round(s, team_id, now)


async def _current_round(s: AsyncSession, team_id: int, now: dt.datetime) -> PulseRound | None:
    rows = await s.execute(
        select(PulseRound)
        .where(
            PulseRound.team_id == team_id,
            PulseRound.status == "open",
            col(PulseRound.closes_at) > now,
        )
        .order_by(col(PulseRound.opens_at).desc())
    )
    return rows.scalars().first()


@quiet_errors
async def get_round(db: Database, *, round_id: int) -> PulseRound | None:
    async with db.session() as s:
        return await s.get(PulseRound, round_id)


@quiet_errors
async def latest_round(db: Database, *, team_id: int) -> PulseRound | None:
    """The team's most recently opened round."""
    async with db.session() as s:
        rows = await s.execute(
            select(PulseRound)
            .where(PulseRound.team_id == team_id)
            .order_by(col(PulseRound.opens_at).desc())
        )
        return rows.scalars().first()


@quiet_errors
async def enps_asked_since(db: Database, *, team_id: int, since: dt.datetime) -> bool:
    """True when a round of the team asked eNPS at or after `since`."""
    async with db.session() as s:
        found = await s.scalar(
            select(sa.func.count())
            .select_from(PulseRound)
            .where(
                PulseRound.team_id == team_id,
                col(PulseRound.include_enps),
                col(PulseRound.opens_at) >= since,
            )
        )
        return bool(found)


MessageBuilder = Callable[[PulseRound, Sequence[Person]], list[OutboxNew]]


@quiet_errors
async def open_round(
    db: Database,
    *,
    team_id: int,
    question: str,
    include_enps: bool,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    remind_at: dt.datetime | None,
    created_by_id: int | None,
    min_responses: int,
    build_messages: MessageBuilder,
    claim_key: str | None = None,
    eligible: Callable[[Person], bool] | None = None,
) -> tuple[PulseRound, int] | None:
    """Open a round: the round, one delivery per agent and their DMs, in one transaction.

    `min_responses` is the privacy threshold in force now; the round keeps it for good.

    Returns (round, number asked), or None when nobody can be asked, the team already has
    an open round, or `claim_key` was claimed before (a scheduled slot opens at most once,
    cluster-wide).
    `eligible` leaves out agents who cannot answer in time (e.g. off until after closing).
    """
    async with db.session() as s:
        if claim_key is not None:
            dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
            stmt = (
                insert_ignore(dialect, Notice.__table__)  # type: ignore[attr-defined]
                .values(key=claim_key[:200], created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            result = await s.execute(stmt)
            if not (getattr(result, "rowcount", 0) or 0):
                return None
        if await _current_round(s, team_id, opens_at) is not None:
            return None
        agents = [p for p in await _team_agents(s, team_id) if eligible is None or eligible(p)]
        if not agents:
            return None  # nobody to ask (the claim, if any, is kept: the slot is spent)
        rnd = PulseRound(
            team_id=team_id,
            question=question,
            include_enps=include_enps,
            opens_at=opens_at,
            closes_at=closes_at,
            remind_at=remind_at,
            created_by_id=created_by_id,
            min_responses=min_responses,
        )
        s.add(rnd)
        await s.flush()
        assert rnd.id is not None
        table = PulseDelivery.__table__  # type: ignore[attr-defined]
        rows = [
            {"round_id": rnd.id, "person_id": p.id, "answered": False, "reminded": False}
            for p in agents
        ]
        if rows:
            await s.execute(sa.insert(table), rows)  # executemany: fast for big teams
        await _enqueue_dms(s, build_messages(rnd, agents), {p.id: p for p in agents})
        return rnd, len(agents)


async def _enqueue_dms(
    s: AsyncSession, messages: Sequence[OutboxNew], by_id: dict[int | None, Person]
) -> None:
    """enqueue_in for many DMs to people already loaded: multi-row inserts, same rules
    (dedupe key skipped when seen, never scheduled before now)."""
    now = utcnow()
    rows = []
    rest = []
    unmapped = unmapped_platform(s)
    for m in messages:
        person = by_id.get(m.person_id) if m.person_id is not None else None
        if person is None:
            rest.append(m)
            continue
        platform, target = route_person(person, unmapped)
        rows.append(
            {
                "dedupe_key": m.dedupe_key[:200],
                "platform": platform,
                "target": target,
                "recipient_person_id": m.person_id,
                "recipient_team_id": None,
                "kind": m.kind,
                "payload": m.payload,
                "status": OutboxStatus.pending.value,
                "attempts": 0,
                "next_attempt_at": max(m.not_before or now, now),
                "created_at": now,
            }
        )
    dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    if rows:
        stmt = insert_ignore(dialect, table).on_conflict_do_nothing(index_elements=["dedupe_key"])
        await s.execute(stmt, rows)
    if rest:
        await enqueue_in(s, rest)


@quiet_errors
async def asked_and_answered(db: Database, *, round_id: int) -> tuple[int, int]:
    """(people asked, people who answered) in a round: counts only, never who."""
    async with db.session() as s:
        asked = await s.scalar(
            select(sa.func.count())
            .select_from(PulseDelivery)
            .where(PulseDelivery.round_id == round_id)
        )
        answered = await s.scalar(
            select(sa.func.count())
            .select_from(PulseResponse)
            .where(PulseResponse.round_id == round_id, PulseResponse.question == "esat")
        )
        return int(asked or 0), int(answered or 0)


# --- answers -------------------------------------------------------------------------


async def _delivery(s: AsyncSession, round_id: int, person_id: int) -> PulseDelivery | None:
    rows = await s.execute(
        select(PulseDelivery).where(
            PulseDelivery.round_id == round_id, PulseDelivery.person_id == person_id
        )
    )
    return rows.scalars().first()


@quiet_errors
async def record_answer(
    db: Database,
    *,
    round_id: int,
    person_id: int,
    respondent: str,
    question: str,
    score: int,
    now: dt.datetime,
) -> tuple[AnswerOutcome, PulseRound | None]:
    """Record (or change) a person's score; every check comes before any write.

    `person_id` is used only to find the delivery (was this person asked?); the response
    row gets `respondent` (the keyed hash) and nothing else about them.
    """
    async with db.session() as s:
        rnd = await s.get(PulseRound, round_id)
        if rnd is None:
            return AnswerOutcome.not_asked, None
        delivery = await _delivery(s, round_id, person_id)
        if delivery is None:
            return AnswerOutcome.not_asked, None
        if question not in QUESTIONS or (question == "enps" and not rnd.include_enps):
            return AnswerOutcome.invalid, rnd
        low, high = SCALES[question]
        if not low <= score <= high:
            return AnswerOutcome.invalid, rnd
        if not is_open(rnd, now):
            return AnswerOutcome.closed, rnd
        if delivery.answered and not await _has_esat(s, round_id, respondent):
            # They answered, but under a LEADBOT_SECRET since changed: a new row would
            # count them twice (docs/operations/secrets.md).
            return AnswerOutcome.unrecognised, rnd
        dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
        stmt = (
            insert_ignore(dialect, PulseResponse.__table__)  # type: ignore[attr-defined]
            .values(round_id=round_id, question=question, respondent_hash=respondent, score=score)
            .on_conflict_do_nothing(index_elements=["round_id", "question", "respondent_hash"])
        )
        inserted = (getattr(await s.execute(stmt), "rowcount", 0) or 0) > 0
        if not inserted:
            await s.execute(
                sa.update(PulseResponse)
                .where(
                    col(PulseResponse.round_id) == round_id,
                    col(PulseResponse.question) == question,
                    col(PulseResponse.respondent_hash) == respondent,
                )
                .values(score=score)
            )
        if question == "esat" and not delivery.answered:
            delivery.answered = True
        return (AnswerOutcome.recorded if inserted else AnswerOutcome.changed), rnd


async def _has_esat(s: AsyncSession, round_id: int, respondent: str) -> bool:
    found = await s.execute(
        select(col(PulseResponse.round_id)).where(
            PulseResponse.round_id == round_id,
            PulseResponse.question == "esat",
            PulseResponse.respondent_hash == respondent,
        )
    )
    return found.first() is not None


@quiet_errors
async def record_comment(
    db: Database,
    *,
    round_id: int,
    person_id: int,
    respondent: str,
    comment: str,
    now: dt.datetime,
) -> tuple[AnswerOutcome, PulseRound | None]:
    """Attach (or replace, or clear with "") the comment on the person's ESAT answer."""
    async with db.session() as s:
        rnd = await s.get(PulseRound, round_id)
        delivery = None if rnd is None else await _delivery(s, round_id, person_id)
        if rnd is None or delivery is None:
            return AnswerOutcome.not_asked, None
        if not is_open(rnd, now):
            return AnswerOutcome.closed, rnd
        rows = await s.execute(
            select(PulseResponse).where(
                PulseResponse.round_id == round_id,
                PulseResponse.question == "esat",
                PulseResponse.respondent_hash == respondent,
            )
        )
        resp = rows.scalars().first()
        if resp is None:
            # Answered under a server secret since changed, or not answered yet.
            return (
                AnswerOutcome.unrecognised if delivery.answered else AnswerOutcome.no_answer
            ), rnd
        resp.comment = comment.strip()[:2000] or None
        return AnswerOutcome.changed, rnd


@quiet_errors
async def answers_of(db: Database, *, round_id: int, respondent: str) -> dict[str, PulseResponse]:
    """The answers behind one respondent hash in one round, by question."""
    async with db.session() as s:
        rows = await s.execute(
            select(PulseResponse).where(
                PulseResponse.round_id == round_id, PulseResponse.respondent_hash == respondent
            )
        )
        return {r.question: r for r in rows.scalars()}


@quiet_errors
async def rounds_delivered_to(
    db: Database, *, person_id: int, limit: int = 12
) -> list[tuple[PulseRound, bool]]:
    """The rounds a person was asked in (newest first), with whether they answered."""
    async with db.session() as s:
        rows = await s.execute(
            select(PulseRound, PulseDelivery.answered)
            .join(PulseDelivery, col(PulseDelivery.round_id) == col(PulseRound.id))
            .where(PulseDelivery.person_id == person_id)
            .order_by(col(PulseRound.opens_at).desc())
            .limit(limit)
        )
        return [(r, bool(a)) for r, a in rows]


@quiet_errors
async def responses_for(
    db: Database, *, pairs: Sequence[tuple[int, str]]
) -> dict[int, dict[str, PulseResponse]]:
    """Answers for (round id, respondent hash) pairs, by round and question."""
    out: dict[int, dict[str, PulseResponse]] = {}
    if not pairs:
        return out
    async with db.session() as s:
        cond = sa.or_(
            *(
                sa.and_(col(PulseResponse.round_id) == rid, col(PulseResponse.respondent_hash) == h)
                for rid, h in pairs
            )
        )
        rows = await s.execute(select(PulseResponse).where(cond))
        for r in rows.scalars():
            out.setdefault(r.round_id, {})[r.question] = r
    return out


# --- results -------------------------------------------------------------------------


@quiet_errors
async def round_stats(
    db: Database,
    *,
    team_ids: Sequence[int],
    since: dt.datetime,
    closed_only: bool = True,
) -> list[RoundStats]:
    """Per-round counts for the teams' rounds opened since `since`, oldest first."""
    if not team_ids:
        return []
    async with db.session() as s:
        q = select(PulseRound).where(
            col(PulseRound.team_id).in_(list(team_ids)), col(PulseRound.opens_at) >= since
        )
        if closed_only:
            q = q.where(PulseRound.status == "closed")
        rounds = list((await s.execute(q.order_by(col(PulseRound.opens_at)))).scalars())
        ids = [r.id for r in rounds if r.id is not None]
        if not ids:
            return []
        asked: dict[int, int] = {}
        for rid, n in await s.execute(
            select(PulseDelivery.round_id, sa.func.count())
            .where(col(PulseDelivery.round_id).in_(ids))
            .group_by(col(PulseDelivery.round_id))
        ):
            asked[rid] = int(n)
        counts: dict[int, dict[str, Counter[int]]] = {}
        for rid, question, score, n in await s.execute(
            select(
                PulseResponse.round_id,
                PulseResponse.question,
                PulseResponse.score,
                sa.func.count(),
            )
            .where(col(PulseResponse.round_id).in_(ids))
            .group_by(
                col(PulseResponse.round_id),
                col(PulseResponse.question),
                col(PulseResponse.score),
            )
        ):
            counts.setdefault(rid, {}).setdefault(question, Counter())[int(score)] = int(n)
        comments: dict[int, list[str]] = {}
        for rid, text in await s.execute(
            select(PulseResponse.round_id, PulseResponse.comment).where(
                col(PulseResponse.round_id).in_(ids), col(PulseResponse.comment).is_not(None)
            )
        ):
            if text:
                comments.setdefault(rid, []).append(text)
    out = []
    for r in rounds:
        assert r.id is not None
        c = counts.get(r.id, {})
        out.append(
            RoundStats(
                round_id=r.id,
                team_id=r.team_id,
                question=r.question,
                include_enps=r.include_enps,
                opens_at=r.opens_at,
                closes_at=r.closes_at,
                status=r.status,
                asked=asked.get(r.id, 0),
                min_responses=r.min_responses,
                esat=c.get("esat", Counter()),
                enps=c.get("enps", Counter()),
                comments=tuple(comments.get(r.id, [])),
            )
        )
    return out


# --- sweeps --------------------------------------------------------------------------


@quiet_errors
async def reminder_candidates(
    db: Database, *, now: dt.datetime
) -> list[tuple[PulseRound, PulseDelivery, Person]]:
    """Unanswered, not yet reminded deliveries of open rounds whose reminder time passed."""
    async with db.session() as s:
        rows = await s.execute(
            select(PulseRound, PulseDelivery, Person)
            .join(PulseDelivery, col(PulseDelivery.round_id) == col(PulseRound.id))
            .join(Person, col(Person.id) == col(PulseDelivery.person_id))
            .where(
                PulseRound.status == "open",
                col(PulseRound.remind_at).is_not(None),
                col(PulseRound.remind_at) <= now,
                col(PulseRound.closes_at) > now,
                sa.not_(col(PulseDelivery.answered)),
                sa.not_(col(PulseDelivery.reminded)),
                col(Person.active),
            )
            .order_by(col(PulseDelivery.id))
        )
        return [(r, d, p) for r, d, p in rows]


@quiet_errors
async def mark_reminded(db: Database, *, delivery_id: int, message: OutboxNew | None) -> bool:
    """Flag a delivery as reminded and enqueue its reminder, if it is still unanswered."""
    async with db.session() as s:
        d = await s.get(PulseDelivery, delivery_id)
        if d is None or d.answered or d.reminded:
            return False
        d.reminded = True
        if message is not None:
            await enqueue_in(s, [message])
        return True


@quiet_errors
async def close_due(db: Database, *, now: dt.datetime) -> list[PulseRound]:
    """Close every open round whose closing time has passed and, in the same transaction,
    cut the tie between the answers of every closed round and the people who gave them
    (these, and any closed earlier that still has it: rounds closed before this rule, or
    an answer whose transaction committed just after the close). Returns those closed."""
    async with db.session() as s:
        rows = await s.execute(
            select(PulseRound).where(PulseRound.status == "open", col(PulseRound.closes_at) <= now)
        )
        closed = list(rows.scalars())
        for r in closed:
            r.status = "closed"
        await s.flush()
        await unlink_in(s, await _linked_closed_rounds(s))
        return closed


async def _linked_closed_rounds(s: AsyncSession) -> list[int]:
    """Closed rounds with an answer that still carries a respondent hash."""
    rows = await s.execute(
        select(PulseResponse.round_id)
        .distinct()
        .join(PulseRound, col(PulseRound.id) == col(PulseResponse.round_id))
        .where(PulseRound.status == "closed", col(PulseResponse.respondent_hash).is_not(None))
    )
    return sorted(int(rid) for rid in rows.scalars())


@quiet_errors
async def unlink_in(s: AsyncSession, round_ids: Sequence[int]) -> int:
    """Cut every tie between these closed rounds' answers and the people who gave them.

    Nothing needs the tie once a round has closed (its answers can no longer change), and
    with it anyone holding the database and LEADBOT_SECRET could recompute each person's
    hash. So the hash goes, and the rows are rewritten sorted by what they say (round,
    question, score, comment): their ids followed the order of answering, which could be
    matched against other records (reminders sent, a Teams activity's time), and now say
    nothing. A person's ESAT and eNPS answers are no longer paired either. Returns the
    number of answers rewritten.
    """
    ids = sorted(set(round_ids))
    if not ids:
        return 0
    table = PulseResponse.__table__  # type: ignore[attr-defined]
    rows = (
        await s.execute(
            sa.select(table.c.round_id, table.c.question, table.c.score, table.c.comment).where(
                table.c.round_id.in_(ids)
            )
        )
    ).all()
    await s.execute(sa.delete(PulseResponse).where(col(PulseResponse.round_id).in_(ids)))
    ordered = sorted(rows, key=lambda r: (r.round_id, r.question, r.score, r.comment or ""))
    if ordered:
        await s.execute(
            sa.insert(table),
            [
                {
                    "round_id": r.round_id,
                    "question": r.question,
                    "score": r.score,
                    "comment": r.comment,
                    "respondent_hash": None,
                }
                for r in ordered
            ],
        )
    return len(ordered)


@quiet_errors
async def rounds_needing_summary(db: Database) -> list[PulseRound]:
    async with db.session() as s:
        rows = await s.execute(
            select(PulseRound)
            .where(PulseRound.status == "closed", sa.not_(col(PulseRound.summary_sent)))
            .order_by(col(PulseRound.id))
        )
        return list(rows.scalars())


@quiet_errors
async def mark_summary_sent(db: Database, *, round_id: int, messages: Sequence[OutboxNew]) -> None:
    """Enqueue the round's summary and flag it sent, in one transaction."""
    async with db.session() as s:
        r = await s.get(PulseRound, round_id)
        if r is None or r.summary_sent:
            return
        r.summary_sent = True
        await enqueue_in(s, messages)
