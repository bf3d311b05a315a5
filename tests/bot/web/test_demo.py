"""`leadbot demo` (what `make demo` runs) serves the dashboard beside the console: it
prints where, `/leadbot dashboard` prints the one-time link it DMs, and the link signs
the demo lead in to pages drawn from the demo data."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from pathlib import Path

import aiohttp

from tests.test_cli import _cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _line_matching(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> str:
    while True:
        raw = await asyncio.wait_for(stream.readline(), timeout=60)
        if not raw:
            raise AssertionError("the demo ended before printing it:\n" + "".join(seen))
        line = raw.decode()
        seen.append(line)
        if re.search(pattern, line):
            return line


async def test_make_demo_offers_a_dashboard_link_that_works(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'leadbot.db'}",
        "LOG_LEVEL": "WARNING",
        "KPI_SOURCE_URL": "",
        "PORT": str(port),
        "DASHBOARD_BASE_URL": "",
        "SLACK_BOT_TOKEN": "",
        "TEAMS_APP_ID": "",
    }
    proc = await asyncio.create_subprocess_exec(
        *_cmd("demo"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    seen: list[str] = []
    try:
        note = await _line_matching(proc.stdout, r"^Dashboard: ", seen)
        assert f"http://127.0.0.1:{port}/dashboard/" in note
        proc.stdin.write(b"/leadbot dashboard\n")
        await proc.stdin.drain()
        line = await _line_matching(proc.stdout, r"/dashboard/signin\?t=", seen)
        found = re.search(r"(http://\S+/dashboard/signin\?t=[\w.-]+)", line)
        assert found is not None, line
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as b:
            async with b.get(found.group(1)) as page:
                assert page.status == 200
                html = await page.text()
            fields = dict(re.findall(r'name="(t|pre)" value="([^"]*)"', html))
            async with b.post(f"http://127.0.0.1:{port}/dashboard/signin", data=fields) as r:
                assert r.status == 200  # followed to the lead's team page
                html = await r.text()
                assert "Billing: KPIs against goals" in html
                assert "Maria Lopez" in html
    finally:
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), timeout=30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, "".join(seen)
