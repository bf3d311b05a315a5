"""The outbox: messages to people and channels, written by handlers and jobs, sent by the
dispatcher. A unique dedupe key makes every message happen at most once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage.db import UNMAPPED_PLATFORM, Database
from storage.models import OutboxMessage, OutboxStatus, Person, RateBudget, Team, utcnow


@dataclass(frozen=True)
class OutboxNew:
    """A message to enqueue, to exactly one person or one team channel."""

    dedupe_key: str
    payload: str  # Reply.to_json()
    person_id: int | None = None
    team_id: int | None = None
    not_before: dt.datetime | None = None  # quiet hours: not sent before this moment
    kind: str = "message"


# A message to someone not yet mapped to a platform user waits under this target (one per
# person, so their messages keep their order); the sender finds them by email when it
# gets to it, and storage re-targets the rest once they are mapped (reroute_person_in).
UNMAPPED_PREFIX = "person:"
# last_error of a message parked because the platform can't reach its recipient (no such
# user, a channel leadbot is not in): it waits, pending, until reroute/requeue frees it.
UNREACHABLE = "unreachable: "


def route_person(p: Person, unmapped: str = "console") -> tuple[str, str]:
    """(platform, target) for a direct message to a person.

    `unmapped` is where a person with no platform id goes: "console" (the console, the
    demo) shows it by email; a production platform gets it as `person:ID`, resolved by
    its sender at send time."""
    if p.slack_user_id:
        return "slack", p.slack_user_id  # a DM is posted with the user id as the channel
    if p.teams_user_id:
        return "teams", p.teams_user_id
    if unmapped == "console":
        return "console", p.email
    return unmapped, f"{UNMAPPED_PREFIX}{p.id}"


def route_team(t: Team) -> tuple[str, str]:
    """(platform, target) for a post in a team's channel, the console when it has none
    (storage/alerts.py's posts, which track their own message rows)."""
    return channel_route(t, "console") or ("console", f"#{t.name}")


def channel_route(t: Team, unmapped: str = "console") -> tuple[str, str] | None:
    """(platform, target) for a post in a team's channel; None when the team has no
    channel linked in production (nothing is queued: there is nowhere to post it)."""
    if t.slack_channel_id:
        return "slack", t.slack_channel_id
    if t.teams_channel_ref:
        return "teams", f"team:{t.id}"
    if unmapped == "console":
        return "console", f"#{t.name}"
    return None


def unmapped_platform(session: AsyncSession) -> str:
    """The session's Database's unmapped_platform (storage.db)."""
    return str(session.info.get(UNMAPPED_PLATFORM, "console"))


async def team_has_channel(db: Database, *, team_id: int) -> bool:
    """Whether a post to this team goes anywhere (a linked channel, or the console)."""
    async with db.session() as s:
        team = await s.get(Team, team_id)
        return team is not None and channel_route(team, unmapped_platform(s)) is not None


async def reroute_person_in(session: AsyncSession, person: Person) -> int:
    """Point a person's pending messages at where they are reached now, and free those
    parked as unreachable (due at once); returns how many moved. Called in the
    transaction that maps (or unmaps) them."""
    if person.id is None:
        return 0
    t = OutboxMessage
    platform, target = route_person(person, unmapped_platform(session))
    base = sa.and_(
        col(t.recipient_person_id) == person.id,
        col(t.status) == OutboxStatus.pending.value,
        col(t.platform) != "console",
    )
    moved = await session.execute(
        sa.update(t)
        .where(base, sa.or_(col(t.platform) != platform, col(t.target) != target))
        .values(platform=platform, target=target)
    )
    await session.execute(
        sa.update(t)
        .where(base, col(t.last_error).startswith(UNREACHABLE), col(t.claimed_by).is_(None))
        .values(next_attempt_at=utcnow(), last_error=None)
    )
    return max(getattr(moved, "rowcount", 0) or 0, 0)


async def reroute_slack_in(session: AsyncSession, person_ids: Sequence[int]) -> int:
    """reroute_person_in for many people now mapped to a Slack user, a few statements per
    500 people (`leadbot slack sync` maps a whole roster at once); returns rows moved."""
    t = OutboxMessage.__table__  # type: ignore[attr-defined]
    p = Person.__table__  # type: ignore[attr-defined]
    slack_id = (
        sa.select(p.c.slack_user_id).where(p.c.id == t.c.recipient_person_id).scalar_subquery()
    )
    moved = 0
    ids = list(dict.fromkeys(person_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        base = sa.and_(
            t.c.recipient_person_id.in_(chunk),
            t.c.status == OutboxStatus.pending.value,
            t.c.platform != "console",
        )
        result = await session.execute(
            sa.update(t)
            .where(base, sa.or_(t.c.platform != "slack", t.c.target != slack_id))
            .values(platform="slack", target=slack_id)
        )
        moved += max(getattr(result, "rowcount", 0) or 0, 0)
        await session.execute(
            sa.update(t)
            .where(base, t.c.last_error.startswith(UNREACHABLE), t.c.claimed_by.is_(None))
            .values(next_attempt_at=utcnow(), last_error=None)
        )
    return moved


async def requeue_unreachable(
    db: Database, *, person_id: int | None = None, team_id: int | None = None
) -> int:
    """Make a person's (or a team channel's) messages parked as unreachable due now
    (after a sync, or leadbot joined the channel); returns how many."""
    t = OutboxMessage
    who = (
        col(t.recipient_person_id) == person_id
        if person_id is not None
        else col(t.recipient_team_id) == team_id
    )
    async with db.session() as s:
        result = await s.execute(
            sa.update(t)
            .where(
                who,
                col(t.status) == OutboxStatus.pending.value,
                col(t.last_error).startswith(UNREACHABLE),
                col(t.claimed_by).is_(None),
            )
            .values(next_attempt_at=utcnow(), last_error=None)
        )
        return max(getattr(result, "rowcount", 0) or 0, 0)


def insert_ignore(dialect: str, table: Any) -> Any:
    """An INSERT that skips rows whose unique key exists (PostgreSQL and SQLite)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def enqueue_in(session: AsyncSession, messages: Sequence[OutboxNew]) -> int:
    """Enqueue inside a caller's transaction (storage functions only); returns rows added."""
    added = 0
    now = utcnow()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    unmapped = unmapped_platform(session)
    for m in messages:
        if (m.person_id is None) == (m.team_id is None):
            raise ValueError("an outbox message goes to one person or one team")
        if m.person_id is not None:
            person = await session.get(Person, m.person_id)
            if person is None:
                continue
            platform, target = route_person(person, unmapped)
        else:
            assert m.team_id is not None
            team = await session.get(Team, m.team_id)
            route = channel_route(team, unmapped) if team is not None else None
            if route is None:
                continue  # no such team, or no channel linked (the doctor says so)
            platform, target = route
        stmt = (
            insert_ignore(dialect, OutboxMessage.__table__)  # type: ignore[attr-defined]
            .values(
                dedupe_key=m.dedupe_key[:200],
                platform=platform,
                target=target,
                recipient_person_id=m.person_id,
                recipient_team_id=m.team_id,
                kind=m.kind,
                payload=m.payload,
                status=OutboxStatus.pending.value,
                attempts=0,
                next_attempt_at=m.not_before or now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        result = await session.execute(stmt)
        added += max(getattr(result, "rowcount", 0) or 0, 0)
    return added


async def enqueue(db: Database, *, messages: Sequence[OutboxNew]) -> int:
    """Enqueue messages in one transaction; a dedupe key seen before is skipped."""
    if not messages:
        return 0
    async with db.session() as s:
        return await enqueue_in(s, messages)


async def messages_after(db: Database, *, after_id: int, limit: int = 200) -> list[OutboxMessage]:
    """Messages enqueued after a given id, oldest first (the console shows them)."""
    async with db.session() as s:
        rows = await s.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.id) > after_id)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        return list(rows.scalars())


async def last_id(db: Database) -> int:
    async with db.session() as s:
        value = await s.scalar(sa.select(sa.func.max(OutboxMessage.id)))
        return int(value or 0)


async def mark_sent(db: Database, *, message_id: int, external_ref: str | None = None) -> None:
    async with db.session() as s:
        m = await s.get(OutboxMessage, message_id)
        if m is not None and m.status is not OutboxStatus.sent:
            m.status = OutboxStatus.sent
            m.sent_at = utcnow()
            m.external_ref = external_ref


# --- delivery: claims, results, and the admin's view ------------------------------------
#
# A pending row is claimed by a dispatcher with a *lease*: one atomic UPDATE moves its
# next_attempt_at to "now + lease", adds one to attempts and names the dispatcher in
# claimed_by. The pair (attempts, claimed_by) is the claim's token; results that give the
# row back (retry, dead, rate limited) only apply while the token still matches, so a
# process that lost its claim changes nothing. The lease is short (seconds) and the
# dispatcher renews it while it holds the row (renew_leases); a process that dies stops
# renewing, and its rows are due again within one lease.
#
# Per-target order: only the oldest "active" pending row of a target is ever claimed.
# Active means due now, or already tried (attempts > 0 or a last error: in flight, or
# waiting for a retry or a Retry-After).
# Rows held for quiet hours (never tried, not yet due) do not block later messages.


@dataclass(frozen=True)
class Claim:
    """A message claimed for sending, with the token that proves the claim is ours."""

    message: OutboxMessage
    attempts: int  # attempts after this claim
    lease_until: dt.datetime
    previous_claimer: str | None = None  # a claim before this one ended without a result
    claimed_by: str = ""

    @property
    def unresolved_before(self) -> bool:
        """A previous claim ended without a result: its dispatcher stopped, or lost the
        database for longer than its lease, after claiming the message (it may have been
        sent)."""
        return self.previous_claimer is not None

    def renewed(self, until: dt.datetime) -> Claim:
        return Claim(self.message, self.attempts, until, self.previous_claimer, self.claimed_by)


def _pending_due(now: dt.datetime) -> Any:
    return sa.and_(
        col(OutboxMessage.status) == OutboxStatus.pending.value,
        col(OutboxMessage.next_attempt_at) <= now,
    )


async def claim_due_batch(
    db: Database,
    *,
    now: dt.datetime,
    limit: int,
    lease_seconds: float,
    platforms: Sequence[str],
    claimed_by: str = "",
    take_over: bool = True,
) -> list[Claim]:
    """Claim up to `limit` due messages, at most one per target, the oldest of each target.

    take_over=False leaves rows whose lease ran out while another claim held them (their
    targets wait too): a dispatcher just back from a database outage gives the others a
    moment to record what they sent before it would send their messages again."""
    if limit <= 0 or not platforms:
        return []
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    t = OutboxMessage
    async with db.session() as s:
        # Targets with a row already tried and waiting (in flight, backing off, or waiting
        # out a Retry-After) send nothing else until that row is resolved.
        waiting = sa.and_(
            col(t.next_attempt_at) > now,
            sa.or_(col(t.attempts) > 0, col(t.last_error).is_not(None)),
        )
        if not take_over:
            waiting = sa.or_(waiting, col(t.claimed_by).is_not(None))
        busy = sa.select(col(t.platform), col(t.target)).where(
            col(t.status) == OutboxStatus.pending.value, waiting
        )
        heads = (
            await s.execute(
                sa.select(sa.func.min(col(t.id)).label("id"))
                .where(
                    _pending_due(now),
                    col(t.platform).in_(list(platforms)),
                    sa.tuple_(col(t.platform), col(t.target)).not_in(busy),
                )
                .group_by(col(t.platform), col(t.target))
                .order_by(sa.func.min(col(t.id)))
                # More candidates than needed: other dispatchers may hold some of them.
                .limit(limit * 3)
            )
        ).all()
        ids = [h.id for h in heads if h.id is not None]
        if not ids:
            return []
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            # Concurrent dispatchers skip each other's rows instead of waiting for them.
            locked = await s.execute(
                sa.select(col(t.id))
                .where(col(t.id).in_(ids), _pending_due(now))
                .order_by(col(t.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            ids = [r[0] for r in locked.all() if r[0] is not None]
            if not ids:
                return []
        else:
            ids = ids[:limit]
        before = {
            r.id: r.claimed_by
            for r in (
                await s.execute(sa.select(col(t.id), col(t.claimed_by)).where(col(t.id).in_(ids)))
            ).all()
        }
        name = claimed_by[:120]
        result = await s.execute(
            sa.update(t)
            .where(col(t.id).in_(ids), _pending_due(now))
            .values(next_attempt_at=lease_until, attempts=col(t.attempts) + 1, claimed_by=name)
            .returning(col(t.id))
        )
        claimed_ids = sorted(r[0] for r in result.all() if r[0] is not None)
        if not claimed_ids:
            return []
        rows = (
            await s.execute(select(t).where(col(t.id).in_(claimed_ids)).order_by(col(t.id)))
        ).scalars()
        return [
            Claim(
                message=m,
                attempts=m.attempts,
                lease_until=lease_until,
                previous_claimer=before.get(m.id),
                claimed_by=name,
            )
            for m in rows
        ]


def _held(claim: Claim) -> Any:
    t = OutboxMessage
    return sa.and_(
        col(t.id) == claim.message.id,
        col(t.status) == OutboxStatus.pending.value,
        col(t.attempts) == claim.attempts,
        col(t.claimed_by) == claim.claimed_by,
    )


async def renew_lease(
    db: Database, *, claim: Claim, now: dt.datetime, lease_seconds: float
) -> Claim | None:
    """Extend a claim's lease; None when the claim was lost (the lease ran out and
    another claim took the message)."""
    until = now + dt.timedelta(seconds=lease_seconds)
    async with db.session() as s:
        result = await s.execute(
            sa.update(OutboxMessage).where(_held(claim)).values(next_attempt_at=until)
        )
        if (getattr(result, "rowcount", 0) or 0) < 1:
            return None
    return claim.renewed(until)


async def renew_leases(
    db: Database,
    *,
    claimed_by: str,
    held: Sequence[tuple[int, int]],
    now: dt.datetime,
    lease_seconds: float,
) -> set[int]:
    """Extend the leases of a dispatcher's claims [(message id, attempts)] in one write;
    returns the ids still held (the others were lost: taken by another claim, or no
    longer pending)."""
    if not held:
        return set()
    t = OutboxMessage
    until = now + dt.timedelta(seconds=lease_seconds)
    tokens = dict(held)
    async with db.session() as s:
        rows = (
            await s.execute(
                sa.update(t)
                .where(
                    col(t.id).in_(list(tokens)),
                    col(t.status) == OutboxStatus.pending.value,
                    col(t.claimed_by) == claimed_by[:120],
                )
                .values(next_attempt_at=until)
                .returning(col(t.id), col(t.attempts))
            )
        ).all()
    return {i for i, attempts in rows if i is not None and tokens.get(i) == attempts}


async def release_claims(
    db: Database, *, claimed_by: str, keep: Sequence[int], now: dt.datetime
) -> int:
    """Hand back every row a dispatcher holds except `keep`, untried: due now, the claim's
    attempt undone (after a database outage, or a claim whose answer was lost)."""
    t = OutboxMessage
    conditions = [
        col(t.status) == OutboxStatus.pending.value,
        col(t.claimed_by) == claimed_by[:120],
    ]
    if keep:
        conditions.append(col(t.id).not_in(list(keep)))
    async with db.session() as s:
        result = await s.execute(
            sa.update(t)
            .where(*conditions)
            .values(
                next_attempt_at=now,
                attempts=sa.case((col(t.attempts) > 0, col(t.attempts) - 1), else_=0),
                claimed_by=None,
            )
        )
        return max(getattr(result, "rowcount", 0) or 0, 0)


async def mark_delivered(
    db: Database, *, message_id: int, external_ref: str | None, now: dt.datetime
) -> bool:
    """Record that the platform accepted a message; False when it was not pending.

    Not guarded by the lease: once the platform has the message, recording it as sent is
    always right, and it keeps any later claim from sending it again."""
    async with db.session() as s:
        result = await s.execute(
            sa.update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == message_id,
                col(OutboxMessage.status) == OutboxStatus.pending.value,
            )
            .values(
                status=OutboxStatus.sent.value,
                sent_at=now,
                external_ref=external_ref,
                last_error=None,
                claimed_by=None,
            )
        )
        return (getattr(result, "rowcount", 0) or 0) > 0


async def mark_delivered_many(
    db: Database, *, items: Sequence[tuple[int, str | None]], now: dt.datetime
) -> None:
    """mark_delivered for several messages in one transaction (the dispatcher's group
    commit): [(message id, external ref)]."""
    if not items:
        return
    t = OutboxMessage.__table__  # type: ignore[attr-defined]
    stmt = (
        sa.update(t)
        .where(
            t.c.id == sa.bindparam("b_id"),
            t.c.status == OutboxStatus.pending.value,
        )
        .values(
            status=OutboxStatus.sent.value,
            sent_at=now,
            external_ref=sa.bindparam("b_ref"),
            last_error=None,
            claimed_by=None,
        )
    )
    async with db.session() as s:
        await s.execute(stmt, [{"b_id": i, "b_ref": ref} for i, ref in items])


async def mark_retry(
    db: Database,
    *,
    claim: Claim,
    next_attempt_at: dt.datetime,
    error: str,
    count_attempt: bool = True,
) -> bool:
    """Give a claimed message back to be tried again at `next_attempt_at`.

    count_attempt=False (rate limited) does not use up one of its attempts."""
    values: dict[str, Any] = {
        "next_attempt_at": next_attempt_at,
        "last_error": error[:1000],
        "external_ref": None,
        "claimed_by": None,
    }
    if not count_attempt:
        values["attempts"] = col(OutboxMessage.attempts) - 1
    async with db.session() as s:
        result = await s.execute(sa.update(OutboxMessage).where(_held(claim)).values(**values))
        return (getattr(result, "rowcount", 0) or 0) > 0


async def mark_dead(db: Database, *, claim: Claim, error: str) -> bool:
    """Give up on a claimed message: it stays, dead, with its last error, until retried."""
    async with db.session() as s:
        result = await s.execute(
            sa.update(OutboxMessage)
            .where(_held(claim))
            .values(
                status=OutboxStatus.dead.value,
                last_error=error[:1000],
                external_ref=None,
                claimed_by=None,
            )
        )
        return (getattr(result, "rowcount", 0) or 0) > 0


# --- the app-wide rate budget, shared by every dispatcher --------------------------------
#
# A GCRA (the "virtual scheduling" form of a token bucket) kept in one row per budget:
# `tat` is when the budget's next slot frees up, in epoch seconds. Reserving n slots moves
# tat from max(tat, now - burst * interval) by n * interval in one UPDATE, so concurrent
# dispatchers get disjoint slots and together never exceed `burst` at once nor one slot
# per `interval` on average, however many of them there are.


async def reserve_rate(
    db: Database, *, key: str, now: float, count: int, interval: float, burst: float
) -> float:
    """Reserve `count` consecutive send slots of budget `key`; returns the time (epoch
    seconds) the first one frees up; slot i (0-based) frees up `i * interval` later."""
    t = RateBudget.__table__  # type: ignore[attr-defined]
    floor = now - burst * interval
    span = count * interval
    bump = (
        sa.update(t)
        .where(t.c.key == key)
        .values(tat=sa.case((t.c.tat > floor, t.c.tat), else_=floor) + span)
        .returning(t.c.tat)
    )
    async with db.session() as s:
        tat = await s.scalar(bump)
        if tat is None:  # the budget's first use
            dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
            await s.execute(
                insert_ignore(dialect, t)
                .values(key=key, tat=0.0)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            tat = await s.scalar(bump)
    assert tat is not None
    return float(tat) - span + interval


async def get_message(db: Database, *, message_id: int) -> OutboxMessage | None:
    async with db.session() as s:
        return await s.get(OutboxMessage, message_id)


async def list_messages(
    db: Database,
    *,
    status: OutboxStatus = OutboxStatus.pending,
    limit: int = 100,
    include_console: bool = True,
) -> list[OutboxMessage]:
    """Messages of one status: pending in the order they go out, dead newest first."""
    async with db.session() as s:
        q = select(OutboxMessage).where(col(OutboxMessage.status) == status.value)
        if not include_console:
            q = q.where(col(OutboxMessage.platform) != "console")
        if status is OutboxStatus.dead:
            q = q.order_by(col(OutboxMessage.id).desc())
        else:
            q = q.order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        return list((await s.execute(q.limit(limit))).scalars())


async def retry(db: Database, *, message_id: int, now: dt.datetime) -> OutboxMessage | None:
    """Send a dead message again, from its first attempt; None when it is not dead."""
    async with db.session() as s:
        result = await s.execute(
            sa.update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == message_id,
                col(OutboxMessage.status) == OutboxStatus.dead.value,
            )
            .values(
                status=OutboxStatus.pending.value,
                attempts=0,
                next_attempt_at=now,
                external_ref=None,
                claimed_by=None,
            )
        )
        if (getattr(result, "rowcount", 0) or 0) < 1:
            return None
        return await s.get(OutboxMessage, message_id)


async def counts(db: Database) -> dict[str, int]:
    """How many messages there are of each status (and per platform for pending)."""
    async with db.session() as s:
        rows = (
            await s.execute(
                sa.select(col(OutboxMessage.status), sa.func.count()).group_by(
                    col(OutboxMessage.status)
                )
            )
        ).all()
    out = {st.value: 0 for st in OutboxStatus}
    for st, n in rows:
        out[str(st)] = int(n)
    return out
