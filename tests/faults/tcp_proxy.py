"""A loopback TCP proxy that a test can cut and restore: the database "goes away".

`cut()` is synchronous, so a test can call it from inside a SQLAlchemy event hook, right
before a chosen statement reaches the server: every open connection is aborted (the
client sees a reset) and the listening socket is closed (new connections are refused,
exactly as when the server is down). `restore()` listens again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import random


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.cuts = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def up(self) -> bool:
        return self._server is not None

    async def start(self) -> TcpProxy:
        if self.port:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
            return self
        # A port below Linux's ephemeral range (32768-60999): while the proxy is cut and
        # not listening, no outgoing connection can be given this port by the kernel, so
        # restore() can always listen on it again.
        rng = random.Random()
        for _ in range(200):
            port = rng.randrange(20000, 32000)
            try:
                self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
            except OSError:
                continue
            self.port = port
            return self
        raise OSError("no free port for the proxy")

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:  # accepted in the same loop turn as a cut
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self.accepted += 1
        link = (writer, up_writer)
        self._links.add(link)
        pumps = [
            asyncio.ensure_future(self._pump(reader, up_writer)),
            asyncio.ensure_future(self._pump(up_reader, writer)),
        ]
        self._pumps.update(pumps)
        try:
            await asyncio.gather(*pumps, return_exceptions=True)
        finally:
            self._pumps.difference_update(pumps)
            self._links.discard(link)
            for w in link:
                w.transport.abort()

    @staticmethod
    async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        dst.transport.abort()

    def cut(self) -> None:
        """The database goes away: reset every connection and refuse new ones."""
        self.cuts += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self._links):
            for w in link:
                w.transport.abort()
        self._links.clear()

    async def restore(self) -> None:
        """The database is back, on the same address."""
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        self.cut()
        for t in list(self._pumps):
            t.cancel()
        if self._pumps:
            await asyncio.gather(*self._pumps, return_exceptions=True)
