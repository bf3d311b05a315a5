"""The server's connections stay for real requests: slow clients are cut off after the
header timeout, connections past the cap get 503, and neither floods the log."""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot import httpguard
from bot.bootstrap import bootstrap
from bot.server import run_server
from domain.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[int]:
    """`run_server` on a loopback port with a short header timeout and a cap of 4."""
    port = _free_port()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'guard.db'}",
        slack_bot_token=None,
        http_header_timeout_seconds=0.5,
        http_max_connections=4,
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(
        run_server(bootstrap(settings), port=port, host="127.0.0.1", stop=stop, ready=ready)
    )
    await asyncio.wait_for(ready.wait(), 20)
    yield port
    stop.set()
    await asyncio.wait_for(task, 30)


async def _get(port: int, path: str = "/healthz") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return data


async def _slow(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client that starts a request and never finishes its headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    await writer.drain()
    return reader, writer


async def test_a_client_that_never_finishes_its_headers_is_cut_off(
    served: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    reader, writer = await _slow(served)
    # The server closes it (EOF, nothing answered) after the header timeout.
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()
    assert (await _get(served)).startswith(b"HTTP/1.1 200")
    lines = [r for r in caplog.records if "no complete request" in r.getMessage()]
    assert len(lines) == 1


async def test_past_the_cap_connections_get_503_and_real_requests_resume(
    served: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    slow = [await _slow(served) for _ in range(4)]
    await asyncio.sleep(0.05)
    refused = [await _get(served) for _ in range(3)]
    assert all(r.startswith(b"HTTP/1.1 503") for r in refused), refused
    # One log line for the three refusals, not three.
    assert len([r for r in caplog.records if "connection cap" in r.getMessage()]) == 1
    # The slow ones are cut off by the header timeout; then the server answers again.
    for reader, writer in slow:
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
    await asyncio.sleep(0.05)
    assert (await _get(served)).startswith(b"HTTP/1.1 200")


async def test_a_complete_request_is_not_cut_off_while_it_is_served(served: int) -> None:
    # Headers complete at once, then the body trickles: aiohttp reads it as it comes.
    reader, writer = await asyncio.open_connection("127.0.0.1", served)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(0.8)  # past the header timeout: the request already arrived
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 200")
    writer.close()


def test_the_cap_stays_below_the_descriptor_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (1024, 4096))
    assert httpguard.connection_cap(5000) == 1024 - httpguard.RESERVED_DESCRIPTORS
    assert httpguard.connection_cap(100) == 100


def test_accept_errors_are_logged_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    try:
        undo = httpguard.quiet_resource_errors(loop)
        handler = loop.get_exception_handler()
        assert handler is not None
        for _ in range(500):
            handler(loop, {"message": "socket.accept() out of system resource"})
        undo()
        assert loop.get_exception_handler() is None
    finally:
        loop.close()
    lines = [r for r in caplog.records if "file descriptors" in r.getMessage()]
    assert len(lines) == 1
