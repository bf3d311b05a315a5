"""Large KPI files for the streaming-import tests and benchmarks/kpi_import.py.

`write_kpi_file` writes N rows for a 500-agent center (seven per-agent metrics a day,
and each team's three queue metrics), optionally with one bad row on a given line;
`seed` puts those agents and teams on the roster of a store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from domain.roles import Role
from storage import people
from storage.db import Database

LAST_DAY = dt.date(2026, 11, 16)
AGENT_METRICS = ("aht", "csat", "nps", "fcr", "occupancy", "adherence", "qa_score")
TEAM_METRICS = ("service_level", "asa", "abandon_rate")
HEADER = "date,email,metric,value,contacts,team,numerator,denominator\n"


def email(i: int) -> str:
    return f"agent{i:04d}@bench.test"


def team_name(i: int) -> str:
    return f"Team {i:02d}"


def _agent_line(day: str, agent: int, metric: str, k: int) -> str:
    e = email(agent)
    if metric == "aht":
        return f"{day},{e},aht,{240 + k % 120},{20 + k % 30},,,\n"
    if metric == "nps":
        d = 10 + k % 10
        n = (k % 7) - 2
        return f"{day},{e},nps,{100 * n / d:.4f},{d},,{n},{d}\n"
    if metric == "qa_score":
        return f"{day},{e},qa_score,{70 + k % 30},{1 + k % 3},,,\n"
    d = 20 + k % 30
    n = d - k % 5
    return f"{day},{e},{metric},{100 * n / d:.4f},{d},,{n},{d}\n"


def write_kpi_file(
    path: Path, rows: int, *, agents: int = 500, teams: int = 25, bad_line: int | None = None
) -> int:
    """Write `rows` KPI rows (plus the header) to `path`; returns the rows written.

    Line `bad_line` (1 is the header) gets a CSAT of 500 %, which the import must refuse.
    """
    written = 0
    line = 1
    day = LAST_DAY
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        while written < rows:
            iso = day.isoformat()
            chunk: list[str] = []
            for t in range(teams):
                for m in TEAM_METRICS:
                    chunk.append(f"{iso},,{m},{80 + t % 10},{400 + t},{team_name(t)},,\n")
            for a in range(agents):
                for j, m in enumerate(AGENT_METRICS):
                    chunk.append(_agent_line(iso, a, m, a + j + day.toordinal()))
            for text in chunk[: rows - written]:
                line += 1
                if line == bad_line:
                    text = f"{iso},{email(0)},csat,500,10,,,\n"
                f.write(text)
                written += 1
            day -= dt.timedelta(days=1)
    return written


async def seed(db: Database, *, agents: int = 500, teams: int = 25) -> None:
    """The file's agents and teams on the roster."""
    team_ids = []
    for t in range(teams):
        team = await people.create_team(db, name=team_name(t), timezone="Europe/London")
        team_ids.append(team.id)
    for a in range(agents):
        await people.upsert_person(
            db,
            email=email(a),
            display_name=f"Agent {a}",
            role=Role.agent,
            team_id=team_ids[a % teams],
            timezone="Europe/London",
            work_hours="Mon-Fri 09:00-17:00",
        )
