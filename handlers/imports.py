"""Roster and KPI CSV imports: parsing and validation, platform-neutral.

A file is checked completely first; a single bad row means nothing is imported, and
every bad row is reported with its line number. Importing the same file again changes
nothing (rows are upserted, and unchanged ones are counted as such).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field

from domain.kpi import KpiRow
from domain.localtime import zone
from domain.roles import Role
from domain.shifts import parse_work_hours
from handlers.core.context import HandlerContext
from storage import catalogue, kpi_import, roster
from storage.people import name_key

ROSTER_REQUIRED = ("email", "name", "role", "team")
ROSTER_OPTIONAL = ("timezone", "work_hours", "manager_email", "slack_user_id", "teams_user_id")
KPI_REQUIRED = ("date", "email", "metric", "value")
KPI_OPTIONAL = ("contacts", "team", "numerator", "denominator")
MAX_ERRORS_SHOWN = 50

_EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_SLACK_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,31}$")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportResult:
    """What an import did, or why it did nothing."""

    kind: str  # "roster" | "kpis"
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    teams_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        """A few lines for people: the counts, or the errors (capped)."""
        if self.errors:
            shown = [str(e) for e in self.errors[:MAX_ERRORS_SHOWN]]
            more = len(self.errors) - len(shown)
            if more > 0:
                shown.append(f"... and {more} more")
            head = (
                f"Nothing was imported: {len(self.errors)} problem"
                f"{'s' if len(self.errors) != 1 else ''} in the file."
            )
            return "\n".join([head, *shown])
        what = "people" if self.kind == "roster" else "KPI values"
        text = (
            f"Imported {self.rows} {what}: {self.created} new, {self.updated} updated, "
            f"{self.unchanged} unchanged."
        )
        if self.kind == "roster":
            text += f" {self.teams_created} new team{'s' if self.teams_created != 1 else ''}."
        return text


def _read(
    text: str, required: tuple[str, ...], optional: tuple[str, ...], kind: str
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """Rows as (line number, lower-cased column -> stripped value), or header errors."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        return [], [RowError(1, f"the file is empty (expected a header: {','.join(required)})")]
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        return [], [RowError(1, f"not a CSV file ({exc})")]
    errors: list[RowError] = []
    missing = [c for c in required if c not in header]
    if missing:
        errors.append(
            RowError(
                1,
                f"the header lacks {', '.join(missing)} (a {kind} file needs "
                f"{','.join(required)}, optionally {','.join(optional)})",
            )
        )
    unknown = [c for c in header if c and c not in required + optional]
    if unknown:
        errors.append(RowError(1, f"unknown column {', '.join(unknown)}"))
    dupes = sorted({c for c in header if c and header.count(c) > 1})
    if dupes:
        errors.append(RowError(1, f"column {', '.join(dupes)} appears twice"))
    if errors:
        return [], errors
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                errors.append(RowError(start, f"{len(values)} values for {len(header)} columns"))
                continue
            values += [""] * (len(header) - len(values))
            rows.append((start, {h: v.strip() for h, v in zip(header, values, strict=True) if h}))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"cannot read this line ({exc})"))
    return rows, errors


# --- roster ------------------------------------------------------------------------------


