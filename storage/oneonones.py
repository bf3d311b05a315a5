"""One-on-ones: schedules, occurrences (held, skipped, moved), agenda points, and the reads
behind the prep card. Keyword-only arguments; each call is one transaction, and a change
takes the messages it causes (the DM telling the other person) into that transaction.

`OneOnOne.next_at` is the upcoming occurrence (a moved one included). An occurrence row
exists once something happened to a slot: held, skipped, moved (the original slot, with
the new time in `reason`), or "scheduled" for a slot that passed with nothing recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select

from domain.items import ActionStatus
from domain.kpi import ZERO, Sums, combine
from domain.localtime import stored_zone
from storage import kpis
from storage.db import Database
from storage.models import (
    ActionItem,
    AgendaItem,
    Goal,
    Metric,
    OneOnOne,
    OneOnOneOccurrence,
    OutboxMessage,
    Person,
    Recognition,
)
from storage.outbox import OutboxNew, enqueue_in, insert_ignore

DEALT = ("held", "skipped")


MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer cannot exist (and would overflow a query)


async def get(db: Database, *, one_on_one_id: int) -> OneOnOne | None:
    if not 0 < one_on_one_id <= MAX_ID:
        return None
    async with db.session() as s:
        return await s.get(OneOnOne, one_on_one_id)


async def active_for(db: Database, *, lead_id: int, agent_id: int) -> OneOnOne | None:
    """The active 1:1 of this lead with this person, if any."""
    async with db.session() as s:
        rows = await s.execute(
            select(OneOnOne).where(
                col(OneOnOne.lead_id) == lead_id,
                col(OneOnOne.agent_id) == agent_id,
                col(OneOnOne.active),
            )
        )
        return rows.scalars().first()


async def list_active(
    db: Database,
    *,
    lead_ids: Sequence[int] | None = None,
    agent_id: int | None = None,
    agent_ids: Sequence[int] | None = None,
    due_before: dt.datetime | None = None,
) -> list[OneOnOne]:
    """Active 1:1s (of some leads, of one or some agents, or all), soonest first."""
    if agent_ids is not None and not agent_ids:
        return []
    async with db.session() as s:
        q = select(OneOnOne).where(col(OneOnOne.active))
        if lead_ids is not None:
            q = q.where(col(OneOnOne.lead_id).in_(list(lead_ids)))
        if agent_id is not None:
            q = q.where(OneOnOne.agent_id == agent_id)
        if agent_ids is not None:
            q = q.where(col(OneOnOne.agent_id).in_(list(agent_ids)))
        if due_before is not None:
            q = q.where(col(OneOnOne.next_at) < due_before)
        rows = await s.execute(q.order_by(col(OneOnOne.next_at), col(OneOnOne.id)))
        return list(rows.scalars())


async def schedule(
    db: Database,
    *,
    lead_id: int,
    agent_id: int,
    cadence_weeks: int,
    weekday: int,
    local_time: str,
    duration_minutes: int,
    timezone: str,
    next_at: dt.datetime,
    at: dt.datetime,
    replaces: Sequence[int] = (),
    messages: Callable[[OneOnOne, bool], Sequence[OutboxNew]] | None = None,
) -> tuple[OneOnOne, bool]:
    """Start (or replace) the pair's schedule; returns (the 1:1, whether one was replaced).

    `replaces`: other active schedules of this person that the new one takes over (one
    inherited from a lead who no longer leads them). Agenda points not yet discussed
    move to the new schedule. `messages` (given the new 1:1 and whether one was
    replaced) are enqueued in the same transaction.
    """
    async with db.session() as s:
        olds = list(
            (
                await s.execute(
                    select(OneOnOne).where(
                        sa.or_(
                            sa.and_(
                                col(OneOnOne.lead_id) == lead_id,
                                col(OneOnOne.agent_id) == agent_id,
                            ),
                            sa.and_(
                                col(OneOnOne.id).in_(list(replaces)),
                                col(OneOnOne.agent_id) == agent_id,
                            ),
                        ),
                        col(OneOnOne.active),
                    )
                )
            ).scalars()
        )
        for old in olds:
            old.active = False
            old.next_at = None
        if olds:
            await s.flush()
        new = OneOnOne(
            lead_id=lead_id,
            agent_id=agent_id,
            cadence_weeks=cadence_weeks,
            weekday=weekday,
            local_time=local_time,
            duration_minutes=duration_minutes,
            timezone=timezone,
            next_at=next_at,
            active=True,
            created_at=at,
        )
        s.add(new)
        await s.flush()
        if olds:
            await s.execute(
                sa.update(AgendaItem)
                .where(
                    col(AgendaItem.one_on_one_id).in_([o.id for o in olds]),
                    col(AgendaItem.occurrence_id).is_(None),
                )
                .values(one_on_one_id=new.id)
            )
        if messages is not None:
            await enqueue_in(s, messages(new, bool(olds)))
        return new, bool(olds)


async def cancel(db: Database, *, one_on_one_id: int, messages: Sequence[OutboxNew] = ()) -> bool:
    """Stop a schedule (history and notes stay), with its messages; False when it was not
    active (nothing is sent then)."""
    async with db.session() as s:
        o = await s.get(OneOnOne, one_on_one_id)
        if o is None or not o.active:
            return False
        o.active = False
        o.next_at = None
        await s.flush()
        await enqueue_in(s, messages)
        return True


async def record_occurrence(
    db: Database,
    *,
    one_on_one_id: int,
    scheduled_at: dt.datetime,
    status: str,
    at: dt.datetime,
    notes: str | None = None,
    reason: str | None = None,
    next_at: dt.datetime | None = None,
    set_next: bool = False,
    messages: Sequence[OutboxNew] = (),
) -> OneOnOneOccurrence:
    """Mark a slot held/skipped/moved (creating its row); optionally move `next_at`; and
    enqueue the messages it causes, all in one transaction.

    A held 1:1 takes the pending agenda points with it.
    """
    async with db.session() as s:
        occ = (
            (
                await s.execute(
                    select(OneOnOneOccurrence).where(
                        col(OneOnOneOccurrence.one_on_one_id) == one_on_one_id,
                        col(OneOnOneOccurrence.scheduled_at) == scheduled_at,
                    )
                )
            )
            .scalars()
            .first()
        )
        if occ is None:
            occ = OneOnOneOccurrence(one_on_one_id=one_on_one_id, scheduled_at=scheduled_at)
            s.add(occ)
        occ.status = status
        occ.notes = notes
        occ.reason = reason
        occ.updated_at = at
        await s.flush()
        if set_next:
            o = await s.get(OneOnOne, one_on_one_id)
            if o is not None:
                o.next_at = next_at
        if status == "held":
            await s.execute(
                sa.update(AgendaItem)
                .where(
                    col(AgendaItem.one_on_one_id) == one_on_one_id,
                    col(AgendaItem.occurrence_id).is_(None),
                )
                .values(occurrence_id=occ.id)
            )
        await enqueue_in(s, messages)
        return occ


async def pass_slot(
    db: Database, *, one_on_one_id: int, expected_next_at: dt.datetime, new_next_at: dt.datetime
) -> bool:
    """A slot went by with nothing recorded: keep it as "scheduled" and move on.

    Compare-and-set on `next_at`, so two sweeps (or a `/1on1 done`) never advance twice.
    """
    async with db.session() as s:
        result = await s.execute(
            sa.update(OneOnOne)
            .where(
                col(OneOnOne.id) == one_on_one_id,
                col(OneOnOne.active),
                col(OneOnOne.next_at) == expected_next_at,
            )
            .values(next_at=new_next_at)
        )
        if not (getattr(result, "rowcount", 0) or 0) > 0:
            return False
        dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
        await s.execute(
            insert_ignore(dialect, OneOnOneOccurrence.__table__)  # type: ignore[attr-defined]
            .values(
                one_on_one_id=one_on_one_id,
                scheduled_at=expected_next_at,
                status="scheduled",
                updated_at=expected_next_at,
            )
            .on_conflict_do_nothing(index_elements=["one_on_one_id", "scheduled_at"])
        )
        return True


async def occurrences(
    db: Database,
    *,
    one_on_one_ids: Sequence[int],
    statuses: Sequence[str] | None = None,
    since: dt.datetime | None = None,
    limit: int | None = None,
) -> list[OneOnOneOccurrence]:
    """Occurrence rows, newest first."""
    if not one_on_one_ids:
        return []
    async with db.session() as s:
        q = select(OneOnOneOccurrence).where(
            col(OneOnOneOccurrence.one_on_one_id).in_(list(one_on_one_ids))
        )
        if statuses is not None:
            q = q.where(col(OneOnOneOccurrence.status).in_(list(statuses)))
        if since is not None:
            q = q.where(col(OneOnOneOccurrence.scheduled_at) >= since)
        q = q.order_by(col(OneOnOneOccurrence.scheduled_at).desc())
        if limit is not None:
            q = q.limit(limit)
        return list((await s.execute(q)).scalars())


async def pair_ids(db: Database, *, lead_id: int, agent_id: int) -> list[int]:
    """Every 1:1 schedule (current and past) of a lead with a person."""
    async with db.session() as s:
        rows = await s.execute(
            sa.select(col(OneOnOne.id)).where(
                col(OneOnOne.lead_id) == lead_id, col(OneOnOne.agent_id) == agent_id
            )
        )
        return [int(i) for i in rows.scalars() if i is not None]


async def last_dealt(db: Database, *, one_on_one_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """Per 1:1: the latest held or skipped slot."""
    if not one_on_one_ids:
        return {}
    async with db.session() as s:
        rows = await s.execute(
            sa.select(
                col(OneOnOneOccurrence.one_on_one_id), sa.func.max(OneOnOneOccurrence.scheduled_at)
            )
            .where(
                col(OneOnOneOccurrence.one_on_one_id).in_(list(one_on_one_ids)),
                col(OneOnOneOccurrence.status).in_(DEALT),
            )
            .group_by(col(OneOnOneOccurrence.one_on_one_id))
        )
        out: dict[int, dt.datetime] = {}
        for oid, when in rows.all():
            if isinstance(when, str):  # SQLite's max() loses the column type
                when = dt.datetime.fromisoformat(when)
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            out[int(oid)] = when
        return out


# --- agenda ------------------------------------------------------------------------------


async def add_agenda(
    db: Database, *, one_on_one_id: int, author_id: int, text: str, at: dt.datetime
) -> AgendaItem:
    async with db.session() as s:
        item = AgendaItem(
            one_on_one_id=one_on_one_id, author_id=author_id, text=text, created_at=at
        )
        s.add(item)
        await s.flush()
        return item


async def pending_agenda(db: Database, *, one_on_one_ids: Sequence[int]) -> list[AgendaItem]:
    """Agenda points not yet taken to a held 1:1, oldest first."""
    if not one_on_one_ids:
        return []
    async with db.session() as s:
        rows = await s.execute(
            select(AgendaItem)
            .where(
                col(AgendaItem.one_on_one_id).in_(list(one_on_one_ids)),
                col(AgendaItem.occurrence_id).is_(None),
            )
            .order_by(col(AgendaItem.created_at), col(AgendaItem.id))
        )
        return list(rows.scalars())


# --- prep card reads -------------------------------------------------------------------


@dataclass(frozen=True)
class KpiFigure:
    metric: Metric
    value: float | None  # the period
    previous: float | None  # the period before, of the same length
    days: int  # days with data in the period
    daily: tuple[float | None, ...]  # each day of the period (for a sparkline)
    sums: Sums = ZERO  # what `value` rests on (its contacts: the minimum-sample rule)
    prev_sums: Sums = ZERO


async def person_kpis(
    db: Database,
    *,
    person_id: int,
    metric_keys: Sequence[str],
    since: dt.date,
    until: dt.date,
) -> list[KpiFigure]:
    """A person's figures over [since, until] and the same span before, each aggregated the
    metric's way (contact-weighted means, ratios from counts, NPS; see storage.kpis)."""
    if not metric_keys:
        return []
    async with db.session() as s:
        found = {
            m.key: m
            for m in (
                await s.execute(select(Metric).where(col(Metric.key).in_(list(metric_keys))))
            ).scalars()
        }
    metrics = [found[k] for k in metric_keys if k in found]
    return await _figures(db, person_id=person_id, metrics=metrics, since=since, until=until)


