"""Sample files and helpers shared by the import tests."""

from __future__ import annotations

from handlers.core.context import HandlerContext
from handlers.imports import ImportResult
from storage import people
from storage.kpis import count_values

# A roster as people write them: mixed case, extra spaces, optional columns left empty.
ROSTER = """\
email,name,role,team,timezone,work_hours,manager_email,slack_user_id
ana.boss@acme.test,Ana Boss,manager,,Europe/Madrid,,,
lee.lead@acme.test,Lee Lead,lead,Billing,Europe/London,,ana.boss@acme.test,U0LEAD01
Maria.Lopez@ACME.test, Maria  Lopez ,agent,billing,,"Mon-Thu 07:00-17:30; Sat 10:00-14:00",\
lee.lead@acme.test,
tom.night@acme.test,Tom Night,agent,Tech Support,America/New_York,Sun-Thu 22:00-06:00,,
"""

KPIS = """\
date,email,metric,value,contacts
2026-11-16,maria.lopez@acme.test,aht,290,40
2026-11-16,maria.lopez@acme.test,csat,91.5,12
2026-11-16,tom.night@acme.test,aht,340,35
2026-11-17,tom.night@acme.test,nps,-12,8
"""


async def count_rows(ctx: HandlerContext) -> tuple[int, int, int]:
    return (
        len(await people.list_people(ctx.db)),
        len(await people.list_teams(ctx.db)),
        await count_values(ctx.db),
    )


def error_lines(result: ImportResult) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in result.errors]
