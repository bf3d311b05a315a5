"""Reference data every install has: the KPI catalogue and the recognition values."""

from __future__ import annotations

from sqlmodel import col, select

from domain.kpi import Aggregation
from storage.db import Database
from storage.models import Metric, ValueTag

A = Aggregation

# key, name, unit, higher is better, aggregation, min, max, description
BUILTIN_METRICS: tuple[
    tuple[str, str, str, bool, Aggregation, float | None, float | None, str], ...
] = (
    (
        "csat",
        "CSAT",
        "%",
        True,
        A.ratio,
        0,
        100,
        "Share of surveyed customers answering 4-5 of 5; contact-weighted, or satisfied/surveyed",
    ),
    (
        "nps",
        "NPS",
        "pts",
        True,
        A.nps,
        -100,
        100,
        "Promoters minus detractors, as points; from counts when the source gives them",
    ),
    (
        "fcr",
        "First contact resolution",
        "%",
        True,
        A.ratio,
        0,
        100,
        "Contacts resolved at first contact / contacts",
    ),
    (
        "aht",
        "Average handle time",
        "s",
        False,
        A.weighted_mean,
        0,
        None,
        "Talk + hold + after-call work per contact, weighted by contacts",
    ),
    (
        "service_level",
        "Service level",
        "%",
        True,
        A.ratio,
        0,
        100,
        "Contacts answered within the threshold (e.g. 80/20) / contacts offered",
    ),
    (
        "asa",
        "Average speed of answer",
        "s",
        False,
        A.weighted_mean,
        0,
        None,
        "Mean wait before answer, weighted by answered contacts",
    ),
    (
        "abandon_rate",
        "Abandonment rate",
        "%",
        False,
        A.ratio,
        0,
        100,
        "Contacts abandoned in queue / contacts offered",
    ),
    ("occupancy", "Occupancy", "%", True, A.ratio, 0, 100, "Handling time / staffed time"),
    (
        "adherence",
        "Schedule adherence",
        "%",
        True,
        A.ratio,
        0,
        100,
        "Minutes in adherence / scheduled minutes",
    ),
    (
        "qa_score",
        "QA score",
        "%",
        True,
        A.weighted_mean,
        0,
        100,
        "Quality evaluation score, weighted by evaluations",
    ),
)

DEFAULT_VALUES = ("communication", "ownership", "planning", "action", "partnership")


async def ensure_reference_data(db: Database) -> None:
    """Insert the built-in metrics and values that are missing; never overwrite edits."""
    async with db.session() as s:
        have = set((await s.execute(select(Metric.key))).scalars())
        for key, name, unit, hib, agg, lo, hi, desc in BUILTIN_METRICS:
            if key not in have:
                s.add(
                    Metric(
                        key=key,
                        name=name,
                        unit=unit,
                        higher_is_better=hib,
                        aggregation=agg,
                        min_value=lo,
                        max_value=hi,
                        builtin=True,
                        description=desc,
                    )
                )
        tags = set((await s.execute(select(ValueTag.key))).scalars())
        for pos, key in enumerate(DEFAULT_VALUES):
            if key not in tags:
                s.add(ValueTag(key=key, name=key.capitalize(), position=pos))


async def list_metrics(db: Database) -> list[Metric]:
    async with db.session() as s:
        return list((await s.execute(select(Metric).order_by(Metric.key))).scalars())


async def get_metric(db: Database, *, key: str) -> Metric | None:
    async with db.session() as s:
        return await s.get(Metric, key.strip().lower())


async def list_value_tags(db: Database) -> list[ValueTag]:
    """Active recognition values, in display order."""
    async with db.session() as s:
        rows = await s.execute(
            select(ValueTag).where(ValueTag.active == True).order_by(col(ValueTag.position))  # noqa: E712
        )
        return list(rows.scalars())
