"""A big contact center for the Teams size tests, and command lines for every form in the
registry.

- `seed_center`: a 60-agent team with a year of daily KPIs (ten metrics), a second team,
  goals, a few hundred kudos, action items and a 1:1 cadence with every agent. All but
  the KPIs go in through the commands themselves, so the data is what the handlers make.
- `lines_for(spec)`: concrete command lines from a command's usage lines and examples
  (optional parts with and without, each alternative, placeholders filled in).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.roles import Role
from handlers.core.context import CommandSpec, HandlerContext
from handlers.core.dispatch import run_command
from storage import people
from storage.db import Database
from storage.models import MetricValue, Person, Team, utcnow
from tests.conftest import command, make_person, make_team

METRICS = (
    "csat",
    "nps",
    "fcr",
    "aht",
    "service_level",
    "asa",
    "abandon_rate",
    "occupancy",
    "adherence",
    "qa_score",
)
# The last day with figures is the day before the test clock's "now" (2026-11-17).
LAST_DAY = dt.date(2026, 11, 16)
YEAR = f"{LAST_DAY - dt.timedelta(days=364)}..{LAST_DAY}"


@dataclass
class Center:
    db: Database
    team: Team
    other: Team
    admin: Person
    manager: Person
    lead: Person
    agents: list[Person]

    def actors(self) -> dict[str, Person]:
        return {
            "admin": self.admin,
            "manager": self.manager,
            "lead": self.lead,
            "agent": self.agents[0],
        }


def handle(p: Person) -> str:
    return "@" + p.email.split("@")[0]


async def _kpis(db: Database, agents: list[Person], team_id: int, days: int) -> None:
    rng = random.Random(7)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for d in range(days):
        day = LAST_DAY - dt.timedelta(days=d)
        for a in agents:
            n = rng.randint(20, 45)
            base = {"person_id": a.id, "team_id": team_id, "day": day, "updated_at": now}
            values = {
                "aht": (rng.gauss(300, 30), n),
                "fcr": (rng.uniform(65, 85), n),
                "service_level": (rng.uniform(70, 95), n),
                "asa": (rng.uniform(10, 40), n),
                "abandon_rate": (rng.uniform(1, 8), n),
                "occupancy": (rng.uniform(70, 90), 480),
                "adherence": (rng.uniform(85, 98), 480),
                "qa_score": (rng.uniform(75, 98), 1),
            }
            for key, (value, weight) in values.items():
                rows.append({**base, "metric_key": key, "value": value, "weight": weight})
            surveyed = n // 4 + 1
            happy = rng.randint(int(surveyed * 0.6), surveyed)
            rows.append(
                {
                    **base,
                    "metric_key": "csat",
                    "value": 100.0 * happy / surveyed,
                    "weight": surveyed,
                    "numerator": happy,
                    "denominator": surveyed,
                }
            )
            answered = n // 6 + 2
            net = rng.randint(-2, answered // 2)
            rows.append(
                {
                    **base,
                    "metric_key": "nps",
                    "value": 100.0 * net / answered,
                    "weight": answered,
                    "numerator": net,
                    "denominator": answered,
                }
            )
    async with db.session() as s:
        await s.execute(sa.insert(MetricValue.__table__), rows)  # type: ignore[attr-defined]


async def run(ctx: HandlerContext, actor: Person, line: str) -> None:
    reply = await run_command(await command(ctx.db, actor, line), ctx)
    assert reply.ok, (line, reply.text)


async def seed_center(
    ctx: HandlerContext, *, agents: int = 60, days: int = 365, extras: bool = True
) -> Center:
    """The center; `extras=False`: people and KPIs only (no goals, 1:1s, actions, kudos)."""
    db = ctx.db
    team = await make_team(db, "Billing")
    other = await make_team(db, "Tech Support", tz="America/New_York")
    assert team.id is not None
    assert other.id is not None
    admin = await make_person(db, "ada.admin", role=Role.admin)
    manager = await make_person(db, "mona.manager", role=Role.manager, team=team)
    assert manager.id is not None
    await people.assign_member(db, person_id=manager.id, team_id=other.id, role=Role.manager)
    lead = await make_person(db, "lena.lead", role=Role.lead, team=team)
    await make_person(db, "olly.lead", role=Role.lead, team=other)
    crew = [
        await make_person(
            db, f"agent{i:02d}.mcallister-fitzgerald", team=team, work_hours="Mon-Sun 00:00-23:59"
        )
        for i in range(1, agents + 1)
    ]
    for i in range(1, 11):
        await make_person(db, f"tech{i:02d}.x", team=other)
    await _kpis(db, crew, team.id, days)
    if not extras:
        return Center(db, team, other, admin, manager, lead, crew)
    await run(ctx, lead, "/goal set aht <= 300s daily")
    await run(ctx, lead, "/goal set csat >= 90%")
    await run(ctx, lead, "/goal set fcr >= 75% weekly")
    for n, a in enumerate(crew):
        await run(ctx, lead, f"/1on1 schedule {handle(a)} every 2 weeks tue {9 + n % 8}:00")
        await run(
            ctx,
            lead,
            f"/action {handle(a)} call back the Smith account about invoice {1000 + n}, "
            "confirm the refund went through and note it on the case due 2026-12-01",
        )
    for n in range(240):
        giver, to = crew[n % len(crew)], crew[(n * 7 + 3) % len(crew)]
        if giver.id == to.id:
            continue
        await run(
            ctx,
            giver,
            f"/kudos {handle(to)} #ownership stayed on past the shift to clear the callback "
            f"queue and walked a new starter through the refunds process (#{n})",
        )
    return Center(db, team, other, admin, manager, lead, crew)


# --- command lines from the registry ---------------------------------------------------

_COMMENT_RE = re.compile(r"\(.*?\)")
_TOKEN_RE = re.compile(r'\[[^\]]*\]|"[^"]*"|\S+')


def _fill(word: str, center: Center, ids: dict[str, str]) -> list[str]:
    """A usage word as the concrete words that may stand for it."""
    agent, other = center.agents[1], center.agents[2]
    if word in ("...", "…"):
        return [""]
    if word.startswith("@"):
        return [handle(other) if word.endswith("2") else handle(agent)]
    if word.startswith("#"):
        return ["#ownership"]
    if word.startswith('"'):
        return ['"How supported did you feel this week?"']
    if "|" in word:
        return [w for alt in word.split("|") for w in _fill(alt, center, ids)]
    plain = word.strip(",")
    table: dict[str, list[str]] = {
        "PERIOD": ["today", "yesterday", "week", "month", "30d", YEAR, str(LAST_DAY)],
        "METRIC": list(METRICS),
        "NAME": ["Billing"],
        "TEAM": ["Billing"],
        "COMMAND": ["stats", "goal"],
        "SUB": ["set"],
        "ID": [ids.get("action", "1")],
        "DATE": ["2026-12-01"],
        "HH:MM": ["10:00"],
        "N": ["2"],
        "WEEKDAY": ["tue"],
        "DAY": ["fri"],
        "TEXT": ["review the weekend rota and the callback queue"],
        "MESSAGE": ["great handover on the outage"],
        "OP": ["<="],
        "TARGET": ["300s"],
        "DATE|none": ["none"],
    }
    if plain in table:
        return table[plain]
    if re.fullmatch(r"[A-Z][A-Z0-9_:/-]*", plain):
        return ["2"]
    if "=" in plain and plain.split("=", 1)[1][:1].isupper():
        return [plain.split("=", 1)[0] + "=Europe/Dublin"]
    return [plain]


def _expand(words: list[str], center: Center, ids: dict[str, str]) -> Iterator[list[str]]:
    """The first choice everywhere, then each other choice of each word in turn."""
    choices: list[list[list[str]]] = []
    for w in words:
        if w.startswith("[") and w.endswith("]"):
            inner = _TOKEN_RE.findall(w[1:-1])
            options: list[list[str]] = [[], *(list(v) for v in _expand(inner, center, ids))]
            choices.append(options)
        else:
            choices.append([[v] for v in _fill(w, center, ids)])
    base = [c[0] for c in choices]
    yield [x for part in base for x in part]
    for i, options in enumerate(choices):
        for option in options[1:]:
            line = [*base[:i], option, *base[i + 1 :]]
            yield [x for part in line for x in part]


def lines_for(spec: CommandSpec, center: Center, ids: dict[str, str]) -> list[str]:
    """Concrete lines for every usage line and example of `spec` and its sub-commands."""
    found: list[str] = []
    for path, node in spec.walk():
        found.append("/" + " ".join(path))
        found.extend(node.examples)
        for usage in node.usage:
            if not usage.startswith("/"):
                continue  # a note such as `PERIOD: today | ...`
            head = re.split(r"\s{2,}", _COMMENT_RE.sub("", usage).strip())[0]
            for words in _expand(_TOKEN_RE.findall(head), center, ids):
                found.append(" ".join(w for w in words if w))
    unique: list[str] = []
    for line in found:
        if line not in unique:
            unique.append(line)
    return unique
