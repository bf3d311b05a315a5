"""Counts are checked against values: an import can never show a CSAT of 500 % or an
AHT of 123456:50:18."""

from __future__ import annotations

import pytest

from handlers.core.context import HandlerContext
from handlers.imports import import_kpis, import_roster
from storage.kpis import count_values
from tests.handlers.imports.sample import ROSTER

HEADER = "date,email,metric,value,contacts,team,numerator,denominator\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("csat,500,10,,50,10", "csat 500 is above its maximum 100"),
        ("csat,100,10,,50,10", "numerator 50 is more than the denominator 10"),
        ("csat,90,10,,-1,10", "numerator -1 is negative"),
        ("csat,90,10,,5,10", "value 90 does not match 5/10 = 50.0"),
        ("nps,40,10,,12,10", "beyond the denominator 10"),
        ("aht,444450618,10,,,", "aht 4.44451e+08 is above its maximum 86400"),
        ("asa,86401,10,,,", "asa 86401 is above its maximum 86400"),
        ("fcr,75,-2,,,", "contacts -2 is negative"),
    ],
)
async def test_implausible_values_are_refused(ctx: HandlerContext, row: str, message: str) -> None:
    await import_roster(ctx, ROSTER)
    result = await import_kpis(ctx, HEADER + f"2026-11-16,maria.lopez@acme.test,{row}\n")
    assert {e.line for e in result.errors} == {2}, result.errors
    assert any(message in e.message for e in result.errors), result.errors
    assert await count_values(ctx.db) == 0


async def test_rounded_values_and_their_counts_agree(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    text = HEADER + (
        "2026-11-16,maria.lopez@acme.test,csat,91.7,12,,11,12\n"  # 91.67 to one decimal
        "2026-11-16,maria.lopez@acme.test,fcr,92,12,,11,12\n"  # to a whole number
        "2026-11-16,maria.lopez@acme.test,nps,-20,10,,-2,10\n"
        "2026-11-16,maria.lopez@acme.test,aht,86400,1,,,\n"  # a day is still plausible
    )
    result = await import_kpis(ctx, text)
    assert result.ok, result.summary()
    assert result.created == 4


async def test_every_bad_row_is_counted_when_many_are(ctx: HandlerContext) -> None:
    await import_roster(ctx, ROSTER)
    rows = "".join(f"2026-11-16,maria.lopez@acme.test,csat,{200 + i},1,,,\n" for i in range(1500))
    result = await import_kpis(ctx, HEADER + rows)
    assert result.error_count == 1500
    assert len(result.errors) == 1000  # the first thousand kept, in line order
    assert result.errors[0].line == 2
    assert result.summary().splitlines()[0] == "Nothing was imported: 1500 problems in the file."
    assert result.summary().splitlines()[-1] == "... and 1450 more"
