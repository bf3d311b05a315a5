"""Roster and KPI CSV imports: parsing and validation, platform-neutral.

Not a chat command: `leadbot import roster|kpis` (bot/importer.py) and the KPI pull
(jobs/kpi_pull.py, which turns its payload into a KPI CSV) call it.

A file is checked completely; a single bad row means nothing is imported, and every bad
row is reported with its line number, in one pass (a KPI file streams: it is checked and
staged in batches, so memory stays flat whatever its size). Importing the same file again changes
nothing (rows are upserted, and unchanged ones are counted as such).

Modules: `csvfile` (reading a file: header, line numbers, RowError, ImportResult),
`roster` (the roster's row checks and import), `kpis` (the KPI rows' checks and import).

Public surface: ImportResult, RowError, parse_roster, import_roster, import_kpis (text),
import_kpis_stream (a file, read as it streams).
"""

from __future__ import annotations

from handlers.imports.csvfile import ImportResult, RowError
from handlers.imports.kpis import import_kpis, import_kpis_stream
from handlers.imports.roster import import_roster, parse_roster

__all__ = [
    "ImportResult",
    "RowError",
    "import_kpis",
    "import_kpis_stream",
    "import_roster",
    "parse_roster",
]
