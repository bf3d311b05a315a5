"""Recognition (kudos): recording, leaderboards, digests, value tags and KPI suggestions.

Keyword-only arguments; each call is one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select

from storage.db import Database
from storage.models import Goal, KudosSuggestion, Metric, MetricValue, Person, Recognition, ValueTag
from storage.outbox import OutboxNew, enqueue_in, insert_ignore


@dataclass(frozen=True)
class NewRecognition:
    receiver_id: int
    team_id: int | None


async def record(
    db: Database,
    *,
    giver_id: int,
    receivers: Sequence[NewRecognition],
    message: str,
    value_tag: str | None,
    group_key: str,
    at: dt.datetime,
    messages: Sequence[OutboxNew] = (),
    source: str = "manual",
    daily_limit: int | None = None,
    day_start: dt.datetime | None = None,
) -> int | None:
    """Record one Recognition per receiver and enqueue the messages, all or nothing.

    With `daily_limit`, the giver's recognitions since `day_start` plus these must fit in
    it; otherwise nothing is written and None is returned. Returns rows written.
    """
    async with db.session() as s:
        if daily_limit is not None and day_start is not None:
            given = int(
                await s.scalar(
                    sa.select(sa.func.count())
                    .select_from(Recognition)
                    .where(
                        col(Recognition.giver_id) == giver_id,
                        col(Recognition.created_at) >= day_start,
                        col(Recognition.source) == "manual",
                    )
                )
                or 0
            )
            if given + len(receivers) > daily_limit:
                return None
        for r in receivers:
            s.add(
                Recognition(
                    giver_id=giver_id,
                    receiver_id=r.receiver_id,
                    team_id=r.team_id,
                    message=message,
                    value_tag=value_tag,
                    group_key=group_key,
                    source=source,
                    created_at=at,
                )
            )
        await s.flush()
        await enqueue_in(s, messages)
        return len(receivers)


async def count_given_since(db: Database, *, giver_id: int, since: dt.datetime) -> int:
    """Manual recognitions a person has given since a moment."""
    async with db.session() as s:
        return int(
            await s.scalar(
                sa.select(sa.func.count())
                .select_from(Recognition)
                .where(
                    col(Recognition.giver_id) == giver_id,
                    col(Recognition.created_at) >= since,
                    col(Recognition.source) == "manual",
                )
            )
            or 0
        )


async def in_range(
    db: Database,
    *,
    team_ids: Sequence[int] | None = None,
    person_id: int | None = None,
    giver_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int | None = None,
) -> list[Recognition]:
    """Recognitions matching the filters, newest first."""
    async with db.session() as s:
        q = select(Recognition)
        if team_ids is not None:
            q = q.where(col(Recognition.team_id).in_(list(team_ids)))
        if person_id is not None:
            q = q.where(Recognition.receiver_id == person_id)
        if giver_id is not None:
            q = q.where(Recognition.giver_id == giver_id)
        if since is not None:
            q = q.where(col(Recognition.created_at) >= since)
        if until is not None:
            q = q.where(col(Recognition.created_at) < until)
        q = q.order_by(col(Recognition.created_at).desc(), col(Recognition.id).desc())
        if limit is not None:
            q = q.limit(limit)
        return list((await s.execute(q)).scalars())


@dataclass(frozen=True)
class Leaderboard:
    by_person: list[tuple[int, int]]  # (person id, kudos received), most first
    by_value: list[tuple[str, int]]  # (value key, kudos), most first; "" = no value
    total: int


async def leaderboard(
    db: Database, *, team_ids: Sequence[int], since: dt.datetime, until: dt.datetime
) -> Leaderboard:
    """Kudos received per person and per value in the given teams and window."""
    async with db.session() as s:
        base = (
            col(Recognition.team_id).in_(list(team_ids)),
            col(Recognition.created_at) >= since,
            col(Recognition.created_at) < until,
        )
        cnt = sa.func.count()
        people_rows = await s.execute(
            sa.select(col(Recognition.receiver_id), cnt)
            .where(*base, col(Recognition.receiver_id).is_not(None))
            .group_by(col(Recognition.receiver_id))
            .order_by(cnt.desc(), col(Recognition.receiver_id))
        )
        value_rows = await s.execute(
            sa.select(col(Recognition.value_tag), cnt)
            .where(*base)
            .group_by(col(Recognition.value_tag))
            .order_by(cnt.desc(), col(Recognition.value_tag))
        )
        by_person = [(int(pid), int(n)) for pid, n in people_rows.all() if pid is not None]
        by_value = [(v or "", int(n)) for v, n in value_rows.all()]
        return Leaderboard(by_person, by_value, sum(n for _, n in by_value))


async def last_recognised(db: Database, *, person_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """When each person was last recognised (people never recognised are left out)."""
    if not person_ids:
        return {}
    async with db.session() as s:
        rows = await s.execute(
            sa.select(col(Recognition.receiver_id), sa.func.max(Recognition.created_at))
            .where(col(Recognition.receiver_id).in_(list(person_ids)))
            .group_by(col(Recognition.receiver_id))
        )
        out: dict[int, dt.datetime] = {}
        for pid, when in rows.all():
            if isinstance(when, str):  # SQLite's max() loses the column type
                when = dt.datetime.fromisoformat(when)
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            if pid is not None:
                out[int(pid)] = when
        return out


# --- value tags ------------------------------------------------------------------------


async def all_value_tags(db: Database) -> list[ValueTag]:
    """Every value tag, active or not, in display order."""
    async with db.session() as s:
        rows = await s.execute(select(ValueTag).order_by(col(ValueTag.position), ValueTag.key))
        return list(rows.scalars())


async def add_value_tag(db: Database, *, key: str, name: str) -> ValueTag:
    """Add a value (or bring a removed one back) at the end of the list."""
    async with db.session() as s:
        tag = await s.get(ValueTag, key)
        top = await s.scalar(sa.select(sa.func.max(ValueTag.position)))
        if tag is None:
            tag = ValueTag(key=key, name=name, position=int(top or 0) + 1)
            s.add(tag)
        elif not tag.active:
            tag.active = True
            tag.position = int(top or 0) + 1
        return tag


async def remove_value_tag(db: Database, *, key: str) -> bool:
    """Retire a value (past kudos keep it); False when it was not active."""
    async with db.session() as s:
        tag = await s.get(ValueTag, key)
        if tag is None or not tag.active:
            return False
        tag.active = False
        return True


# --- suggestions from the KPIs ---------------------------------------------------------


async def create_suggestion(
    db: Database,
    *,
    key: str,
    team_id: int,
    person_id: int,
    kind: str,
    detail: str,
    value_tag: str | None,
    at: dt.datetime,
    messages: Callable[[int], Sequence[OutboxNew]],
) -> int | None:
    """Store a suggestion once (by `key`) and enqueue its messages; None when it existed."""
    async with db.session() as s:
        dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
        stmt = (
            insert_ignore(dialect, KudosSuggestion.__table__)  # type: ignore[attr-defined]
            .values(
                key=key[:160],
                team_id=team_id,
                person_id=person_id,
                kind=kind,
                detail=detail[:500],
                value_tag=value_tag,
                status="pending",
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        result = await s.execute(stmt)
        if not (getattr(result, "rowcount", 0) or 0) > 0:
            return None
        sid = await s.scalar(
            sa.select(col(KudosSuggestion.id)).where(col(KudosSuggestion.key) == key[:160])
        )
        assert sid is not None
        await enqueue_in(s, messages(int(sid)))
        return int(sid)


async def get_suggestion(db: Database, *, suggestion_id: int) -> KudosSuggestion | None:
    async with db.session() as s:
        return await s.get(KudosSuggestion, suggestion_id)


async def pending_suggestions(db: Database, *, team_id: int) -> list[KudosSuggestion]:
    async with db.session() as s:
        rows = await s.execute(
            select(KudosSuggestion)
            .where(KudosSuggestion.team_id == team_id, col(KudosSuggestion.status) == "pending")
            .order_by(col(KudosSuggestion.created_at))
        )
        return list(rows.scalars())


async def resolve_suggestion(
    db: Database,
    *,
    suggestion_id: int,
    status: str,
    recognition: Recognition | None = None,
    messages: Sequence[OutboxNew] = (),
) -> bool:
    """Move a pending suggestion to posted/dismissed (with its recognition and messages).

    False when it was not pending any more (a second click changes nothing).
    """
    async with db.session() as s:
        result = await s.execute(
            sa.update(KudosSuggestion)
            .where(
                col(KudosSuggestion.id) == suggestion_id, col(KudosSuggestion.status) == "pending"
            )
            .values(status=status)
        )
        if not (getattr(result, "rowcount", 0) or 0) > 0:
            return False
        if recognition is not None:
            s.add(recognition)
            await s.flush()
        await enqueue_in(s, messages)
        return True


# --- KPI reads used by the suggestions ---------------------------------------------------


async def team_goals(db: Database, *, team_id: int) -> list[tuple[Goal, Metric]]:
    """A team's active goals with their metrics."""
    async with db.session() as s:
        rows = await s.execute(
            select(Goal, Metric)
            .join(Metric, col(Metric.key) == col(Goal.metric_key))
            .where(Goal.team_id == team_id, col(Goal.active))
            .order_by(Goal.metric_key)
        )
        return [(g, m) for g, m in rows.all()]