def parse_roster(text: str) -> tuple[list[roster.RosterEntry], list[RowError]]:
    """Validate a roster CSV (everything that can be checked without the database)."""
    rows, errors = _read(text, ROSTER_REQUIRED, ROSTER_OPTIONAL, "roster")
    entries: list[roster.RosterEntry] = []
    seen: dict[str, dict[str, int]] = {"email": {}, "slack_user_id": {}, "teams_user_id": {}}
    leads: dict[str, int] = {}
    for line, r in rows:
        problems: list[str] = []
        email = r.get("email", "").lower()
        if not _EMAIL_RE.match(email):
            problems.append(f"{email or 'an empty email'!r} is not an email address")
        name = " ".join(r.get("name", "").split())
        if not name:
            problems.append("the name is empty")
        elif len(name) > 120:
            problems.append("the name is longer than 120 characters")
        role_text = r.get("role", "").lower()
        role = Role(role_text) if role_text in {x.value for x in Role} else None
        if role is None:
            problems.append(f"role {role_text!r} is not one of agent, lead, manager, admin")
        team = " ".join(r.get("team", "").split()) or None
        if team is None and role in (Role.agent, Role.lead):
            problems.append("a lead needs a team" if role is Role.lead else "an agent needs a team")
        if team and len(team) > 80:
            problems.append("the team name is longer than 80 characters")
        tz = r.get("timezone") or None
        if tz:
            try:
                tz = zone(tz).key
            except ValueError as exc:
                problems.append(str(exc))
        hours = r.get("work_hours") or None
        if hours:
            try:
                parse_work_hours(hours)
                hours = " ".join(hours.split())
            except ValueError as exc:
                problems.append(f"work_hours: {exc}")
            if hours and len(hours) > 200:
                problems.append("work_hours is longer than 200 characters")
        manager = r.get("manager_email", "").lower() or None
        if manager and not _EMAIL_RE.match(manager):
            problems.append(f"manager_email {manager!r} is not an email address")
        elif manager and manager == email:
            problems.append("a person cannot be their own manager")
        slack_id = r.get("slack_user_id") or None
        if slack_id and not _SLACK_ID_RE.match(slack_id):
            problems.append(f"slack_user_id {slack_id!r} is not a Slack user id (like U0123ABCD)")
        teams_id = r.get("teams_user_id") or None
        if teams_id and len(teams_id) > 128:
            problems.append("teams_user_id is longer than 128 characters")
        for col_name, value in (
            ("email", email),
            ("slack_user_id", slack_id),
            ("teams_user_id", teams_id),
        ):
            if value and value in seen[col_name]:
                problems.append(f"{col_name} {value} is already on line {seen[col_name][value]}")
            elif value:
                seen[col_name][value] = line
        if role is Role.lead and team:
            key = name_key(team)
            if key in leads:
                problems.append(f"team {team} already has a lead on line {leads[key]}")
            else:
                leads[key] = line
        if problems:
            errors.extend(RowError(line, p) for p in problems)
            continue
        assert role is not None
        entries.append(
            roster.RosterEntry(
                line=line,
                email=email,
                name=name,
                role=role,
                team=team,
                timezone=tz,
                work_hours=hours,
                manager_email=manager,
                slack_user_id=slack_id,
                teams_user_id=teams_id,
            )
        )
    if not rows and not errors:
        errors.append(RowError(2, "the file has a header but no people"))
    return entries, errors


async def import_roster(ctx: HandlerContext, text: str) -> ImportResult:
    """Validate and import a roster CSV; all or nothing."""
    result = ImportResult(kind="roster")
    entries, errors = parse_roster(text)
    if errors:
        result.errors = sorted(errors, key=lambda e: e.line)
        return result
    outcome = await roster.apply_roster(
        ctx.db, entries=entries, default_timezone=ctx.settings.default_timezone
    )
    if outcome.conflicts:
        result.errors = [RowError(line, msg) for line, msg in outcome.conflicts]
        return result
    result.created = outcome.people_created
    result.updated = outcome.people_updated
    result.unchanged = outcome.people_unchanged
    result.teams_created = outcome.teams_created
    return result


# --- KPIs --------------------------------------------------------------------------------


def _number(text: str, what: str) -> float:
    t = text.strip().rstrip("%").strip()
    try:
        x = float(t)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{what} {text!r} is not a number")
    return x


