"""KPI CSV import of a 500-agent center: rows per second and peak memory, against the
database's own bulk load of the same file in the same run.

Run by hand:

    .venv/bin/python benchmarks/kpi_import.py [--rows 2000000] [--only sqlite|postgres]

It writes the file (seven per-agent metrics a day for 500 agents plus 25 teams' queue
metrics, tests/handlers/imports/bigfile.py), seeds a fresh store with the roster, then
imports the file as `leadbot import kpis FILE` does, in a process of its own that reports
its wall time and peak RSS (resource.getrusage), then imports it once more (every row
unchanged: what a nightly re-export of the same period costs). The floor, timed in the same run:
SQLite: executemany of the file's rows, parsed into tuples beforehand, into a plain table
in one transaction; PostgreSQL: COPY of the same file into a plain table. PostgreSQL is
LEADBOT_BENCH_POSTGRES_URL (default the local server); a database is made and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.catalogue import ensure_reference_data  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.handlers.imports.bigfile import seed, write_kpi_file  # noqa: E402

PG_DEFAULT = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


# Through a shell that forks the importer: on Linux a process's peak RSS starts at the
# peak of the memory it was exec'd from, so a child exec'd straight from a large parent
# (pytest, or this benchmark after its floors) would report the parent's peak as its own.
SHELL_LAUNCH = [
    "/bin/sh",
    "-c",
    '"$0" -m tests.handlers.imports.proc_import "$1" "$2"; exit $?',
]


def child_import(url: str, path: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [*SHELL_LAUNCH, sys.executable, url, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def ready(url: str) -> None:
    db = Database(url)
    await db.create_all()
    await ensure_reference_data(db)
    await seed(db)
    await db.dispose()


def sqlite_floor(path: Path, db_path: Path) -> float:
    with path.open(newline="") as f:
        r = csv.reader(f)
        next(r)
        rows = [
            (d, e, m, float(v), float(c), t, float(n) if n else None, float(x) if x else None)
            for d, e, m, v, c, t, n, x in r
        ]
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE floor (day, email, metric, value, contacts, team, num, den)")
    started = time.perf_counter()
    con.execute("BEGIN")
    con.executemany("INSERT INTO floor VALUES (?,?,?,?,?,?,?,?)", rows)
    con.execute("COMMIT")
    took = time.perf_counter() - started
    con.close()
    return len(rows) / took


async def pg_floor(url: str, path: Path, rows: int) -> float:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE floor (day date, email text, metric text, value float8, "
            "contacts float8, team text, num float8, den float8)"
        )
        started = time.perf_counter()
        await conn.copy_to_table("floor", source=str(path), format="csv", header=True)
        return rows / (time.perf_counter() - started)
    finally:
        await conn.close()


def report(name: str, rows: int, result: dict[str, Any], floor: float) -> None:
    rate = rows / result["wall"]
    print(
        f"{name:10} {rows:>9,} rows  {result['wall']:6.1f} s  {rate:>9,.0f} rows/s  "
        f"peak {result['peak_mb']:5.0f} MB   floor {floor:>9,.0f} rows/s  "
        f"ratio {floor / rate:4.1f}x   ok={result['ok']} created={result['created']:,}"
    )


def report_again(name: str, rows: int, result: dict[str, Any]) -> None:
    print(
        f"{name + ' again':16} {rows / result['wall']:>9,.0f} rows/s  {result['wall']:6.1f} s  "
        f"peak {result['peak_mb']:5.0f} MB   unchanged={result['unchanged']:,}"
    )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        path = d / "kpis.csv"
        started = time.perf_counter()
        write_kpi_file(path, args.rows)
        print(
            f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB, "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        # The imports run first, each in its own process: the floors below hold the whole
        # parsed file in this one, and a child started from a large parent inherits its
        # peak RSS as its own starting peak.
        results: dict[str, tuple[dict[str, Any], str]] = {}
        again: dict[str, dict[str, Any]] = {}  # the same file imported a second time
        sqlite_url = f"sqlite+aiosqlite:///{d / 'leadbot.db'}"
        if args.only in (None, "sqlite"):
            await ready(sqlite_url)
            results["sqlite"] = (child_import(sqlite_url, path), sqlite_url)
            again["sqlite"] = child_import(sqlite_url, path)
        base = os.environ.get("LEADBOT_BENCH_POSTGRES_URL", PG_DEFAULT)
        name = "kpibench_" + uuid.uuid4().hex[:8]
        admin = await asyncpg.connect(base)
        try:
            if args.only in (None, "postgres"):
                await admin.execute(f'CREATE DATABASE "{name}"')
                pg_url = f"{base.rpartition('/')[0]}/{name}"
                await ready(pg_url)
                results["postgres"] = (child_import(pg_url, path), pg_url)
                again["postgres"] = child_import(pg_url, path)
                report(
                    "postgres",
                    args.rows,
                    results["postgres"][0],
                    await pg_floor(pg_url, path, args.rows),
                )
                report_again("postgres", args.rows, again["postgres"])
            if "sqlite" in results:
                report(
                    "sqlite", args.rows, results["sqlite"][0], sqlite_floor(path, d / "floor.db")
                )
                report_again("sqlite", args.rows, again["sqlite"])
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