async def daily_values(
    db: Database, *, team_id: int, metric_key: str, since: dt.date, until: dt.date
) -> dict[int, dict[dt.date, tuple[float, float]]]:
    """Each person's (value, weight) per day of one metric in a team, days in [since, until]."""
    async with db.session() as s:
        rows = await s.execute(
            sa.select(
                col(MetricValue.person_id),
                col(MetricValue.day),
                col(MetricValue.value),
                col(MetricValue.weight),
            ).where(
                col(MetricValue.team_id) == team_id,
                col(MetricValue.metric_key) == metric_key,
                col(MetricValue.person_id).is_not(None),
                col(MetricValue.day) >= since,
                col(MetricValue.day) <= until,
            )
        )
        out: dict[int, dict[dt.date, tuple[float, float]]] = {}
        for pid, day, value, weight in rows.all():
            if pid is None:
                continue
            out.setdefault(int(pid), {})[day] = (float(value), float(weight))
        return out


async def team_agents(db: Database, *, team_id: int) -> list[Person]:
    """Active agents of a team, by name."""
    async with db.session() as s:
        rows = await s.execute(
            select(Person)
            .where(Person.team_id == team_id, col(Person.active), col(Person.role) == "agent")
            .order_by(Person.display_name)
        )
        return list(rows.scalars())