async def import_kpis(ctx: HandlerContext, text: str) -> ImportResult:
    """Validate and import a long-form KPI CSV (date,email,metric,value[,contacts]).

    A row with an empty email and a `team` is a whole team's value (service level, ...).
    """
    result = ImportResult(kind="kpis")
    rows, errors = _read(text, KPI_REQUIRED, KPI_OPTIONAL, "KPI")
    if not rows and not errors:
        errors.append(RowError(2, "the file has a header but no values"))
    metrics = {m.key: m for m in await catalogue.list_metrics(ctx.db)}
    emails = sorted({r.get("email", "").lower() for _, r in rows if r.get("email")})
    people = await roster.people_by_email(ctx.db, emails=emails)
    teams = await roster.teams_by_name(ctx.db, names=[r.get("team", "") for _, r in rows])
    # A day "in the future" is judged generously: the earliest zone is UTC+14.
    latest = (ctx.now() + dt.timedelta(hours=14)).date()
    seen: dict[tuple[object, ...], int] = {}
    out: list[KpiRow] = []
    for line, r in rows:
        problems: list[str] = []
        day: dt.date | None = None
        try:
            day = dt.date.fromisoformat(r.get("date", ""))
            if day > latest:
                problems.append(f"date {day} is in the future")
                day = None
        except ValueError:
            problems.append(f"date {r.get('date', '')!r} is not a date (use YYYY-MM-DD)")
        email = r.get("email", "").lower()
        team_name = r.get("team", "")
        person_id: int | None = None
        team_id: int | None = None
        if email:
            person = people.get(email)
            if person is None:
                problems.append(f"{email} is not on the roster (import the roster first)")
            else:
                person_id, team_id = person.id, person.team_id
        elif team_name:
            team = teams.get(name_key(team_name))
            if team is None:
                problems.append(f"there is no team called {team_name!r}")
            else:
                team_id = team.id
        else:
            problems.append("the email is empty (give an email, or a team for a team's value)")
        metric_key = r.get("metric", "").lower()
        metric = metrics.get(metric_key)
        if metric is None:
            known = ", ".join(sorted(metrics))
            problems.append(f"unknown metric {r.get('metric', '')!r} (known: {known})")
        value: float | None = None
        try:
            value = _number(r.get("value", ""), "value")
        except ValueError as exc:
            problems.append(str(exc))
        if value is not None and metric is not None:
            if metric.min_value is not None and value < metric.min_value:
                problems.append(f"{metric.key} {value:g} is below its minimum {metric.min_value:g}")
            if metric.max_value is not None and value > metric.max_value:
                problems.append(f"{metric.key} {value:g} is above its maximum {metric.max_value:g}")
        weight = 1.0
        if r.get("contacts"):
            try:
                weight = _number(r["contacts"], "contacts")
                if weight < 0:
                    problems.append(f"contacts {weight:g} is negative")
            except ValueError as exc:
                problems.append(str(exc))
        numerator = denominator = None
        try:
            if r.get("numerator"):
                numerator = _number(r["numerator"], "numerator")
            if r.get("denominator"):
                denominator = _number(r["denominator"], "denominator")
                if denominator <= 0:
                    problems.append("denominator must be more than 0")
        except ValueError as exc:
            problems.append(str(exc))
        if (numerator is None) != (denominator is None):
            problems.append("give both numerator and denominator, or neither")
        key = (person_id if email else None, team_id if not email else None, metric_key, day)
        if not problems and key in seen:
            problems.append(
                f"the same {'person' if email else 'team'}, metric and date as line {seen[key]}"
            )
        if problems:
            errors.extend(RowError(line, p) for p in problems)
            continue
        seen[key] = line
        assert day is not None
        assert value is not None
        out.append(
            KpiRow(
                day=day,
                metric_key=metric_key,
                value=value,
                person_id=person_id,
                team_id=team_id,
                weight=weight,
                numerator=numerator,
                denominator=denominator,
            )
        )
    if errors:
        result.errors = sorted(errors, key=lambda e: e.line)
        return result
    counts = await kpi_import.import_values(ctx.db, rows=out)
    result.created, result.updated, result.unchanged = (
        counts.created,
        counts.updated,
        counts.unchanged,
    )
    return result
