"""The KPI import: person and team values, every row check, idempotent re-imports."""

from __future__ import annotations

import datetime as dt

import pytest

from handlers.core.context import HandlerContext
from handlers.imports import import_kpis, import_roster
from storage.kpis import count_values
from tests.handlers.imports.sample import KPIS, ROSTER, error_lines


async def test_kpi_import_and_reimport(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    first = await import_kpis(ctx, KPIS)
    assert first.ok, first.summary()
    assert (first.created, first.updated, first.unchanged) == (4, 0, 0)
    assert first.summary() == "Imported 4 KPI values: 4 new, 0 updated, 0 unchanged."
    again = await import_kpis(ctx, KPIS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert await count_values(ctx.db) == 4
    changed = await import_kpis(ctx, KPIS.replace("aht,290,40", "aht,295,40"))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 3)
    assert await count_values(ctx.db) == 4


async def test_kpi_team_rows_and_counts(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    text = (
        "date,email,metric,value,contacts,team,numerator,denominator\n"
        "2026-11-16,,service_level,81.5,400,Billing,326,400\n"
        "2026-11-16,maria.lopez@acme.test,fcr,75%,40,,30,40\n"
    )
    result = await import_kpis(ctx, text)
    assert result.ok, result.summary()
    assert result.created == 2
    assert (await import_kpis(ctx, text)).unchanged == 2


async def test_kpi_bad_row_imports_nothing(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    result = await import_kpis(ctx, KPIS + "2026-11-16,maria.lopez@acme.test,csat,101,5\n")
    assert error_lines(result) == [(6, "csat 101 is above its maximum 100")]
    assert await count_values(ctx.db) == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-02-30,maria.lopez@acme.test,aht,300,1", "date '2026-02-30' is not a date"),
        ("yesterday,maria.lopez@acme.test,aht,300,1", "date 'yesterday' is not a date"),
        ("2026-11-19,maria.lopez@acme.test,aht,300,1", "date 2026-11-19 is in the future"),
        ("2026-11-16,nobody@acme.test,aht,300,1", "nobody@acme.test is not on the roster"),
        ("2026-11-16,maria.lopez@acme.test,happiness,3,1", "unknown metric 'happiness'"),
        ("2026-11-16,maria.lopez@acme.test,aht,fast,1", "value 'fast' is not a number"),
        ("2026-11-16,maria.lopez@acme.test,aht,nan,1", "value 'nan' is not a number"),
        ("2026-11-16,maria.lopez@acme.test,aht,-5,1", "aht -5 is below its minimum 0"),
        ("2026-11-16,maria.lopez@acme.test,nps,-101,1", "nps -101 is below its minimum -100"),
        ("2026-11-16,maria.lopez@acme.test,aht,300,-3", "contacts -3 is negative"),
        ("2026-11-16,maria.lopez@acme.test,aht,300,many", "contacts 'many' is not a number"),
        ("2026-11-16,,aht,300,1,", "the email is empty"),
        ("2026-11-16,,asa,30,1,Nowhere", "there is no team called 'Nowhere'"),
        ("2026-11-16,maria.lopez@acme.test,csat,90,10,,9,", "give both numerator and denominator"),
        ("2026-11-16,maria.lopez@acme.test,csat,90,10,,9,0", "denominator must be more than 0"),
        (
            "2026-11-15,maria.lopez@acme.test,aht,290,40",
            "the same person, metric and date as line 2",
        ),
    ],
)
async def test_each_kpi_validation(ctx: HandlerContext, row: str, message: str) -> None:
    await import_roster(ctx, ROSTER)
    header = "date,email,metric,value,contacts,team,numerator,denominator\n"
    text = header + "2026-11-15,maria.lopez@acme.test,aht,290,40\n" + row + "\n"
    result = await import_kpis(ctx, text)
    assert [e.line for e in result.errors] == [3], result.errors
    assert message in result.errors[0].message
    assert await count_values(ctx.db) == 0


async def test_future_dates_are_judged_by_the_clock(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    assert ctx.now().date() == dt.date(2026, 11, 17)
    ok = await import_kpis(ctx, "date,email,metric,value\n2026-11-18,tom.night@acme.test,aht,300\n")
    assert ok.ok  # tomorrow in UTC is already today in Kiritimati
