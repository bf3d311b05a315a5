"""The KPI import: validate every row of a long-form KPI CSV, then upsert it all or nothing.

A row is date,email,metric,value with optional contacts (the weight), numerator and
denominator; a row with an empty email and a `team` is a whole team's value (service
level, ...). Each row goes through `_CHECKS` in order (that is the order its problems are
reported in), then must not repeat a row above it. jobs/kpi_pull.py feeds its payloads
through here, so both sources agree on what a valid value is.

A row of a person who was deactivated is skipped (and counted) when its day is after the
day they were deactivated: their history stays, but they drop out of the team's figures
from then on. A feed that still lists them is not an error.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.kpi import KpiRow
from domain.localtime import local_date
from handlers.core.context import HandlerContext
from handlers.imports.csvfile import Columns, ImportResult, Row, RowError, by_line, read_rows
from storage import catalogue, kpi_import
from storage.models import Metric, Person, Team
from storage.people import name_key
from storage.roster import people_by_email, teams_by_name

KPI_COLUMNS = Columns(
    kind="KPI",
    required=("date", "email", "metric", "value"),
    optional=("contacts", "team", "numerator", "denominator"),
)


@dataclass(frozen=True)
class _Known:
    """What the rows are checked against: the catalogue, the roster and the clock."""

    metrics: dict[str, Metric]
    people: dict[str, Person]
    teams: dict[str, Team]
    latest: dt.date  # the last day that is not in the future anywhere


@dataclass
class _Draft:
    """A row's values as they are checked, and what is wrong with them."""

    line: int
    row: dict[str, str]
    problems: list[str] = field(default_factory=list)
    day: dt.date | None = None
    email: str = ""
    person_id: int | None = None
    team_id: int | None = None
    metric_key: str = ""
    metric: Metric | None = None
    value: float | None = None
    weight: float = 1.0
    numerator: float | None = None
    denominator: float | None = None
    skip: bool = False  # a deactivated person's value for a later day

    def key(self) -> tuple[object, ...]:
        """What must be unique in a file: the person (or team), metric and day."""
        if self.email:
            return (self.person_id, None, self.metric_key, self.day)
        return (None, self.team_id, self.metric_key, self.day)

    def kpi_row(self) -> KpiRow:
        assert self.day is not None  # a row without a day or value has a problem
        assert self.value is not None
        return KpiRow(
            day=self.day,
            metric_key=self.metric_key,
            value=self.value,
            person_id=self.person_id,
            team_id=self.team_id,
            weight=self.weight,
            numerator=self.numerator,
            denominator=self.denominator,
        )


def _number(text: str, what: str) -> float:
    t = text.strip().rstrip("%").strip()
    try:
        x = float(t)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{what} {text!r} is not a number")
    return x


def _check_date(d: _Draft, known: _Known) -> None:
    text = d.row.get("date", "")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        d.problems.append(f"date {text!r} is not a date (use YYYY-MM-DD)")
        return
    if day > known.latest:
        d.problems.append(f"date {day} is in the future")
    else:
        d.day = day


def _check_who(d: _Draft, known: _Known) -> None:
    d.email = d.row.get("email", "").lower()
    team_name = d.row.get("team", "")
    if d.email:
        person = known.people.get(d.email)
        if person is None:
            d.problems.append(f"{d.email} is not on the roster (import the roster first)")
        else:
            d.person_id, d.team_id = person.id, person.team_id
            d.skip = not person.active and _after_deactivation(d.day, person)
    elif team_name:
        team = known.teams.get(name_key(team_name))
        if team is None:
            d.problems.append(f"there is no team called {team_name!r}")
        else:
            d.team_id = team.id
    else:
        d.problems.append("the email is empty (give an email, or a team for a team's value)")


def _after_deactivation(day: dt.date | None, person: Person) -> bool:
    if person.deactivated_at is None or day is None:
        return True
    return day > local_date(person.deactivated_at, person.timezone)


def _check_metric(d: _Draft, known: _Known) -> None:
    d.metric_key = d.row.get("metric", "").lower()
    d.metric = known.metrics.get(d.metric_key)
    if d.metric is None:
        names = ", ".join(sorted(known.metrics))
        d.problems.append(f"unknown metric {d.row.get('metric', '')!r} (known: {names})")


