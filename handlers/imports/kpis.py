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
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from domain.kpi import VALUE_TOLERANCE, Aggregation, KpiRow, counts_problem, value_range
from handlers.core.context import HandlerContext
from handlers.imports.csvfile import (
    Columns,
    ErrorLog,
    ImportResult,
    RowError,
    UnreadableLine,
    open_rows,
)
from storage import catalogue, kpi_import
from storage.kpi_import import StageRow
from storage.models import Metric
from storage.people import name_key

KPI_COLUMNS = Columns(
    kind="KPI",
    required=("date", "email", "metric", "value"),
    optional=("contacts", "team", "numerator", "denominator"),
)


@dataclass(frozen=True)
class _Known:
    """What the rows are checked against: the catalogue, the roster and the clock."""

    metrics: dict[str, Metric]
    people: dict[str, tuple[int, int | None]]  # email -> (person, their team)
    gone: dict[int, dt.date | None]  # deactivated person -> their last day that counts
    teams: dict[str, int]  # name key -> team
    latest: dt.date  # the last day that is not in the future anywhere
    ranges: dict[str, tuple[float | None, float | None]]  # metric -> its plausible range


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
            d.person_id, d.team_id = person
            d.skip = d.person_id in known.gone and _after_deactivation(d.day, known, d.person_id)
    elif team_name:
        team_id = known.teams.get(name_key(team_name))
        if team_id is None:
            d.problems.append(f"there is no team called {team_name!r}")
        else:
            d.team_id = team_id
    else:
        d.problems.append("the email is empty (give an email, or a team for a team's value)")


def _after_deactivation(day: dt.date | None, known: _Known, person_id: int) -> bool:
    last = known.gone[person_id]
    return last is None or day is None or day > last


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
    lo, hi = known.ranges[m.key]
    if lo is not None and d.value < lo:
        d.problems.append(f"{m.key} {d.value:g} is below its minimum {lo:g}")
    if hi is not None and d.value > hi:
        d.problems.append(f"{m.key} {d.value:g} is above its maximum {hi:g}")


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
                return
    except ValueError as exc:
        d.problems.append(str(exc))
        return
    if (d.numerator is None) != (d.denominator is None):
        d.problems.append("give both numerator and denominator, or neither")
        return
    if d.numerator is None or d.denominator is None or d.metric is None or d.value is None:
        return
    problem = counts_problem(d.metric.aggregation, d.value, d.numerator, d.denominator)
    if problem:
        d.problems.append(problem)


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


BATCH = 20_000  # rows handed to storage at a time: memory stays flat whatever the file


