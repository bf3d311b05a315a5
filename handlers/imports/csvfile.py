"""Reading an import CSV: the header checks, rows with their line numbers, and the result.

Everything here is file-level and knows nothing about rosters or KPIs: a kind of file is
described by its `Columns`, and its rows come back as (line number, column -> value).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, TextIO

MAX_ERRORS_SHOWN = 50
# A file with a million bad rows reports them all in its count, and keeps this many (in
# line order) to show: memory stays flat whatever the file.
MAX_ERRORS_KEPT = 1000

Row = tuple[int, dict[str, str]]  # (line number in the file, lower-cased column -> value)


@dataclass(frozen=True)
class RowError:
    """One problem in a file, on the line (1 is the header) where it was found."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do), or why it did nothing."""

    kind: str  # "roster" | "kpis"
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    teams_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    skipped: int = 0  # KPI rows of people switched off, for days after that
    moved: int = 0  # roster: people updated into another team
    reactivated: int = 0  # roster: people switched on again by the file
    deactivated: int | None = None  # roster, with --deactivate-missing
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)  # further lines: warnings, details
    more_errors: int = 0  # problems found beyond the MAX_ERRORS_KEPT kept in `errors`

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.more_errors

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        """A few lines for people: the counts, or the errors (capped)."""
        if self.errors:
            shown = [str(e) for e in self.errors[:MAX_ERRORS_SHOWN]]
            total = self.error_count
            more = total - len(shown)
            if more > 0:
                shown.append(f"... and {more} more")
            head = f"Nothing was imported: {total} problem{'s' if total != 1 else ''} in the file."
            return "\n".join([head, *shown])
        what = "people" if self.kind == "roster" else "KPI values"
        verb = "Dry run, nothing was changed. Would import" if self.dry_run else "Imported"
        text = (
            f"{verb} {self.rows} {what}: {self.created} new, {self.updated} updated, "
            f"{self.unchanged} unchanged."
        )
        if self.kind == "roster":
            text += f" {self.teams_created} new team{'s' if self.teams_created != 1 else ''}."
        if self.moved:
            text += f" {self.moved} moved to another team."
        if self.reactivated:
            text += f" {self.reactivated} deactivated before, active again."
        if self.deactivated is not None:
            text += f" {self.deactivated} deactivated (not in the file)."
        if self.skipped:
            text += f" {self.skipped} skipped: their people were deactivated before those days."
        return "\n".join([text, *self.notes])


@dataclass(frozen=True)
class Columns:
    """The columns of one kind of file (`kind` names it in messages)."""

    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


def by_line(errors: Iterable[RowError]) -> list[RowError]:
    """The errors in file order (stable: a line's problems keep the order they were found)."""
    return sorted(errors, key=lambda e: e.line)


def read_rows(text: str, columns: Columns) -> tuple[list[Row], list[RowError]]:
    """The non-blank rows of `text` (values stripped) and the lines that could not be
    read; a bad header gives its errors and no rows."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        expected = ",".join(columns.required)
        return [], [RowError(1, f"the file is empty (expected a header: {expected})")]
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        return [], [RowError(1, f"not a CSV file ({exc})")]
    errors = _header_errors(header, columns)
    if errors:
        return [], errors
    return _body(reader, header)


def _header_errors(header: list[str], columns: Columns) -> list[RowError]:
    errors: list[RowError] = []
    missing = [c for c in columns.required if c not in header]
    if missing:
        errors.append(
            RowError(
                1,
                f"the header lacks {', '.join(missing)} (a {columns.kind} file needs "
                f"{','.join(columns.required)}, optionally {','.join(columns.optional)})",
            )
        )
    known = columns.required + columns.optional
    unknown = [c for c in header if c and c not in known]
    if unknown:
        errors.append(RowError(1, f"unknown column {', '.join(unknown)}"))
    dupes = sorted({c for c in header if c and header.count(c) > 1})
    if dupes:
        errors.append(RowError(1, f"column {', '.join(dupes)} appears twice"))
    return errors


class _Reader(Protocol):
    """What `_body` needs of a csv reader (typeshed's reader class is private)."""

    @property
    def line_num(self) -> int: ...

    def __next__(self) -> list[str]: ...


def _numbered(reader: _Reader) -> Iterator[tuple[int, list[str]]]:
    # A record starts on the line after the previous one ended: a quoted value may span lines.
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        yield start, values


def _body(reader: _Reader, header: list[str]) -> tuple[list[Row], list[RowError]]:
    rows: list[Row] = []
    errors: list[RowError] = []
    try:
        for start, values in _numbered(reader):
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


class ErrorLog:
    """The problems of a file as it streams by: counted all, the first MAX_ERRORS_KEPT
    (by line) kept."""

    def __init__(self, keep: int = MAX_ERRORS_KEPT) -> None:
        self.keep = keep
        self.kept: list[RowError] = []
        self.count = 0

    def add(self, error: RowError) -> None:
        self.count += 1
        if len(self.kept) < self.keep:
            self.kept.append(error)

    def __bool__(self) -> bool:
        return self.count > 0

    def into(self, result: ImportResult, extra: Iterable[RowError] = ()) -> None:
        """Put the kept problems (and `extra` ones found later) on `result`, in line order."""
        extra = list(extra)
        merged = by_line([*self.kept, *extra])
        result.errors = merged[: self.keep]
        result.more_errors = self.count + len(extra) - len(result.errors)


def open_rows(
    f: TextIO, columns: Columns
) -> tuple[list[str], list[RowError], Iterator[tuple[int, list[str]]]]:
    """A streamed file: its header (lower-cased), the header's problems, and its records
    as (line number, values) one at a time, blank records skipped. A record that cannot
    be read ends the records with a RowError raised as `UnreadableLine`. A byte-order
    mark is the caller's to drop (open files as `utf-8-sig`)."""
    reader = csv.reader(f)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        expected = ",".join(columns.required)
        return [], [RowError(1, f"the file is empty (expected a header: {expected})")], iter(())
    except csv.Error as exc:
        return [], [RowError(1, f"not a CSV file ({exc})")], iter(())
    if not any(header):
        expected = ",".join(columns.required)
        return [], [RowError(1, f"the file is empty (expected a header: {expected})")], iter(())
    errors = _header_errors(header, columns)
    if errors:
        return header, errors, iter(())
    return header, [], _records(reader)


class UnreadableLine(Exception):
    """A record the csv module cannot read: the rest of the file is not read either."""

    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


def _records(reader: _Reader) -> Iterator[tuple[int, list[str]]]:
    try:
        for start, values in _numbered(reader):
            # Most records start with a non-blank value: one test, not one per value.
            if (values and values[0] and not values[0].isspace()) or any(
                v and not v.isspace() for v in values
            ):
                yield start, values
    except csv.Error as exc:
        raise UnreadableLine(RowError(reader.line_num, f"cannot read this line ({exc})")) from None