def _check_value(d: _Draft, known: _Known) -> None:
    try:
        d.value = _number(d.row.get("value", ""), "value")
    except ValueError as exc:
        d.problems.append(str(exc))
        return
    m = d.metric
    if m is None:
        return
    if m.min_value is not None and d.value < m.min_value:
        d.problems.append(f"{m.key} {d.value:g} is below its minimum {m.min_value:g}")
    if m.max_value is not None and d.value > m.max_value:
        d.problems.append(f"{m.key} {d.value:g} is above its maximum {m.max_value:g}")


def _check_contacts(d: _Draft, known: _Known) -> None:
    if not d.row.get("contacts"):
        return
    try:
        d.weight = _number(d.row["contacts"], "contacts")
    except ValueError as exc:
        d.problems.append(str(exc))
        return
    if d.weight < 0:
        d.problems.append(f"contacts {d.weight:g} is negative")


def _check_ratio(d: _Draft, known: _Known) -> None:
    # One unreadable number is one problem: the denominator is not read after a bad
    # numerator, and both being unknown then is not "give both" on top.
    try:
        if d.row.get("numerator"):
            d.numerator = _number(d.row["numerator"], "numerator")
        if d.row.get("denominator"):
            d.denominator = _number(d.row["denominator"], "denominator")
            if d.denominator <= 0:
                d.problems.append("denominator must be more than 0")
    except ValueError as exc:
        d.problems.append(str(exc))
    if (d.numerator is None) != (d.denominator is None):
        d.problems.append("give both numerator and denominator, or neither")


# The checks of one row, in the order its problems are reported; a check may rely on the
# ones before it (the value's range on the metric).
_CHECKS: tuple[Callable[[_Draft, _Known], None], ...] = (
    _check_date,
    _check_who,
    _check_metric,
    _check_value,
    _check_contacts,
    _check_ratio,
)


def _check_rows(rows: list[Row], known: _Known) -> tuple[list[KpiRow], list[RowError], int]:
    out: list[KpiRow] = []
    errors: list[RowError] = []
    skipped = 0
    seen: dict[tuple[object, ...], int] = {}
    for line, row in rows:
        d = _Draft(line, row)
        for check in _CHECKS:
            check(d, known)
        key = d.key()
        if not d.problems and key in seen:
            what = "person" if d.email else "team"
            d.problems.append(f"the same {what}, metric and date as line {seen[key]}")
        if d.problems:
            errors.extend(RowError(line, p) for p in d.problems)
            continue
        seen[key] = line
        if d.skip:
            skipped += 1
            continue
        out.append(d.kpi_row())
    return out, errors, skipped


async def _known(ctx: HandlerContext, rows: list[Row]) -> _Known:
    metrics = {m.key: m for m in await catalogue.list_metrics(ctx.db)}
    emails = sorted({r.get("email", "").lower() for _, r in rows if r.get("email")})
    people = await people_by_email(ctx.db, emails=emails)
    teams = await teams_by_name(ctx.db, names=[r.get("team", "") for _, r in rows])
    # A day "in the future" is judged generously: the earliest zone is UTC+14.
    latest = (ctx.now() + dt.timedelta(hours=14)).date()
    return _Known(metrics=metrics, people=people, teams=teams, latest=latest)


async def import_kpis(ctx: HandlerContext, text: str) -> ImportResult:
    """Validate and import a long-form KPI CSV (date,email,metric,value[,contacts]).

    A row with an empty email and a `team` is a whole team's value (service level, ...).
    """
    result = ImportResult(kind="kpis")
    rows, errors = read_rows(text, KPI_COLUMNS)
    if not rows and not errors:
        errors.append(RowError(2, "the file has a header but no values"))
    out, row_errors, result.skipped = _check_rows(rows, await _known(ctx, rows))
    errors += row_errors
    if errors:
        result.errors = by_line(errors)
        return result
    counts = await kpi_import.import_values(ctx.db, rows=out)
    result.created, result.updated, result.unchanged = (
        counts.created,
        counts.updated,
        counts.unchanged,
    )
    return result
