"""How long `leadbot serve` takes from process start to the first 200 from /healthz.

Run by hand: `.venv/bin/python benchmarks/serve_startup.py [--runs 5]`. Uses a fresh
SQLite file (so the migrations run too) and Slack in HTTP mode with dummy credentials
(nothing calls Slack at start-up).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(fresh_db: bool) -> tuple[float, float, float]:
    """(seconds to first healthy answer, CPU seconds used by then, seconds to exit
    after SIGTERM). CPU seconds do not depend on how busy the machine is."""
    tmp = tempfile.mkdtemp()
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp}/bench.db",
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="bench-secret",
        SLACK_API_URL="http://127.0.0.1:9/api/",
        LOG_LEVEL="WARNING",
        LEADBOT_SECRET="benchmark-secret-of-at-least-32-characters",  # serve refuses less
    )
    env.pop("SLACK_APP_TOKEN", None)
    if not fresh_db:
        subprocess.run(
            [str(ROOT / ".venv/bin/leadbot"), "db", "upgrade"],
            env=env,
            check=True,
            capture_output=True,
        )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/leadbot"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("leadbot serve exited early") from None
                time.sleep(0.005)
        ready = time.perf_counter() - start
        cpu = cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        stopped = time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    return ready, cpu, stopped


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    for fresh in (True, False):
        results = [one_run(fresh) for _ in range(args.runs)]
        ready = [r for r, _, _ in results]
        cpu = [c for _, c, _ in results]
        stop = [s for _, _, s in results]
        label = "fresh database (migrations run)" if fresh else "migrated database"
        print(
            f"{label}: ready median {statistics.median(ready):.2f}s, max {max(ready):.2f}s "
            f"(CPU {statistics.median(cpu):.2f}s); "
            f"SIGTERM to exit median {statistics.median(stop):.2f}s"
        )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
