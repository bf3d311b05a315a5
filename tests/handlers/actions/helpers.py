"""The cast of `/action` tests and small helpers to run commands and press buttons."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import SQLModel

from domain.items import ActionStatus
from domain.types import Action, Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from storage import actions as store
from storage import outbox
from storage.db import Database
from storage.models import ActionItem, OutboxMessage, Person
from tests.conftest import actor_of, command


@dataclass
class World:
    lead: Person
    maria: Person
    sam: Person
    manager: Person
    other_lead: Person
    oscar: Person
    admin: Person


async def run(db: Database, ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(db, who, line), ctx)


async def press(
    ctx: HandlerContext, who: Person, action_id: str, value: str, form: dict[str, str] | None = None
) -> Reply:
    return await run_action(Action(actor_of(who), action_id, value, form or {}), ctx)


async def counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        out = {}
        for table in SQLModel.metadata.sorted_tables:
            q = sa.select(sa.func.count()).select_from(table)
            out[table.name] = int((await conn.execute(q)).scalar_one())
        return out


async def snapshot(db: Database) -> tuple[dict[str, int], list[tuple[object, ...]]]:
    """Row counts and every item's state, to prove a refusal changed nothing."""
    async with db.session() as s:
        rows = (await s.execute(sa.select(ActionItem))).scalars().all()
        items: list[tuple[object, ...]] = [
            (i.id, i.status, i.owner_id, i.due_date, i.assigned_by_id, i.closed_at) for i in rows
        ]
    return await counts(db), items


async def messages(db: Database) -> list[OutboxMessage]:
    return await outbox.messages_after(db, after_id=0)


async def assign(db: Database, ctx: HandlerContext, w: World, line: str) -> ActionItem:
    reply = await run(db, ctx, w.lead, line)
    assert reply.ok, reply.fallback
    items = await store.list_items(db, statuses=list(ActionStatus))
    return max(items, key=lambda i: i.id or 0)
