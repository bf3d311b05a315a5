"""The demo's action items: each team's items in every state, with their events."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.ext.asyncio import AsyncSession

from domain.items import ActionStatus
from storage.models import ActionItem, ActionItemEvent, Person, Team


def _event(
    item: ActionItem, actor: Person | None, kind: str, detail: str, at: dt.datetime
) -> ActionItemEvent:
    assert item.id is not None
    return ActionItemEvent(
        item_id=item.id,
        actor_id=actor.id if actor else None,
        kind=kind,
        detail=detail,
        created_at=at,
    )


async def seed(
    s: AsyncSession,
    rng: random.Random,
    team: Team,
    lead: Person,
    agents: list[Person],
    now: dt.datetime,
) -> None:
    """Six action items of the team, open, in progress, overdue and done, with history."""
    today = now.date()
    plans: tuple[tuple[str, int, ActionStatus, int, str, str | None], ...] = (
        # title, owner index (-1: the lead), status, due in days, source, metric
        ("Shadow a senior agent on refund calls", 1, ActionStatus.open, 5, "one_on_one", "aht"),
        ("Update the outage FAQ macro", 4, ActionStatus.in_progress, 2, "meeting", None),
        ("Finish the de-escalation e-learning", 6, ActionStatus.open, -3, "one_on_one", None),
        ("Review the schedule-change process with WFM", -1, ActionStatus.open, -1, "pulse", None),
        (
            "Clean up the knowledge-base article on direct debits",
            8,
            ActionStatus.done,
            -6,
            "manual",
            None,
        ),
        ("Practise the new hold script", 2, ActionStatus.done, -10, "one_on_one", "csat"),
    )
    for title, owner_i, status, due_in, source, metric in plans:
        owner = lead if owner_i < 0 else agents[owner_i % len(agents)]
        created = now - dt.timedelta(days=14 + rng.randrange(5))
        item = ActionItem(
            title=title,
            owner_id=owner.id,
            assigned_by_id=lead.id,
            team_id=team.id,
            due_date=today + dt.timedelta(days=due_in),
            status=status,
            source=source,
            metric_key=metric,
            metric_op="<=" if metric == "aht" else (">=" if metric else None),
            metric_target=300.0 if metric == "aht" else (85.0 if metric else None),
            created_at=created,
            updated_at=created,
        )
        s.add(item)
        await s.flush()
        events = [_event(item, lead, "created", f"assigned to {owner.display_name}", created)]
        if owner is not lead and status in (ActionStatus.in_progress, ActionStatus.done):
            events.append(_event(item, owner, "accepted", "", created + dt.timedelta(hours=3)))
        if status is ActionStatus.in_progress:
            events.append(
                _event(
                    item, owner, "due_changed", "moved by two days", created + dt.timedelta(days=2)
                )
            )
        if due_in < 0 and status is not ActionStatus.done:
            due = today + dt.timedelta(days=due_in)
            events.append(
                _event(
                    item,
                    None,
                    "reminder_sent",
                    f"reminder to {owner.display_name}: due {due.isoformat()}",
                    now + dt.timedelta(days=due_in - 1),
                )
            )
            events.append(
                _event(
                    item,
                    None,
                    "nudge_sent",
                    f"overdue nudge to {owner.display_name}",
                    now + dt.timedelta(days=due_in + 1),
                )
            )
        if status is ActionStatus.done:
            closed = now + dt.timedelta(days=due_in - 1)
            item.closed_at = closed
            item.updated_at = closed
            events.append(_event(item, owner, "done", "", closed))
        s.add_all(events)
