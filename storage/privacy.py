"""Privacy controls: export what is stored about a person, forget them, and retention.

Pulse answers are never exported: an open round's answers carry only a keyed hash, a closed
round's nothing at all (storage.pulse.unlink_in), and even whether someone answered is not
shown to anyone but themself (docs/privacy.md, "Pulse answers").
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel, col, delete, select, update

from storage.db import Database
from storage.models import (
    ActionItem,
    ActionItemEvent,
    ActionProposal,
    AgendaItem,
    Goal,
    JobRun,
    KudosSuggestion,
    MetricValue,
    OneOnOne,
    OneOnOneOccurrence,
    OutboxMessage,
    OutboxStatus,
    Person,
    ProcessedEvent,
    PulseDelivery,
    PulseResponse,
    PulseRound,
    Recognition,
    Team,
    utcnow,
)

FORMER_MEMBER = "Former member"


def _plain(row: SQLModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.model_dump().items():
        if isinstance(value, dt.datetime | dt.date):
            out[key] = value.isoformat()
        elif isinstance(value, enum.Enum):
            out[key] = value.value
        else:
            out[key] = value
    return out


async def export_person(db: Database, *, email: str) -> dict[str, Any] | None:
    """Everything stored about the person with this email, as plain JSON-able data."""
    async with db.session() as s:
        person = (
            (await s.execute(select(Person).where(col(Person.email) == email.strip().lower())))
            .scalars()
            .first()
        )
        if person is None:
            return None
        pid = person.id

        async def rows(stmt: Any) -> list[dict[str, Any]]:
            return [_plain(r) for r in (await s.execute(stmt)).scalars()]

        team = await s.get(Team, person.team_id) if person.team_id else None
        items = await rows(
            select(ActionItem).where(
                sa.or_(col(ActionItem.owner_id) == pid, col(ActionItem.assigned_by_id) == pid)
            )
        )
        series = await rows(
            select(OneOnOne).where(
                sa.or_(col(OneOnOne.lead_id) == pid, col(OneOnOne.agent_id) == pid)
            )
        )
        series_ids = [s_["id"] for s_ in series]
        invited = await s.scalar(
            select(sa.func.count())
            .select_from(PulseDelivery)
            .where(col(PulseDelivery.person_id) == pid)
        )
        return {
            "exported_at": utcnow().isoformat(),
            "person": _plain(person),
            "team": team.name if team else None,
            "metric_values": await rows(
                select(MetricValue)
                .where(col(MetricValue.person_id) == pid)
                .order_by(col(MetricValue.day), col(MetricValue.metric_key))
            ),
            "goals_set": await rows(select(Goal).where(col(Goal.set_by_id) == pid)),
            "kudos_received": await rows(
                select(Recognition).where(col(Recognition.receiver_id) == pid)
            ),
            "kudos_given": await rows(select(Recognition).where(col(Recognition.giver_id) == pid)),
            "kudos_suggestions": await rows(
                select(KudosSuggestion).where(col(KudosSuggestion.person_id) == pid)
            ),
            "action_items": items,
            "action_item_events": await rows(
                select(ActionItemEvent).where(col(ActionItemEvent.actor_id) == pid)
            ),
            "action_item_requests": await rows(
                select(ActionProposal).where(
                    sa.or_(
                        col(ActionProposal.proposed_by_id) == pid,
                        col(ActionProposal.decided_by_id) == pid,
                    )
                )
            ),
            "one_on_ones": series,
            "one_on_one_occurrences": await rows(
                select(OneOnOneOccurrence).where(
                    col(OneOnOneOccurrence.one_on_one_id).in_(series_ids)
                )
            ),
            "agenda_items": await rows(select(AgendaItem).where(col(AgendaItem.author_id) == pid)),
            "messages_to_them": await rows(
                select(OutboxMessage).where(col(OutboxMessage.recipient_person_id) == pid)
            ),
            "pulse": {
                "rounds_invited": int(invited or 0),
                "note": "Pulse answers are anonymous and not part of an export: while a round "
                "is open only the bot's key can find yours (so you can change it), and once it "
                "closes nothing links it to you. Whether you answered is not shown either.",
            },
        }


async def forget_person(db: Database, *, email: str) -> bool:
    """Erase a person. Kudos and action items stay, attributed to a "Former member"."""
    async with db.session() as s:
        person = (
            (await s.execute(select(Person).where(col(Person.email) == email.strip().lower())))
            .scalars()
            .first()
        )
        if person is None:
            return False
        pid = person.id
        assert pid is not None
        series_ids = list(
            (
                await s.execute(
                    select(OneOnOne.id).where(
                        sa.or_(col(OneOnOne.agent_id) == pid, col(OneOnOne.lead_id) == pid)
                    )
                )
            ).scalars()
        )
        if series_ids:
            await s.execute(delete(AgendaItem).where(col(AgendaItem.one_on_one_id).in_(series_ids)))
            await s.execute(
                delete(OneOnOneOccurrence).where(
                    col(OneOnOneOccurrence.one_on_one_id).in_(series_ids)
                )
            )
            await s.execute(delete(OneOnOne).where(col(OneOnOne.id).in_(series_ids)))
        await s.execute(delete(AgendaItem).where(col(AgendaItem.author_id) == pid))
        await s.execute(delete(KudosSuggestion).where(col(KudosSuggestion.person_id) == pid))
        # Rates of past rounds stay right; the invitation no longer names anyone.
        await s.execute(
            update(PulseDelivery).where(col(PulseDelivery.person_id) == pid).values(person_id=None)
        )
        await s.execute(
            delete(OutboxMessage).where(
                col(OutboxMessage.recipient_person_id) == pid,
                col(OutboxMessage.status) != OutboxStatus.sent.value,
            )
        )
        await s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.recipient_person_id) == pid)
            .values(payload="{}", target="forgotten")
        )
        # Personal KPI rows stay (team history stays true) but now belong to nobody named.
        person.display_name = FORMER_MEMBER
        person.email = f"former-{pid}@forgotten.invalid"
        person.slack_user_id = None
        person.teams_user_id = None
        person.teams_conversation_ref = None
        person.active = False
        person.manager_id = None
        for team in (
            await s.execute(
                select(Team).where(sa.or_(col(Team.lead_id) == pid, col(Team.manager_id) == pid))
            )
        ).scalars():
            if team.lead_id == pid:
                team.lead_id = None
            if team.manager_id == pid:
                team.manager_id = None
        await s.execute(update(Person).where(col(Person.manager_id) == pid).values(manager_id=None))
        return True


async def apply_retention(
    db: Database, *, now: dt.datetime, pulse_comment_days: int, outbox_days: int
) -> dict[str, int]:
    """Drop pulse comments and delivered outbox rows past their retention; returns counts."""
    comment_cutoff = now - dt.timedelta(days=pulse_comment_days)
    outbox_cutoff = now - dt.timedelta(days=outbox_days)
    async with db.session() as s:
        old_rounds = select(PulseRound.id).where(col(PulseRound.closes_at) < comment_cutoff)
        comments = await s.execute(
            update(PulseResponse)
            .where(
                col(PulseResponse.round_id).in_(old_rounds), col(PulseResponse.comment).is_not(None)
            )
            .values(comment=None)
        )
        outbox = await s.execute(
            delete(OutboxMessage).where(
                col(OutboxMessage.status).in_([OutboxStatus.sent.value, OutboxStatus.dead.value]),
                col(OutboxMessage.created_at) < outbox_cutoff,
            )
        )
        events = await s.execute(
            delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < outbox_cutoff)
        )
        runs = await s.execute(delete(JobRun).where(col(JobRun.claimed_at) < outbox_cutoff))
        return {
            "pulse_comments": int(getattr(comments, "rowcount", 0) or 0),
            "outbox_messages": int(getattr(outbox, "rowcount", 0) or 0),
            "processed_events": int(getattr(events, "rowcount", 0) or 0),
            "job_runs": int(getattr(runs, "rowcount", 0) or 0),
        }
