"""Action items and their event trail. Keyword-only arguments; each call is one transaction.

Every change writes an ActionItemEvent in the same transaction as the change itself and
any outbox messages it causes, so the trail, the item and the messages never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.items import ActionStatus
from storage.db import Database
from storage.models import (
    ActionItem,
    ActionItemEvent,
    ActionProposal,
    MetricValue,
    OneOnOne,
    OutboxMessage,
    PulseRound,
)
from storage.outbox import OutboxNew, enqueue_in

OPEN_STATUSES = (ActionStatus.open, ActionStatus.in_progress)
MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer cannot exist (and would overflow a query)

MessagesFor = Callable[[ActionItem, ActionItemEvent], Sequence[OutboxNew]]


@dataclass(frozen=True)
class ChangeResult:
    """What `change` did: `applied` is False when the item was not in an allowed status."""

    item: ActionItem | None
    applied: bool
    event: ActionItemEvent | None = None


async def create(
    db: Database,
    *,
    item: ActionItem,
    actor_id: int | None,
    detail: str,
    now: dt.datetime,
    messages: MessagesFor | None = None,
) -> ActionItem:
    """Insert an item, its `created` event, and the messages built from its new id."""
    async with db.session() as s:
        item.created_at = now
        item.updated_at = now
        s.add(item)
        await s.flush()
        assert item.id is not None
        event = ActionItemEvent(
            item_id=item.id, actor_id=actor_id, kind="created", detail=detail, created_at=now
        )
        s.add(event)
        await s.flush()
        if messages is not None:
            await enqueue_in(s, messages(item, event))
        return item


async def get(db: Database, *, item_id: int) -> ActionItem | None:
    if not 0 < item_id <= MAX_ID:
        return None
    async with db.session() as s:
        return await s.get(ActionItem, item_id)


async def events(db: Database, *, item_id: int) -> list[ActionItemEvent]:
    """The item's trail, oldest first."""
    async with db.session() as s:
        rows = await s.execute(
            select(ActionItemEvent)
            .where(ActionItemEvent.item_id == item_id)
            .order_by(col(ActionItemEvent.created_at), col(ActionItemEvent.id))
        )
        return list(rows.scalars())