async def _figures(
    db: Database, *, person_id: int, metrics: Sequence[Metric], since: dt.date, until: dt.date
) -> list[KpiFigure]:
    if not metrics:
        return []
    span = (until - since).days + 1
    before = since - dt.timedelta(days=span)
    sums = await kpis.person_day_sums(
        db, person_id=person_id, metric_keys=[m.key for m in metrics], start=before, end=until
    )
    out = []
    for m in metrics:
        cur, prev = ZERO, ZERO
        daily: list[float | None] = []
        days = 0
        day = before
        while day <= until:
            got = sums.get((m.key, day), ZERO)
            if day >= since:
                cur = cur + got
                daily.append(combine(m.aggregation, got))
                days += got.c > 0
            else:
                prev = prev + got
            day += dt.timedelta(days=1)
        out.append(
            KpiFigure(
                m,
                combine(m.aggregation, cur),
                combine(m.aggregation, prev),
                days,
                tuple(daily),
                cur,
                prev,
            )
        )
    return out


@dataclass(frozen=True)
class PrepData:
    """Everything a prep card shows, read in one transaction (plus one for the KPIs)."""

    last_held: OneOnOneOccurrence | None
    since: dt.datetime
    goals: dict[str, Goal]  # by metric key
    figures: list[KpiFigure]
    open_items: list[ActionItem]
    closed_items: list[ActionItem]
    kudos: list[Recognition]
    agenda: list[AgendaItem]
    names: dict[int, Person]  # kudos givers and agenda authors


