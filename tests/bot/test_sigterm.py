"""SIGTERM on the real processes: `leadbot run` finishes the in-flight request and the work
it started after the Slack ack, stops the scheduler cleanly and exits 0 within 10 s;
`leadbot scheduler` does the same. The `run` process logs in JSON (LOG_FORMAT=json), so
this also checks the JSON logs and the request id end to end."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "sigterm-signing-secret"
EXIT_WITHIN = 10.0
SLOW = 1.0  # Slack answers slowly, so requests and work are in flight at SIGTERM


@dataclass
class SlowSlack:
    """A fake Slack whose users.info and response_url answer slowly (SLOW seconds)."""

    url: str = ""
    lookups_started: int = 0
    respond_started: asyncio.Event = field(default_factory=asyncio.Event)
    lookup_started: asyncio.Event = field(default_factory=asyncio.Event)
    responded: list[dict[str, object]] = field(default_factory=list)

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
            )
        if method == "users.info":
            self.lookups_started += 1
            self.lookup_started.set()
            await asyncio.sleep(SLOW)
            return web.json_response({"ok": False, "error": "user_not_found"})
        return web.json_response({"ok": True})

    async def respond(self, request: web.Request) -> web.Response:
        self.respond_started.set()
        data = await request.json()
        await asyncio.sleep(SLOW)
        self.responded.append(data)
        return web.Response(text="ok")


@pytest.fixture
async def slow_slack() -> AsyncIterator[SlowSlack]:
    fake = SlowSlack()
    app = web.Application()
    app.router.add_post("/api/{method}", fake.api)
    app.router.add_get("/api/{method}", fake.api)
    app.router.add_post("/respond", fake.respond)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield fake
    await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start(tmp_path: Path, *args: str, **env_extra: str) -> asyncio.subprocess.Process:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'sigterm.db'}",
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
        LEADBOT_SECRET="sigterm-test-secret-of-32-characters-or-more",  # serve refuses less
    )
    for key in list(env):
        if key.startswith(("SLACK_", "TEAMS_", "KPI_")):
            del env[key]
    env.update(env_extra)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_until(proc: asyncio.subprocess.Process, needle: str, seen: list[str]) -> None:
    assert proc.stderr is not None
    async with asyncio.timeout(60):
        while not any(needle in line for line in seen):
            line = await proc.stderr.readline()
            if not line:
                raise AssertionError(f"process ended before {needle!r}:\n{''.join(seen)}")
            seen.append(line.decode())


async def finish(proc: asyncio.subprocess.Process, seen: list[str]) -> float:
    """Wait for the exit after a signal; returns how long it took."""
    started = time.monotonic()
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    took = time.monotonic() - started
    seen.extend(err.decode().splitlines(keepends=True))
    return took


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    assert sig is not None
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig,
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def test_leadbot_run_finishes_in_flight_work_and_exits_0_on_sigterm(
    tmp_path: Path, slow_slack: SlowSlack
) -> None:
    port = free_port()
    proc = await start(
        tmp_path,
        "run",
        "--port",
        str(port),
        LOG_FORMAT="json",
        SLACK_BOT_TOKEN="xoxb-sigterm-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slow_slack.url + "/api/",
        SLACK_RESPONSE_URL_HOSTS=slow_slack.url.split("://", 1)[1],
    )
    seen: list[str] = []
    try:
        await read_until(proc, "leadbot serving", seen)
        base = f"http://127.0.0.1:{port}"
        body = urlencode(
            {
                "team_id": "T1",
                "channel_id": "D1",
                "user_id": "U404",
                "command": "/leadbot",
                "text": "help",
                "response_url": slow_slack.url + "/respond",
                "trigger_id": "t1",
            }
        )
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/healthz") as resp:
                assert resp.status == 200
            headers = {**signed(body), "X-Request-Id": "sigterm-req-1"}
            async with http.post(base + "/slack/events", data=body, headers=headers) as resp:
                assert resp.status == 200  # acknowledged; the work runs after the ack
            # The process's /metrics counted the acknowledged command.
            async with http.get(base + "/metrics") as resp:
                assert resp.status == 200
                page = await resp.text()
            acks = [
                s.value
                for f in text_string_to_metric_families(page)
                for s in f.samples
                if s.name == "leadbot_http_requests_total"
                and s.labels == {"route": "/slack/events", "method": "POST", "status": "200"}
            ]
            assert acks == [1.0]
            # A modal submission waits (up to 2 s) for its action, here held up by a slow
            # users.info: an HTTP request in flight when SIGTERM arrives.
            await asyncio.wait_for(slow_slack.respond_started.wait(), 10)
            payload = {
                "type": "view_submission",
                "team": {"id": "T1"},
                "user": {"id": "U405"},
                "api_app_id": "A1",
                "view": {
                    "id": "V1",
                    "type": "modal",
                    "callback_id": "leadbot.form",
                    "private_metadata": json.dumps({"a": "lbnone.save", "v": "1"}),
                    "state": {"values": {"note": {"note": {"type": "x", "value": "hi"}}}},
                },
            }
            form = urlencode({"payload": json.dumps(payload)})
            slow_slack.lookup_started.clear()
            in_flight = asyncio.create_task(
                http.post(base + "/slack/events", data=form, headers=signed(form))
            )
            await asyncio.wait_for(slow_slack.lookup_started.wait(), 10)
            proc.send_signal(signal.SIGTERM)
            resp2 = await asyncio.wait_for(in_flight, 10)
            assert resp2.status == 200
            answer = await resp2.json()
            resp2.release()
        # The in-flight submission was answered in full: the modal shows why.
        assert answer["response_action"] == "errors"
        assert "I don't know you" in answer["errors"]["note"]
        took = await finish(proc, seen)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = "".join(seen)
    assert proc.returncode == 0, log
    assert took < EXIT_WITHIN, log
    # The work started by the first request finished: its reply reached the response_url.
    assert len(slow_slack.responded) >= 1, log
    assert "I don't know you" in json.dumps(slow_slack.responded[0])
    # Every line is JSON, and the lines of the first request carry its id.
    records = [json.loads(line) for line in seen if line.strip()]
    messages = [str(r["message"]) for r in records]
    assert any("scheduler stopped" in m for m in messages), log
    assert any("leadbot server stopped" in m for m in messages), log
    lookup = [r for r in records if "users.info failed" in str(r["message"])]
    assert any(r.get("request_id") == "sigterm-req-1" for r in lookup), log
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")], log


async def test_leadbot_scheduler_exits_0_within_10s_on_sigterm(tmp_path: Path) -> None:
    proc = await start(tmp_path, "scheduler")
    seen: list[str] = []
    try:
        await read_until(proc, "scheduler started", seen)
        proc.send_signal(signal.SIGTERM)
        took = await finish(proc, seen)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = "".join(seen)
    assert proc.returncode == 0, log
    assert took < EXIT_WITHIN, log
    assert "scheduler stopped" in log
    assert "leadbot clock stopped" in log
    assert " ERROR " not in log
