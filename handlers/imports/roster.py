"""The roster import: validate every row of a roster CSV, then write it all or nothing.

A row is checked column by column (`_CHECKS`, in the order the problems are reported),
then against the rows above it (an email, a platform id or a team's lead used twice).
What needs the stored roster (ids that belong to someone else, unknown managers) is
checked against it too, in the same pass, so a file's every problem is listed at once;
storage.roster.apply_roster checks it again inside the transaction that writes.

`--dry-run` runs the whole import in a transaction that is rolled back, and lists what
it would do; `--deactivate-missing` deactivates the active people the file leaves out
(admins excepted). A replaced lead's work goes to the new lead (storage/handover.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.localtime import zone
from domain.roles import Role
from domain.shifts import parse_work_hours
from handlers.core.context import HandlerContext
from handlers.core.handover import handover_lines, handover_messages
from handlers.imports.csvfile import Columns, ImportResult, RowError, by_line, read_rows
from storage.handover import Settled
from storage.outbox import OutboxNew
from storage.people import name_key
from storage.roster import RosterEntry, RosterOutcome, apply_roster, check_roster

MAX_LISTED = 50  # names per list in a dry run's details

ROSTER_COLUMNS = Columns(
    kind="roster",
    required=("email", "name", "role", "team"),
    optional=("timezone", "work_hours", "manager_email", "slack_user_id", "teams_user_id"),
)

_EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_SLACK_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_ROLES = {r.value for r in Role}


@dataclass
class _Draft:
    """A row's values as they are cleaned up, and what is wrong with them."""

    line: int
    email: str = ""
    name: str = ""
    role: Role | None = None
    team: str | None = None
    timezone: str | None = None
    work_hours: str | None = None
    manager_email: str | None = None
    slack_user_id: str | None = None
    teams_user_id: str | None = None
    problems: list[str] = field(default_factory=list)

    def entry(self) -> RosterEntry:
        assert self.role is not None  # a row without a role has a problem
        return RosterEntry(
            line=self.line,
            email=self.email,
            name=self.name,
            role=self.role,
            team=self.team,
            timezone=self.timezone,
            work_hours=self.work_hours,
            manager_email=self.manager_email,
            slack_user_id=self.slack_user_id,
            teams_user_id=self.teams_user_id,
        )


def _check_email(d: _Draft, text: str) -> None:
    d.email = text.lower()
    if not _EMAIL_RE.match(d.email):
        d.problems.append(f"{d.email or 'an empty email'!r} is not an email address")


def _check_name(d: _Draft, text: str) -> None:
    d.name = " ".join(text.split())
    if not d.name:
        d.problems.append("the name is empty")
    elif len(d.name) > 120:
        d.problems.append("the name is longer than 120 characters")


def _check_role(d: _Draft, text: str) -> None:
    role_text = text.lower()
    d.role = Role(role_text) if role_text in _ROLES else None
    if d.role is None:
        d.problems.append(f"role {role_text!r} is not one of agent, lead, manager, admin")


def _check_team(d: _Draft, text: str) -> None:
    d.team = " ".join(text.split()) or None
    if d.team is None and d.role in (Role.agent, Role.lead):
        d.problems.append("a lead needs a team" if d.role is Role.lead else "an agent needs a team")
    if d.team and len(d.team) > 80:
        d.problems.append("the team name is longer than 80 characters")


def _check_timezone(d: _Draft, text: str) -> None:
    d.timezone = text or None
    if d.timezone:
        try:
            d.timezone = zone(d.timezone).key
        except ValueError as exc:
            d.problems.append(str(exc))


def _check_work_hours(d: _Draft, text: str) -> None:
    d.work_hours = text or None
    if not d.work_hours:
        return
    try:
        parse_work_hours(d.work_hours)
        d.work_hours = " ".join(d.work_hours.split())
    except ValueError as exc:
        d.problems.append(f"work_hours: {exc}")
    if len(d.work_hours) > 200:
        d.problems.append("work_hours is longer than 200 characters")


def _check_manager_email(d: _Draft, text: str) -> None:
    d.manager_email = text.lower() or None
    if d.manager_email and not _EMAIL_RE.match(d.manager_email):
        d.problems.append(f"manager_email {d.manager_email!r} is not an email address")
    elif d.manager_email and d.manager_email == d.email:
        d.problems.append("a person cannot be their own manager")


def _check_slack_user_id(d: _Draft, text: str) -> None:
    d.slack_user_id = text or None
    if d.slack_user_id and not _SLACK_ID_RE.match(d.slack_user_id):
        d.problems.append(
            f"slack_user_id {d.slack_user_id!r} is not a Slack user id (like U0123ABCD)"
        )


def _check_teams_user_id(d: _Draft, text: str) -> None:
    d.teams_user_id = text or None
    if d.teams_user_id and len(d.teams_user_id) > 128:
        d.problems.append("teams_user_id is longer than 128 characters")