async def change(
    db: Database,
    *,
    item_id: int,
    actor_id: int | None,
    kind: str,
    detail: str,
    allowed_from: Collection[ActionStatus],
    updates: dict[str, Any],
    now: dt.datetime,
    messages: MessagesFor | None = None,
    expect_owner_id: int | None = None,
    withdraw_followups: bool = False,
    withdraw_proposals: bool = False,
) -> ChangeResult:
    """Apply `updates` and record one event, only when the item (locked for the
    transaction) is still in one of `allowed_from` (and still owned by `expect_owner_id`
    when given): two people pressing Done at once close it once. `withdraw_proposals`
    withdraws the owner's pending request (a leader moved the date or closed the item
    meanwhile, so there is nothing left to decide)."""
    if not 0 < item_id <= MAX_ID:
        return ChangeResult(None, False)
    async with db.session() as s:
        rows = await s.execute(select(ActionItem).where(ActionItem.id == item_id).with_for_update())
        item = rows.scalars().first()
        if item is None:
            return ChangeResult(None, False)
        if item.status not in allowed_from:
            return ChangeResult(item, False)
        if expect_owner_id is not None and item.owner_id != expect_owner_id:
            return ChangeResult(item, False)
        # Compare-and-set as well as the lock: SQLite has no row locks.
        cond = [
            col(ActionItem.id) == item_id,
            col(ActionItem.status).in_([st.value for st in allowed_from]),
        ]
        if expect_owner_id is not None:
            cond.append(col(ActionItem.owner_id) == expect_owner_id)
        values = {**updates, "updated_at": now}
        result = await s.execute(
            sa.update(ActionItem)
            .where(*cond)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return ChangeResult(item, False)
        await s.refresh(item)
        if withdraw_followups:
            await _withdraw_in(s, item_id)
        if withdraw_proposals:
            await _withdraw_proposals_in(s, item_id, now)
        event = ActionItemEvent(
            item_id=item_id, actor_id=actor_id, kind=kind, detail=detail[:1000], created_at=now
        )
        s.add(event)
        await s.flush()
        if messages is not None:
            await enqueue_in(s, messages(item, event))
        return ChangeResult(item, True, event)


FOLLOWUP_KEYS = ("due:%", "nudge:%", "escalated:%", "close_offer")


async def _withdraw_in(session: AsyncSession, item_id: int) -> int:
    """Drop follow-ups of an item still waiting in the outbox (held for someone's shift and
    never tried), so a reminder never arrives after the item was closed, moved or handed
    on. One DELETE: a row a dispatcher has claimed (attempts > 0) is left alone."""
    likes = [col(OutboxMessage.dedupe_key).like(f"action:{item_id}:{k}") for k in FOLLOWUP_KEYS]
    result = await session.execute(
        sa.delete(OutboxMessage)
        .where(
            sa.or_(*likes),
            col(OutboxMessage.status) == "pending",
            col(OutboxMessage.attempts) == 0,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def add_event(
    db: Database,
    *,
    item_id: int,
    actor_id: int | None,
    kind: str,
    detail: str,
    now: dt.datetime,
    messages: Sequence[OutboxNew] = (),
) -> ActionItemEvent:
    """Record something that doesn't change the item (e.g. a request for help)."""
    async with db.session() as s:
        event = ActionItemEvent(
            item_id=item_id, actor_id=actor_id, kind=kind, detail=detail[:1000], created_at=now
        )
        s.add(event)
        await s.flush()
        await enqueue_in(s, messages)
        return event


async def _lock_open(session: AsyncSession, item_id: int) -> bool:
    """Take the item's write lock (a row lock on PostgreSQL, the write lock on SQLite)
    before anything is read, so two requests about it run one after the other. True when
    the item exists and is open."""
    result = await session.execute(
        sa.update(ActionItem)
        .where(
            col(ActionItem.id) == item_id,
            col(ActionItem.status).in_([st.value for st in OPEN_STATUSES]),
        )
        .values(updated_at=col(ActionItem.updated_at))
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


@dataclass(frozen=True)
class HelpResult:
    """What `request_help` did: recorded (with its event), a repeat, or the item closed."""

    event: ActionItemEvent | None
    repeat: bool = False


async def request_help(
    db: Database,
    *,
    item_id: int,
    actor_id: int,
    detail: str,
    now: dt.datetime,
    repeat_within: dt.timedelta,
    messages: Callable[[ActionItemEvent], Sequence[OutboxNew]],
) -> HelpResult:
    """Record a request for help and its DM, once per request: the same request (same
    person, same words) again within `repeat_within` is a repeat (a double press, a form
    sent twice) and does nothing; the DM's key comes from the new event's id, so two
    genuine requests both go."""
    if not 0 < item_id <= MAX_ID:
        return HelpResult(None)
    async with db.session() as s:
        if not await _lock_open(s, item_id):
            return HelpResult(None)
        last = (
            (
                await s.execute(
                    select(ActionItemEvent)
                    .where(
                        col(ActionItemEvent.item_id) == item_id,
                        col(ActionItemEvent.kind) == "help_requested",
                        col(ActionItemEvent.actor_id) == actor_id,
                        col(ActionItemEvent.created_at) > now - repeat_within,
                    )
                    .order_by(
                        col(ActionItemEvent.created_at).desc(), col(ActionItemEvent.id).desc()
                    )
                    .limit(1)
                )
            )
            .scalars()
            .first()
        )
        if last is not None and last.detail == detail[:1000]:
            return HelpResult(last, repeat=True)
        event = ActionItemEvent(
            item_id=item_id,
            actor_id=actor_id,
            kind="help_requested",
            detail=detail[:1000],
            created_at=now,
        )
        s.add(event)
        await s.flush()
        await enqueue_in(s, messages(event))
        return HelpResult(event)


# --- the owner's requests: a new due date, a cancellation ---------------------------------


PROPOSAL_EVENTS = {"due": "due_proposed", "cancel": "cancel_requested"}

ProposalMessages = Callable[[ActionItem, ActionProposal], Sequence[OutboxNew]]


@dataclass(frozen=True)
class ProposalResult:
    """What `propose` or `decide` did. `applied` is False when the item was closed, handed
    on, or (for `decide`) the request was no longer pending; `item` and `proposal` are
    then as they are now."""

    item: ActionItem | None
    proposal: ActionProposal | None
    applied: bool
    replaced: ActionProposal | None = None  # a pending request this one took the place of


async def _withdraw_proposals_in(session: AsyncSession, item_id: int, now: dt.datetime) -> int:
    result = await session.execute(
        sa.update(ActionProposal)
        .where(col(ActionProposal.item_id) == item_id, col(ActionProposal.status) == "pending")
        .values(status="withdrawn", decided_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _locked_item(session: AsyncSession, item_id: int) -> ActionItem | None:
    rows = await session.execute(
        select(ActionItem).where(col(ActionItem.id) == item_id).with_for_update()
    )
    return rows.scalars().first()


async def propose(
    db: Database,
    *,
    proposal: ActionProposal,
    now: dt.datetime,
    detail: str,
    messages: ProposalMessages,
) -> ProposalResult:
    """Record the owner's request (a pending one before it is withdrawn: the newest
    counts), its trail event and the DM asking for a decision, in one transaction; only
    while the item is open and still theirs. The item itself does not change."""
    item_id = proposal.item_id
    if not 0 < item_id <= MAX_ID:
        return ProposalResult(None, None, False)
    async with db.session() as s:
        locked = await _lock_open(s, item_id)
        item = await _locked_item(s, item_id)
        if not locked or item is None or item.owner_id != proposal.proposed_by_id:
            return ProposalResult(item, None, False)
        old = (
            (
                await s.execute(
                    select(ActionProposal).where(
                        col(ActionProposal.item_id) == item_id,
                        col(ActionProposal.status) == "pending",
                    )
                )
            )
            .scalars()
            .first()
        )
        if old is not None:
            old.status = "withdrawn"
            old.decided_at = now
            await s.flush()
        proposal.status = "pending"
        proposal.created_at = now
        proposal.from_due = item.due_date
        s.add(proposal)
        await s.flush()
        s.add(
            ActionItemEvent(
                item_id=item_id,
                actor_id=proposal.proposed_by_id,
                kind=PROPOSAL_EVENTS[proposal.kind],
                detail=detail[:1000],
                created_at=now,
            )
        )
        await s.flush()
        await enqueue_in(s, messages(item, proposal))
        return ProposalResult(item, proposal, True, old)


async def get_proposal(db: Database, *, proposal_id: int) -> ActionProposal | None:
    if not 0 < proposal_id <= MAX_ID:
        return None
    async with db.session() as s:
        return await s.get(ActionProposal, proposal_id)


async def pending_proposal(db: Database, *, item_id: int) -> ActionProposal | None:
    """The item's pending request, if there is one."""
    async with db.session() as s:
        rows = await s.execute(
            select(ActionProposal).where(
                col(ActionProposal.item_id) == item_id, col(ActionProposal.status) == "pending"
            )
        )
        return rows.scalars().first()


async def decide(
    db: Database,
    *,
    proposal_id: int,
    approve: bool,
    actor_id: int,
    now: dt.datetime,
    detail: str,
    messages: ProposalMessages,
) -> ProposalResult:
    """Approve or decline a pending request, in one transaction with its trail event and
    the owner's notice. Approving a new date moves the item's due date (its follow-ups
    start again from the new date); approving a cancellation cancels the item. Only when
    the request is still pending and the item still open and owned by whoever asked."""
    if not 0 < proposal_id <= MAX_ID:
        return ProposalResult(None, None, False)
    async with db.session() as s:
        proposal = await s.get(ActionProposal, proposal_id)
        if proposal is None:
            return ProposalResult(None, None, False)
        locked = await _lock_open(s, proposal.item_id)
        item = await _locked_item(s, proposal.item_id)
        await s.refresh(proposal)
        if (
            not locked
            or item is None
            or proposal.status != "pending"
            or item.owner_id != proposal.proposed_by_id
        ):
            return ProposalResult(item, proposal, False)
        proposal.status = "approved" if approve else "declined"
        proposal.decided_by_id = actor_id
        proposal.decided_at = now
        kind = "proposal_declined"
        if approve and proposal.kind == "due":
            item.due_date = proposal.due_date
            kind = "due_changed"
        elif approve:
            item.status = ActionStatus.cancelled
            item.closed_at = now
            kind = "cancelled"
        if approve:
            item.updated_at = now
            await _withdraw_in(s, item.id or 0)
        s.add(
            ActionItemEvent(
                item_id=proposal.item_id,
                actor_id=actor_id,
                kind=kind,
                detail=detail[:1000],
                created_at=now,
            )
        )
        await s.flush()
        await enqueue_in(s, messages(item, proposal))
        return ProposalResult(item, proposal, True)


async def list_items(
    db: Database,
    *,
    owner_id: int | None = None,
    assigned_by_id: int | None = None,
    team_ids: Collection[int] | None = None,
    statuses: Collection[ActionStatus] = OPEN_STATUSES,
    due_before: dt.date | None = None,
    closed_since: dt.datetime | None = None,
    limit: int = 500,
) -> list[ActionItem]:
    """Items matching every filter given, soonest due first (no due date last)."""
    q = select(ActionItem).where(col(ActionItem.status).in_([s.value for s in statuses]))
    if owner_id is not None:
        q = q.where(ActionItem.owner_id == owner_id)
    if assigned_by_id is not None:
        q = q.where(ActionItem.assigned_by_id == assigned_by_id)
    if team_ids is not None:
        if not team_ids:
            return []
        q = q.where(col(ActionItem.team_id).in_(list(team_ids)))
    if due_before is not None:
        q = q.where(col(ActionItem.due_date).is_not(None), col(ActionItem.due_date) < due_before)
    if closed_since is not None:
        q = q.where(col(ActionItem.closed_at) >= closed_since)
    q = q.order_by(
        col(ActionItem.due_date).is_(None), col(ActionItem.due_date), col(ActionItem.id)
    ).limit(limit)
    async with db.session() as s:
        return list((await s.execute(q)).scalars())


async def count_items(
    db: Database,
    *,
    owner_id: int | None = None,
    team_ids: Collection[int] | None = None,
    statuses: Collection[ActionStatus] = OPEN_STATUSES,
) -> int:
    q = sa.select(sa.func.count()).select_from(ActionItem)
    q = q.where(col(ActionItem.status).in_([s.value for s in statuses]))
    if owner_id is not None:
        q = q.where(col(ActionItem.owner_id) == owner_id)
    if team_ids is not None:
        if not team_ids:
            return 0
        q = q.where(col(ActionItem.team_id).in_(list(team_ids)))
    async with db.session() as s:
        return int(await s.scalar(q) or 0)


# --- follow-ups --------------------------------------------------------------------------


async def sweep_candidates(db: Database, *, due_until: dt.date) -> list[ActionItem]:
    """Open items that may need a follow-up: due by `due_until`, or linked to a metric."""
    q = select(ActionItem).where(
        col(ActionItem.status).in_([s.value for s in OPEN_STATUSES]),
        sa.or_(
            sa.and_(col(ActionItem.due_date).is_not(None), col(ActionItem.due_date) <= due_until),
            sa.and_(
                col(ActionItem.metric_key).is_not(None), col(ActionItem.close_offered_at).is_(None)
            ),
        ),
    )
    async with db.session() as s:
        return list((await s.execute(q.order_by(col(ActionItem.id)))).scalars())


async def existing_keys(db: Database, *, keys: Collection[str]) -> set[str]:
    """Which of these outbox dedupe keys were enqueued already."""
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    async with db.session() as s:
        for start in range(0, len(wanted), 2000):  # stay far below bind-parameter limits
            rows = await s.execute(
                select(OutboxMessage.dedupe_key).where(
                    col(OutboxMessage.dedupe_key).in_(wanted[start : start + 2000])
                )
            )
            found.update(rows.scalars())
    return found


async def last_events(
    db: Database, *, item_ids: Collection[int], kinds: Collection[str]
) -> dict[tuple[int, str], dt.datetime]:
    """The time of the latest event of each kind, per item."""
    if not item_ids:
        return {}
    q = (
        sa.select(
            col(ActionItemEvent.item_id),
            col(ActionItemEvent.kind),
            sa.func.max(col(ActionItemEvent.created_at)),
        )
        .where(
            col(ActionItemEvent.item_id).in_(list(item_ids)),
            col(ActionItemEvent.kind).in_(list(kinds)),
        )
        .group_by(col(ActionItemEvent.item_id), col(ActionItemEvent.kind))
    )
    async with db.session() as s:
        out: dict[tuple[int, str], dt.datetime] = {}
        for item_id, kind, when in (await s.execute(q)).all():
            if when is not None and when.tzinfo is None:  # SQLite's max() loses the type
                when = when.replace(tzinfo=dt.UTC)
            elif isinstance(when, str):
                when = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)
            out[(int(item_id), str(kind))] = when
        return out


@dataclass(frozen=True)
class FollowUp:
    """One follow-up to record: its outbox message and the event that notes it."""

    item_id: int
    kind: str  # the event kind: reminder_sent, nudge_sent, escalated, close_offered
    detail: str
    message: OutboxNew
    offer_close: bool = False


async def record_followups(
    db: Database, *, followups: Sequence[FollowUp], now: dt.datetime, chunk: int = 200
) -> int:
    """Enqueue follow-ups with their events, each only when its item is still open (and,
    for a close offer, not offered before) and its dedupe key is new. Items are locked in
    id order, a chunk per transaction. Returns how many were recorded."""
    recorded = 0
    for start in range(0, len(followups), chunk):
        part = followups[start : start + chunk]
        async with db.session() as s:
            rows = await s.execute(
                select(ActionItem)
                .where(col(ActionItem.id).in_(sorted({f.item_id for f in part})))
                .order_by(col(ActionItem.id))
                .with_for_update()
            )
            items = {i.id: i for i in rows.scalars()}
            new_events: list[ActionItemEvent] = []
            for f in part:
                item = items.get(f.item_id)
                if item is None or item.status not in OPEN_STATUSES:
                    continue
                if f.offer_close and item.close_offered_at is not None:
                    continue
                if await enqueue_in(s, [f.message]) == 0:
                    continue
                new_events.append(
                    ActionItemEvent(
                        item_id=f.item_id,
                        actor_id=None,
                        kind=f.kind,
                        detail=f.detail[:1000],
                        created_at=now,
                    )
                )
                if f.offer_close:
                    item.close_offered_at = now
            # Added last: one batched INSERT instead of a flush before every enqueue.
            s.add_all(new_events)
            recorded += len(new_events)
    return recorded


async def record_followup(
    db: Database,
    *,
    item_id: int,
    kind: str,
    detail: str,
    message: OutboxNew,
    now: dt.datetime,
    offer_close: bool = False,
) -> bool:
    """One follow-up (see record_followups); True when it was recorded."""
    one = FollowUp(item_id, kind, detail, message, offer_close)
    return await record_followups(db, followups=[one], now=now) == 1


async def record_summary(
    db: Database, *, message: OutboxNew, item_events: Sequence[tuple[int, str]], now: dt.datetime
) -> bool:
    """Enqueue a weekly summary and note it on the items it reports (once per key)."""
    async with db.session() as s:
        if await enqueue_in(s, [message]) == 0:
            return False
        for item_id, detail in item_events:
            s.add(
                ActionItemEvent(
                    item_id=item_id, actor_id=None, kind="summarized", detail=detail, created_at=now
                )
            )
        return True


# --- evidence -------------------------------------------------------------------------


async def person_values(
    db: Database, *, pairs: Collection[tuple[int, str]], since: dt.date
) -> dict[tuple[int, str], list[tuple[dt.date, float]]]:
    """Daily values (oldest first) of each (person, metric) from `since` on."""
    if not pairs:
        return {}
    person_ids = {p for p, _ in pairs}
    keys = {k for _, k in pairs}
    q = (
        sa.select(
            col(MetricValue.person_id),
            col(MetricValue.metric_key),
            col(MetricValue.day),
            col(MetricValue.value),
        )
        .where(
            col(MetricValue.person_id).in_(list(person_ids)),
            col(MetricValue.metric_key).in_(list(keys)),
            col(MetricValue.day) >= since,
        )
        .order_by(col(MetricValue.day))
    )
    out: dict[tuple[int, str], list[tuple[dt.date, float]]] = {p: [] for p in pairs}
    async with db.session() as s:
        for person_id, key, day, value in (await s.execute(q)).all():
            bucket = out.get((int(person_id or 0), key))
            if bucket is not None:
                bucket.append((day, float(value)))
    return out


# --- sources (1:1s, pulse rounds) ------------------------------------------------------


async def get_one_on_one(db: Database, *, one_on_one_id: int) -> OneOnOne | None:
    if not 0 < one_on_one_id <= MAX_ID:
        return None
    async with db.session() as s:
        return await s.get(OneOnOne, one_on_one_id)


async def get_pulse_round(db: Database, *, round_id: int) -> PulseRound | None:
    if not 0 < round_id <= MAX_ID:
        return None
    async with db.session() as s:
        return await s.get(PulseRound, round_id)