async def load_prep(
    db: Database,
    *,
    lead_id: int,
    agent: Person,
    one_on_one_id: int | None,
    now: dt.datetime,
    default_days: int,
    default_metrics: Sequence[str],
) -> PrepData:
    """The prep card's data: since the last held 1:1 of this pair (else `default_days`)."""
    agent_id = agent.id or 0
    async with db.session() as s:
        pair = [
            int(i)
            for i in (
                await s.execute(
                    sa.select(col(OneOnOne.id)).where(
                        col(OneOnOne.lead_id) == lead_id, col(OneOnOne.agent_id) == agent_id
                    )
                )
            ).scalars()
            if i is not None
        ]
        last = None
        if pair:
            last = (
                (
                    await s.execute(
                        select(OneOnOneOccurrence)
                        .where(
                            col(OneOnOneOccurrence.one_on_one_id).in_(pair),
                            col(OneOnOneOccurrence.status) == "held",
                        )
                        .order_by(col(OneOnOneOccurrence.scheduled_at).desc())
                        .limit(1)
                    )
                )
                .scalars()
                .first()
            )
        since = last.scheduled_at if last else now - dt.timedelta(days=default_days)
        goals: dict[str, Goal] = {}
        if agent.team_id is not None:
            for g in (
                await s.execute(
                    select(Goal)
                    .where(col(Goal.team_id) == agent.team_id, col(Goal.active))
                    .order_by(col(Goal.metric_key), col(Goal.period))
                )
            ).scalars():
                goals.setdefault(g.metric_key, g)
        keys = list(goals) or list(default_metrics)
        metrics = {
            m.key: m
            for m in (await s.execute(select(Metric).where(col(Metric.key).in_(keys)))).scalars()
        }
        open_items = list(
            (
                await s.execute(
                    select(ActionItem)
                    .where(
                        col(ActionItem.owner_id) == agent_id,
                        col(ActionItem.status).in_([ActionStatus.open, ActionStatus.in_progress]),
                    )
                    .order_by(col(ActionItem.due_date), col(ActionItem.id))
                    .limit(10)
                )
            ).scalars()
        )
        closed_items = list(
            (
                await s.execute(
                    select(ActionItem)
                    .where(
                        col(ActionItem.owner_id) == agent_id,
                        col(ActionItem.status).in_([ActionStatus.done, ActionStatus.cancelled]),
                        col(ActionItem.closed_at) >= since,
                    )
                    .order_by(col(ActionItem.closed_at).desc())
                    .limit(10)
                )
            ).scalars()
        )
        kudos = list(
            (
                await s.execute(
                    select(Recognition)
                    .where(
                        col(Recognition.receiver_id) == agent_id,
                        col(Recognition.created_at) >= since,
                    )
                    .order_by(col(Recognition.created_at).desc(), col(Recognition.id).desc())
                )
            ).scalars()
        )
        agenda_ids = [one_on_one_id] if one_on_one_id is not None else pair
        agenda: list[AgendaItem] = []
        if agenda_ids:
            agenda = list(
                (
                    await s.execute(
                        select(AgendaItem)
                        .where(
                            col(AgendaItem.one_on_one_id).in_(agenda_ids),
                            col(AgendaItem.occurrence_id).is_(None),
                        )
                        .order_by(col(AgendaItem.created_at), col(AgendaItem.id))
                    )
                ).scalars()
            )
        wanted = {k.giver_id for k in kudos if k.giver_id} | {a.author_id for a in agenda}
        names: dict[int, Person] = {}
        if wanted:
            for p in (
                await s.execute(select(Person).where(col(Person.id).in_(list(wanted))))
            ).scalars():
                if p.id is not None:
                    names[p.id] = p
    z = stored_zone(agent.timezone)
    figures = await _figures(
        db,
        person_id=agent_id,
        metrics=[metrics[k] for k in keys if k in metrics],
        since=since.astimezone(z).date(),
        until=now.astimezone(z).date(),
    )
    return PrepData(last, since, goals, figures, open_items, closed_items, kudos, agenda, names)


async def existing_keys(db: Database, *, keys: Sequence[str]) -> set[str]:
    """Which of these outbox dedupe keys were enqueued already (to skip building them)."""
    if not keys:
        return set()
    async with db.session() as s:
        rows = await s.execute(
            sa.select(col(OutboxMessage.dedupe_key)).where(
                col(OutboxMessage.dedupe_key).in_(list(keys))
            )
        )
        return set(rows.scalars())


async def enqueue(db: Database, *, messages: Sequence[OutboxNew]) -> int:
    """Enqueue messages (reminders, nudges) in one transaction."""
    if not messages:
        return 0
    async with db.session() as s:
        return await enqueue_in(s, messages)
