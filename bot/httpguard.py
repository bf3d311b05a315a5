"""Keeping the web server's connections for real requests (docs/operations/scaling.md).

Slack and Teams open a connection, send one small request and read the answer. A client
that opens connections and never finishes a request (or a flood of them) must not take
the descriptors those need:
- a header timeout: a connection whose first request's headers are not all there within
  HTTP_HEADER_TIMEOUT_SECONDS is closed (aiohttp itself has no such timeout);
- an idle timeout between requests (aiohttp's keep-alive timeout);
- a connection cap below the process's descriptor limit: past it, a new connection gets
  `503` and is closed at once, instead of the accept loop failing with EMFILE;
- resource errors from the accept loop logged once a minute, not once per attempt.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

# Descriptors kept for everything else the process opens (database pool, outgoing HTTP,
# log files) when the connection cap is derived from RLIMIT_NOFILE.
RESERVED_DESCRIPTORS = 128
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
    b"Content-Length: 0\r\n\r\n"
)
_HEAD_END = b"\r\n\r\n"


def connection_cap(wanted: int) -> int:
    """`wanted`, but never more than the descriptor limit leaves for connections."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - RESERVED_DESCRIPTORS))


class OncePerInterval:
    """Logs a repeated condition at most once per `interval` seconds, with the count."""

    def __init__(self, message: str, interval: float = 60.0) -> None:
        self.message = message
        self.interval = interval
        self.count = 0
        self._last = -interval

    def __call__(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            log.warning("%s (%d so far)", self.message, self.count)


class _Refused(asyncio.Protocol):
    """A connection over the cap: answered 503 and closed without reading it."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(REFUSAL)
        transport.close()


class _HeaderDeadline(asyncio.Protocol):
    """Passes everything to aiohttp's handler; closes the connection when the first
    request's headers have not arrived within `timeout` seconds."""

    def __init__(self, inner: asyncio.Protocol, timeout: float, on_timeout: Callable[[], None]):
        self.inner = inner
        self.timeout = timeout
        self.on_timeout = on_timeout
        self.head = b""
        self.complete = False
        self.timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.timer = asyncio.get_running_loop().call_later(self.timeout, self._expired)
        self.inner.connection_made(transport)

    def _expired(self) -> None:
        if not self.complete and self.transport is not None:
            self.on_timeout()
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if not self.complete:
            self.head = (self.head + data)[-4096:]
            if _HEAD_END in self.head:
                self.complete = True
                self.head = b""
                if self.timer is not None:
                    self.timer.cancel()
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class GuardedSite(web.TCPSite):
    """A TCPSite with the header timeout and the connection cap above."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str | None,
        port: int,
        *,
        max_connections: int,
        header_timeout: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(runner, host, port, **kwargs)
        self.max_connections = connection_cap(max_connections)
        self.header_timeout = header_timeout
        self.refused = OncePerInterval(
            f"connection cap reached ({self.max_connections} open): new connections get 503"
        )
        self.slow = OncePerInterval(
            f"closed connections that sent no complete request in {header_timeout:g}s"
        )

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None

        def protocol() -> asyncio.Protocol:
            if len(server.connections) >= self.max_connections:
                self.refused()
                return _Refused()
            return _HeaderDeadline(server(), self.header_timeout, self.slow)

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            protocol,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


def quiet_resource_errors(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Log the accept loop's out-of-descriptors errors once a minute; returns an undo."""
    previous = loop.get_exception_handler()
    exhausted = OncePerInterval("the server ran out of file descriptors accepting connections")

    def handler(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if "out of system resource" in str(context.get("message", "")):
            exhausted()
            return
        if previous is not None:
            previous(lp, context)
        else:
            lp.default_exception_handler(context)

    loop.set_exception_handler(handler)
    return lambda: loop.set_exception_handler(previous)