# Column -> its check, in the order a row's problems are reported. A check may rely on
# the columns before it (team on role, manager_email on email).
_CHECKS: tuple[tuple[str, Callable[[_Draft, str], None]], ...] = (
    ("email", _check_email),
    ("name", _check_name),
    ("role", _check_role),
    ("team", _check_team),
    ("timezone", _check_timezone),
    ("work_hours", _check_work_hours),
    ("manager_email", _check_manager_email),
    ("slack_user_id", _check_slack_user_id),
    ("teams_user_id", _check_teams_user_id),
)


def _draft(line: int, row: dict[str, str]) -> _Draft:
    d = _Draft(line)
    for column, check in _CHECKS:
        check(d, row.get(column, ""))
    return d


class _SeenAbove:
    """What the rows above claimed: an email or platform id, a team's lead."""

    def __init__(self) -> None:
        self._ids: dict[str, dict[str, int]] = {
            "email": {},
            "slack_user_id": {},
            "teams_user_id": {},
        }
        self._leads: dict[str, int] = {}

    def check(self, d: _Draft) -> None:
        """Note `d`'s claims; a claim a row above made already is one of `d`'s problems."""
        for column, value in (
            ("email", d.email),
            ("slack_user_id", d.slack_user_id),
            ("teams_user_id", d.teams_user_id),
        ):
            seen = self._ids[column]
            if value and value in seen:
                d.problems.append(f"{column} {value} is already on line {seen[value]}")
            elif value:
                seen[value] = d.line
        if d.role is Role.lead and d.team:
            key = name_key(d.team)
            if key in self._leads:
                d.problems.append(f"team {d.team} already has a lead on line {self._leads[key]}")
            else:
                self._leads[key] = d.line


def parse_roster(text: str) -> tuple[list[RosterEntry], list[RowError]]:
    """Validate a roster CSV (everything that can be checked without the database)."""
    entries, errors, _emails = _parse(text)
    return entries, errors


def _parse(text: str) -> tuple[list[RosterEntry], list[RowError], set[str]]:
    rows, errors = read_rows(text, ROSTER_COLUMNS)
    entries: list[RosterEntry] = []
    emails: set[str] = set()
    above = _SeenAbove()
    for line, row in rows:
        d = _draft(line, row)
        above.check(d)
        if d.email:
            emails.add(d.email)
        if d.problems:
            errors.extend(RowError(line, p) for p in d.problems)
        else:
            entries.append(d.entry())
    if not rows and not errors:
        errors.append(RowError(2, "the file has a header but no people"))
    return entries, errors, emails


async def import_roster(
    ctx: HandlerContext,
    text: str,
    *,
    dry_run: bool = False,
    deactivate_missing: bool = False,
    actor_id: int | None = None,
) -> ImportResult:
    """Validate and import a roster CSV; all or nothing. Every problem of the file is
    reported at once: its rows' own, and those the stored roster causes."""
    result = ImportResult(kind="roster", dry_run=dry_run)
    entries, errors, emails = _parse(text)
    if errors:
        conflicts = await check_roster(ctx.db, entries=entries, file_emails=emails)
        errors += [RowError(line, msg) for line, msg in conflicts]
        result.errors = by_line(errors)
        return result

    def messages(settled: Settled) -> list[OutboxNew]:
        return handover_messages(ctx, settled)

    outcome = await apply_roster(
        ctx.db,
        entries=entries,
        default_timezone=ctx.settings.default_timezone,
        now=ctx.now(),
        dry_run=dry_run,
        deactivate_missing=deactivate_missing,
        actor_id=actor_id,
        messages=messages,
    )
    if outcome.conflicts:
        result.errors = [RowError(line, msg) for line, msg in outcome.conflicts]
        return result
    result.created = outcome.people_created
    result.updated = outcome.people_updated
    result.unchanged = outcome.people_unchanged
    result.teams_created = outcome.teams_created
    result.moved = len(outcome.moved)
    result.reactivated = len(outcome.reactivated)
    result.deactivated = len(outcome.deactivated) if deactivate_missing else None
    result.notes = _notes(outcome)
    return result


def _listed(title: str, names: list[str]) -> list[str]:
    if not names:
        return []
    shown = names[:MAX_LISTED]
    more = f" ... and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
    return [f"{title} ({len(names)}): " + ", ".join(shown) + more]


def _notes(out: RosterOutcome) -> list[str]:
    """The lines under the counts: the teams' leads, and (for a dry run) who changes."""
    lines = handover_lines(out.teams)
    if out.kept_admins:
        lines.append(
            f"Kept {len(out.kept_admins)} admin{'s' if len(out.kept_admins) != 1 else ''} "
            "not in the file active (an import never deactivates admins; use "
            "`leadbot people deactivate EMAIL`): " + ", ".join(out.kept_admins[:MAX_LISTED])
        )
    if out.dry_run:
        moves = [
            f"{m.name} <{m.email}> {m.before or 'no team'} → {m.after or 'no team'}"
            for m in out.moved
        ]
        lines += _listed("New teams", out.new_teams)
        lines += _listed("New people", out.created)
        lines += _listed("Moved", moves)
        lines += _listed("Active again", out.reactivated)
        lines += _listed("Deactivated", out.deactivated)
    return lines
