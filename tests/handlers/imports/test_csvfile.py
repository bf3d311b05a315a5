"""Reading an import file: header and file-level errors, and the capped error summary."""

from __future__ import annotations

import pytest

from handlers.core.context import HandlerContext
from handlers.imports import import_kpis, import_roster


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("email,name,role\n", "the header lacks team"),
        ("email,name,role,team,shoe_size\n", "unknown column shoe_size"),
        ("email,name,role,team,team\n", "column team appears twice"),
        ("email,name,role,team\n\n", "the file has a header but no people"),
    ],
)
async def test_roster_file_level_errors(ctx: HandlerContext, text: str, message: str) -> None:
    result = await import_roster(ctx, text)
    assert not result.ok
    assert message in result.errors[0].message


async def test_kpi_file_level_errors(ctx: HandlerContext) -> None:
    assert (
        "the header lacks value"
        in (await import_kpis(ctx, "date,email,metric\n")).errors[0].message
    )
    assert "no values" in (await import_kpis(ctx, "date,email,metric,value\n")).errors[0].message


async def test_many_errors_are_capped_in_the_summary(ctx: HandlerContext) -> None:
    text = "date,email,metric,value\n" + "".join(f"bad,{i}@x.test,aht,1\n" for i in range(40))
    result = await import_kpis(ctx, text)
    assert len(result.errors) == 80
    lines = result.summary().splitlines()
    assert lines[0] == "Nothing was imported: 80 problems in the file."
    assert lines[-1] == "... and 30 more"
