"""Chart PNGs for Slack (bot/charts.py): render time, the first chart's cost, and memory.

Run by hand:

    .venv/bin/python benchmarks/charts.py [--runs 100]

- Render time p50/p95/p99 (ms) of `render_png` for what `/stats METRIC chart` sends: a
  month (30 daily points) and a year (53 weekly points), and the worst case a renderer
  could be handed, a year of daily points (365); each with a goal line and band. The
  floor, in the same run: an empty figure of the same size saved as PNG with the same
  backend (what any matplotlib PNG costs).
- The first chart in a fresh process: importing matplotlib and drawing one month (what
  the first `/stats aht chart` after a start pays), in a subprocess, several times.
- Memory: the bootstrapped app as `leadbot run` builds it (the web app with the dashboard
  on, the Slack and Teams adapters loaded), VmRSS before any chart, after the first and
  after `--runs` more (VmHWM for the peak), in a subprocess of its own.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot import charts  # noqa: E402
from domain.fmt import fmt_value  # noqa: E402
from domain.types import Chart, ChartSeries  # noqa: E402


def make_chart(n: int, label: str) -> Chart:
    values = tuple(None if i % 17 == 5 else 290.0 + (i * 37 % 41) for i in range(n))
    return Chart(
        shape="line",
        title=f"Average handle time · Billing · {label}",
        labels=tuple(f"Mon {1 + i % 28} Nov" for i in range(n)),
        series=(ChartSeries("AHT", values, tuple(fmt_value("s", v) for v in values)),),
        unit="s",
        goal=310.0,
        goal_text="≤ 5:10 /day",
        goal_above=False,
    )


def timed(fn: object, runs: int) -> list[float]:
    assert callable(fn)
    for _ in range(3):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


_FIRST = """
import time, sys
sys.path.insert(0, {root!r})
t = time.perf_counter()
from benchmarks.charts import make_chart
from bot import charts
t0 = time.perf_counter()
png = charts.render_png(make_chart(30, "month"))
t1 = time.perf_counter()
print((t1 - t0) * 1000, len(png))
"""

_MEMORY = """
import asyncio, json, sys
sys.path.insert(0, {root!r})
from pydantic import SecretStr

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

async def main():
    from bot.bootstrap import bootstrap
    from bot.server import build_web_app
    from domain.settings import Settings
    from benchmarks.charts import make_chart
    from bot import charts
    from bot.slack import upload  # the uploader, as the Slack adapter loads it
    s = Settings(_env_file=None, database_url="sqlite+aiosqlite:///{db}",
                 dashboard_base_url="http://127.0.0.1:3000",
                 slack_bot_token=SecretStr("xoxb-bench"),
                 slack_signing_secret=SecretStr("bench-secret"),
                 leadbot_secret=SecretStr("b" * 48))
    app = bootstrap(s)
    await app.db.create_all()
    web = build_web_app(app)
    out = {{"app": status("VmRSS")}}
    charts.render_png(make_chart(30, "month"))
    out["first_chart"] = status("VmRSS")
    for i in range({runs}):
        charts.render_png(make_chart(365 if i % 2 else 53, "year"))
    out["after_runs"] = status("VmRSS")
    out["peak"] = status("VmHWM")
    out["matplotlib"] = "matplotlib" in sys.modules
    print(json.dumps(out))
    del web

asyncio.run(main())
"""


def first_chart(times: int) -> list[tuple[float, float, int]]:
    """(wall ms of the whole process, ms of import + first render, PNG bytes), each fresh."""
    out = []
    for _ in range(times):
        t = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-c", _FIRST.format(root=str(ROOT))],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        wall = (time.perf_counter() - t) * 1000
        first, size = res.stdout.split()
        out.append((wall, float(first), int(size)))
    return out


def memory(runs: int, tmp: Path) -> dict[str, float]:
    res = subprocess.run(
        [sys.executable, "-c", _MEMORY.format(root=str(ROOT), db=tmp / "bench.db", runs=runs)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    data: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])
    return data


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()
    import tempfile

    print("first chart in a fresh process (import matplotlib + draw a month), 5 processes:")
    for wall, first, size in first_chart(5):
        print(f"  import + first render {first:7.1f} ms   process {wall:7.1f} ms   {size} B")
    cases = {
        "floor: empty figure, savefig PNG": charts.empty_png,
        "month: 30 daily points": lambda: charts.render_png(make_chart(30, "month")),
        "year: 53 weekly points": lambda: charts.render_png(make_chart(53, "year")),
        "year: 365 daily points": lambda: charts.render_png(make_chart(365, "year")),
    }
    print(f"\nrender_png (ms), {args.runs} runs each after 3 warm-up:")
    print(f"  {'case':38} {'p50':>7} {'p95':>7} {'p99':>7} {'mean':>7}   PNG bytes")
    for name, fn in cases.items():
        xs = timed(fn, args.runs)
        size = len(fn())
        print(
            f"  {name:38} {pct(xs, 50):7.1f} {pct(xs, 95):7.1f} {pct(xs, 99):7.1f}"
            f" {statistics.fmean(xs):7.1f}   {size}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        mem = memory(args.runs, Path(tmp))
    print("\nbootstrapped app (web app, dashboard on, Slack adapter loaded), VmRSS MB:")
    print(f"  before any chart {mem['app']:.0f}, after the first {mem['first_chart']:.0f},")
    print(f"  after {args.runs} more {mem['after_runs']:.0f}, peak (VmHWM) {mem['peak']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
