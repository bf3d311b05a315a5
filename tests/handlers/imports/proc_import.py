"""One KPI import in a process of its own, for memory and speed measurements.

python -m tests.handlers.imports.proc_import DB_URL FILE

Imports FILE into the (already seeded) store at DB_URL through the same path as
`leadbot import kpis FILE`, then prints one JSON line: the outcome, the first errors,
the wall time and the peak resident memory (resource.getrusage, in MB).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import resource
import sys
import time

from handlers.imports import import_kpis_stream
from storage.db import Database
from tests.conftest import FakeClock, make_ctx


def _vm_hwm_mb() -> float | None:
    """The kernel's high-water mark of this process's own memory (a cross-check)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def main(url: str, path: str) -> None:
    db = Database(url)
    ctx = make_ctx(db, FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)))
    started = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as f:  # noqa: ASYNC230
        result = await import_kpis_stream(ctx, f)
    wall = time.perf_counter() - started
    await db.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    hwm_mb = _vm_hwm_mb()
    print(
        json.dumps(
            {
                "ok": result.ok,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "errors": [[e.line, e.message] for e in result.errors[:5]],
                "error_count": result.error_count,
                "wall": wall,
                "peak_mb": peak_mb,
                "hwm_mb": hwm_mb,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
