"""Evidence for a metric-linked item: the owner's latest figure and their streak on target."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.dates import format_day
from domain.fmt import fmt_goal, fmt_value
from domain.localtime import local_date, local_today
from domain.shifts import is_working_day
from handlers.actions.targets import met
from handlers.core.context import HandlerContext
from storage import actions as store
from storage.models import ActionItem, Metric, Person

RECENT_EVIDENCE_DAYS = 7  # a close is offered (and accepted) on recent figures only


@dataclass(frozen=True)
class Evidence:
    """The owner's latest daily value and how many working days in a row met the target."""

    latest_day: dt.date | None
    latest_value: float | None
    streak: int

    def holds(self, days: int, today: dt.date) -> bool:
        """On target for `days` working days in a row, the latest of them recent."""
        return (
            self.streak >= days
            and self.latest_day is not None
            and (today - self.latest_day).days <= RECENT_EVIDENCE_DAYS
        )

    def line(self, metric: Metric, op: str, target: float, *, today: dt.date) -> str:
        """One sentence for a card: the latest figure, on target or not, and the streak."""
        goal = fmt_goal(metric.unit, op, target)
        if self.latest_day is None or self.latest_value is None:
            return f"{metric.name}: no figures yet (target {goal})."
        ok = "on target" if met(self.latest_value, op, target) else "not yet on target"
        text = (
            f"{metric.name}: {fmt_value(metric.unit, self.latest_value)} on "
            f"{format_day(self.latest_day, today=today)}, {ok} (target {goal})"
        )
        if self.streak >= 2:
            text += f"; on target {self.streak} working days in a row"
        return text + "."


def _working_day(work_hours: str, day: dt.date) -> bool:
    """A bad shift pattern counts every day as working (the streak ends, never grows)."""
    try:
        return is_working_day(work_hours, day)
    except ValueError:
        return True


def compute_evidence(
    values: list[tuple[dt.date, float]],
    *,
    op: str,
    target: float,
    work_hours: str,
    since: dt.date,
    today: dt.date,
) -> Evidence:
    """Walk back from the latest day with a figure (not after `today`): a day on target adds
    one, a day off target or a working day without a figure ends the streak; days before
    `since` (the item's creation) don't count, nor do days off without figures."""
    by_day = {d: v for d, v in values if d <= today}
    if not by_day:
        return Evidence(None, None, 0)
    latest = max(by_day)
    streak = 0
    day = latest
    while day >= since:
        value = by_day.get(day)
        if value is not None:
            if not met(value, op, target):
                break
            streak += 1
        elif _working_day(work_hours, day):
            break
        day -= dt.timedelta(days=1)
    return Evidence(latest, by_day[latest], streak)


async def evidence_for(ctx: HandlerContext, item: ActionItem, owner: Person) -> Evidence | None:
    """The owner's evidence for an item linked to a metric (None when it isn't)."""
    if item.metric_key is None or item.metric_op is None or item.metric_target is None:
        return None
    assert owner.id is not None
    today = local_today(ctx.now(), owner.timezone)
    since = today - dt.timedelta(days=max(14, 3 * ctx.settings.action_evidence_days))
    values = await store.person_values(ctx.db, pairs=[(owner.id, item.metric_key)], since=since)
    return compute_evidence(
        values.get((owner.id, item.metric_key), []),
        op=item.metric_op,
        target=item.metric_target,
        work_hours=owner.work_hours,
        since=local_date(item.created_at, owner.timezone),
        today=today,
    )
