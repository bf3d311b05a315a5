"""The KPI import streams: a 2,000,000-row file in flat memory on both databases, all or
nothing with a bad row far down the file, and memory that does not grow with the file.

Each import runs in a process of its own (tests/handlers/imports/proc_import.py), which
reports its peak resident memory from resource.getrusage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.db import Database
from storage.kpis import count_values
from tests.conftest import fresh_store
from tests.handlers.imports.bigfile import seed, write_kpi_file

ROOT = Path(__file__).resolve().parents[3]
BIG = 2_000_000
BAD_LINE = 1_500_000
PEAK_MB = 150


# Through a shell that forks the importer: on Linux a process's peak RSS starts at the
# peak of the memory it was exec'd from, so a child exec'd straight from a large parent
# (pytest, or this benchmark after its floors) would report the parent's peak as its own.
SHELL_LAUNCH = [
    "/bin/sh",
    "-c",
    '"$0" -m tests.handlers.imports.proc_import "$1" "$2"; exit $?',
]


def run_import(url: str, path: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [*SHELL_LAUNCH, sys.executable, url, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("kpi-files")
    good, bad = d / "good.csv", d / "bad.csv"
    write_kpi_file(good, BIG)
    write_kpi_file(bad, BIG, bad_line=BAD_LINE)
    return good, bad


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A seeded store a subprocess can open: a SQLite file, or a fresh PostgreSQL database."""
    async with fresh_store(request.param, file_dir=tmp_path) as db:
        await seed(db)
        yield db


async def test_two_million_rows_in_flat_memory(
    store: Database, big_files: tuple[Path, Path]
) -> None:
    good, _ = big_files
    result = run_import(store.url, good)
    assert result["ok"], result["errors"]
    assert result["created"] == BIG
    assert result["peak_mb"] < PEAK_MB, result
    assert await count_values(store) == BIG


async def test_a_bad_row_far_down_rolls_everything_back(
    store: Database, big_files: tuple[Path, Path]
) -> None:
    _, bad = big_files
    result = run_import(store.url, bad)
    assert not result["ok"]
    assert result["error_count"] == 1
    assert result["errors"] == [[BAD_LINE, "csat 500 is above its maximum 100"]]
    assert result["peak_mb"] < PEAK_MB, result
    assert await count_values(store) == 0


async def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    peaks = []
    for rows in (250_000, 1_000_000):
        path = tmp_path / f"k{rows}.csv"
        write_kpi_file(path, rows)
        (tmp_path / str(rows)).mkdir()
        async with fresh_store("sqlite", file_dir=tmp_path / str(rows)) as db:
            await seed(db)
            result = run_import(db.url, path)
        assert result["created"] == rows
        peaks.append(result["peak_mb"])
    # Four times the rows, the same memory: the batch buffers and SQLite's page cache
    # (32 MB while importing, full by 250,000 rows) are fixed sizes.
    assert peaks[1] - peaks[0] < 10, peaks