class _Checker:
    """Checks records one at a time and hands valid ones on in batches (a generator),
    keeping every problem in an ErrorLog.

    The common row (a known person or team, a catalogue metric, plain numbers) takes a
    fast path of a few dictionary look-ups; any row it does not accept goes through
    `_CHECKS`, which are the authority and word every problem.
    """

    def __init__(self, known: _Known, header: list[str], *, day_as_text: bool) -> None:
        self.known = known
        self.header = header
        self.day_as_text = day_as_text
        self.errors = ErrorLog()
        self.rows = 0
        self.skipped = 0
        self._days: dict[str, object] = {}
        col = {h: i for i, h in enumerate(header) if h}
        self._col = col
        # Per metric, as plain values (ORM attribute access is slow in a loop of millions):
        # key, 0 mean / 1 ratio / 2 NPS, and its range.
        kinds = {Aggregation.ratio: 1, Aggregation.nps: 2}
        self._metrics = {
            k: (k, kinds.get(Aggregation(m.aggregation), 0), *known.ranges[k])
            for k, m in known.metrics.items()
        }

    def _day(self, text: str) -> object | None:
        day = self._days.get(text)
        if day is None:
            try:
                d = dt.date.fromisoformat(text)
            except ValueError:
                return None
            if d > self.known.latest or len(text) != 10:
                return None
            day = text if self.day_as_text else d
            self._days[text] = day
        return day

    def _who(self, v: list[str]) -> tuple[int | None, int | None] | None:
        email = v[self._col["email"]]
        if email:
            return self.known.people.get(email)
        team_col = self._col.get("team")
        if team_col is not None and v[team_col]:
            team_id = self.known.teams.get(v[team_col].lower())
            return None if team_id is None else (None, team_id)
        return None

    def _numbers(self, v: list[str]) -> tuple[float, float, float | None, float | None] | None:
        c = self._col
        i_contacts, i_num, i_den = c.get("contacts"), c.get("numerator"), c.get("denominator")
        try:
            value = float(v[c["value"]])
            weight = float(v[i_contacts]) if i_contacts is not None and v[i_contacts] else 1.0
            num = float(v[i_num]) if i_num is not None and v[i_num] else None
            den = float(v[i_den]) if i_den is not None and v[i_den] else None
        except ValueError:
            return None
        # x - x is 0.0 for every finite x and nan for nan and the infinities.
        if value - value != 0.0 or weight - weight != 0.0 or weight < 0:
            return None
        if (num is None) != (den is None):
            return None
        return value, weight, num, den

    def fast(self, line: int, v: list[str]) -> StageRow | None:
        """The stage row of a plain valid record, or None to take the full checks."""
        if len(v) != len(self.header):
            return None
        day = self._day(v[self._col["date"]])
        metric = self._metrics.get(v[self._col["metric"]])
        who = self._who(v)
        numbers = self._numbers(v)
        if day is None or metric is None or who is None or numbers is None:
            return None
        if who[0] in self.known.gone:
            return None  # maybe after their deactivation: the full checks decide
        key, kind, lo, hi = metric
        value, weight, num, den = numbers
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return None
        if num is not None and den is not None:
            if not den > 0 or num - num != 0.0:
                return None
            if kind == 1 and not 0 <= num <= den:
                return None
            if kind == 2 and abs(num) > den:
                return None
            if kind and abs(100.0 * num / den - value) > VALUE_TOLERANCE:
                return None
        return (line, who[0], who[1], key, day, value, weight, num, den)

    def full(self, line: int, values: list[str]) -> StageRow | None:
        """The full checks of one record: its stage row, or its problems logged."""
        if len(values) > len(self.header):
            self.errors.add(RowError(line, f"{len(values)} values for {len(self.header)} columns"))
            return None
        values = values + [""] * (len(self.header) - len(values))
        row = {h: x.strip() for h, x in zip(self.header, values, strict=True) if h}
        d = _Draft(line, row)
        for check in _CHECKS:
            check(d, self.known)
        if d.problems:
            for p in d.problems:
                self.errors.add(RowError(line, p))
            return None
        if d.skip:
            self.skipped += 1
            return None
        r = d.kpi_row()
        day: object = r.day.isoformat() if self.day_as_text else r.day
        tid = r.team_id
        return (
            line,
            r.person_id,
            tid,
            r.metric_key,
            day,
            r.value,
            r.weight,
            r.numerator,
            r.denominator,
        )

    def batches(self, records: Iterator[tuple[int, list[str]]]) -> Iterator[list[StageRow]]:
        batch: list[StageRow] = []
        fast, full = self.fast, self.full
        try:
            for line, values in records:
                self.rows += 1
                row = fast(line, values) or full(line, values)
                if row is not None:
                    batch.append(row)
                    if len(batch) >= BATCH:
                        yield batch
                        batch = []
        except UnreadableLine as exc:
            self.errors.add(exc.error)
        if batch:
            yield batch


async def _known(ctx: HandlerContext) -> _Known:
    metrics = {m.key: m for m in await catalogue.list_metrics(ctx.db)}
    people, teams, gone = await kpi_import.roster_keys(ctx.db)
    # A day "in the future" is judged generously: the earliest zone is UTC+14.
    latest = (ctx.now() + dt.timedelta(hours=14)).date()
    ranges = {k: value_range(m.unit, m.min_value, m.max_value) for k, m in metrics.items()}
    return _Known(
        metrics=metrics, people=people, gone=gone, teams=teams, latest=latest, ranges=ranges
    )


async def import_kpis(ctx: HandlerContext, text: str) -> ImportResult:
    """Validate and import a long-form KPI CSV given as text (see import_kpis_stream)."""
    return await import_kpis_stream(ctx, io.StringIO(text.lstrip("\ufeff"), newline=""))


async def import_kpis_stream(ctx: HandlerContext, f: TextIO) -> ImportResult:
    """Validate a long-form KPI CSV (date,email,metric,value[,contacts,team,numerator,
    denominator]) in one pass and import it all or nothing.

    A row with an empty email and a `team` is a whole team's value (service level, ...).
    Memory stays flat: rows are checked and staged in batches, and nothing is written
    to the values unless every row was good (storage/kpi_import.py).
    """
    result = ImportResult(kind="kpis")
    header, header_errors, records = open_rows(f, KPI_COLUMNS)
    if header_errors:
        result.errors = header_errors
        return result
    known = await _known(ctx)
    checker = _Checker(known, header, day_as_text=ctx.db.dialect == "sqlite")
    outcome = await kpi_import.import_stream(
        ctx.db, checker.batches(records), clean=lambda: not checker.errors
    )
    extra = [
        RowError(
            d.line,
            f"the same {'person' if d.person else 'team'}, metric and date as line {d.first}",
        )
        for d in outcome.duplicates
    ]
    if checker.rows == 0 and not checker.errors:
        extra.append(RowError(2, "the file has a header but no values"))
    if checker.errors or extra:
        checker.errors.into(result, extra)
        return result
    assert outcome.counts is not None  # committed: there were no problems
    result.created, result.updated, result.unchanged = (
        outcome.counts.created,
        outcome.counts.updated,
        outcome.counts.unchanged,
    )
    result.skipped = checker.skipped
    return result
