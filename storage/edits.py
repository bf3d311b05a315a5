"""Edits of posted messages through the outbox: rows of kind "update" (OutboxEdit links
each to the row whose message it edits), coalesced so a message never has more than one
edit waiting.

- An edit of a message that has not gone out yet (held for working hours, or waiting its
  turn) changes that message's payload instead: it is posted once, as it is by then.
- Otherwise an edit waiting to be sent takes the new payload; only when none waits (or
  the one there is in flight) is a new row added. So however often a job edits, the
  platform sees at most one edit in flight and one waiting per message.
- The edit row goes to the same platform and target as the message it edits, queued
  apart from new posts (EDIT_SUFFIX) but under the same per-target limits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import Database
from storage.models import OutboxEdit, OutboxMessage, OutboxStatus, utcnow

CLAIM_MARKER = "claim:"  # storage.outbox marks a row in flight with this external_ref
# Edit rows queue on their own target ("C123~edit"), so an edit waiting for its own rate
# limit (chat.update) never holds up new posts to the channel; the dispatcher still
# counts both against the channel's limits (edit_base_target).
EDIT_SUFFIX = "~edit"


def edit_base_target(target: str) -> str:
    """The platform target an edit row's target stands for."""
    return target.removesuffix(EDIT_SUFFIX)


def _not_in_flight() -> sa.ColumnElement[bool]:
    ref = col(OutboxMessage.external_ref)
    return sa.or_(ref.is_(None), sa.not_(ref.startswith(CLAIM_MARKER)))


class EditOutcome(StrEnum):
    folded = "folded"  # the message had not gone out: its own payload changed
    coalesced = "coalesced"  # an edit already waiting took the new payload
    queued = "queued"  # a new edit row
    lost = "lost"  # the message is gone (dead, or deleted by retention): nothing to edit


async def enqueue_edit_in(
    session: AsyncSession, *, original_id: int, payload: str, now: dt.datetime | None = None
) -> EditOutcome:
    """Edit the message outbox row `original_id` posted (inside a caller's transaction)."""
    now = now or utcnow()
    t = OutboxMessage
    original = await session.get(t, original_id)
    if original is None or original.status is OutboxStatus.dead:
        return EditOutcome.lost
    if original.status is OutboxStatus.pending:
        folded = await session.execute(
            sa.update(t)
            .where(
                col(t.id) == original_id,
                col(t.status) == OutboxStatus.pending.value,
                _not_in_flight(),
            )
            .values(payload=payload)
        )
        if (getattr(folded, "rowcount", 0) or 0) > 0:
            return EditOutcome.folded
    waiting = sa.select(col(OutboxEdit.outbox_id)).where(col(OutboxEdit.edits_id) == original_id)
    coalesced = await session.execute(
        sa.update(t)
        .where(
            col(t.id).in_(waiting),
            col(t.status) == OutboxStatus.pending.value,
            _not_in_flight(),
        )
        .values(payload=payload)
    )
    if (getattr(coalesced, "rowcount", 0) or 0) > 0:
        return EditOutcome.coalesced
    row = OutboxMessage(
        dedupe_key=f"edit:{original_id}:{uuid.uuid4().hex}",
        platform=original.platform,
        target=edit_base_target(original.target) + EDIT_SUFFIX,
        recipient_person_id=original.recipient_person_id,
        recipient_team_id=original.recipient_team_id,
        kind="update",
        payload=payload,
        status=OutboxStatus.pending,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    session.add(OutboxEdit(outbox_id=row.id, edits_id=original_id))
    return EditOutcome.queued


@dataclass(frozen=True)
class Edited:
    """What an edit row edits: the original row, its status and its platform reference."""

    original_id: int
    status: OutboxStatus
    external_ref: str | None

    @property
    def ready(self) -> bool:
        ref = self.external_ref
        return self.status is OutboxStatus.sent and bool(ref) and not ref.startswith(CLAIM_MARKER)  # type: ignore[union-attr]


async def edited_by(db: Database, *, message_id: int) -> Edited | None:
    """The message an "update" row edits, or None when it is gone (or not an edit)."""
    async with db.session() as s:
        row = (
            await s.execute(
                sa.select(
                    col(OutboxMessage.id),
                    col(OutboxMessage.status),
                    col(OutboxMessage.external_ref),
                )
                .join(OutboxEdit, col(OutboxEdit.edits_id) == col(OutboxMessage.id))
                .where(col(OutboxEdit.outbox_id) == message_id)
            )
        ).first()
    if row is None:
        return None
    return Edited(int(row[0] or 0), OutboxStatus(row[1]), row[2])
