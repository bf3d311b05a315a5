"""A loopback TCP proxy that a test can cut and restore: the database "goes away".

`cut()` is synchronous, so a test can call it from inside a SQLAlchemy event hook, right
before a chosen statement reaches the server: every open connection is aborted (the
client sees a reset) and the listening socket is closed (new connections are refused,
exactly as when the server is down). `restore()` listens again on the same port.

`stall()` is a network that stops carrying packets without resetting anything (a server
that hangs): bytes wait in the proxy until `flow()`.

`shutting_down()` is PostgreSQL between "pg_ctl stop" and its exit: the proxy keeps
listening, but answers every new connection as the server does then, with FATAL 57P03
"the database system is shutting down". (The server's own 57P01 "terminating connection
due to administrator command" to open connections comes from the real server: a test
calls pg_terminate_backend on the backends behind `upstream_ports()`.)
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


def pg_fatal(sqlstate: str, message: str) -> bytes:
    """A PostgreSQL ErrorResponse message (as sent before closing a connection)."""
    fields = b"".join(
        code + value.encode() + b"\0"
        for code, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.cuts = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self.refusal: tuple[str, str] | None = None  # (sqlstate, message) for new connections
        self.refused = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
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
        if self.refusal is not None:
            await self._refuse(reader, writer, *self.refusal)
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

    async def _refuse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: str, text: str
    ) -> None:
        """Answer a client's startup as a server that takes no connections now."""
        self.refused += 1
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, TimeoutError):
            async with asyncio.timeout(5):
                while True:
                    (length,) = struct.unpack("!I", await reader.readexactly(4))
                    packet = await reader.readexactly(length - 4)
                    code = struct.unpack("!I", packet[:4])[0] if len(packet) >= 4 else 0
                    if code in (SSL_REQUEST, GSSENC_REQUEST):
                        writer.write(b"N")  # no encryption; the client goes on in clear
                        await writer.drain()
                        continue
                    writer.write(pg_fatal(state, text))
                    await writer.drain()
                    break
        writer.close()

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                await self._flowing.wait()
                dst.write(data)
                await dst.drain()
        dst.transport.abort()

    def upstream_ports(self) -> list[int]:
        """The local ports of the proxy's connections to the server (pg_stat_activity's
        client_port of the backends serving the proxied clients)."""
        ports = []
        for _client, up in self._links:
            sock = up.get_extra_info("sockname")
            if sock:
                ports.append(int(sock[1]))
        return ports

    def stall(self) -> None:
        """Stop carrying bytes either way (nothing is reset or refused)."""
        self._flowing.clear()

    def flow(self) -> None:
        """Carry bytes again (what waited goes through)."""
        self._flowing.set()

    def shutting_down(self) -> None:
        """New connections get FATAL 57P03, as from a server that is stopping."""
        self.refusal = ("57P03", "the database system is shutting down")

    def cut(self) -> None:
        """The database goes away: reset every connection and refuse new ones."""
        self.cuts += 1
        self.refusal = None
        if self._server is not None:
            self._server.close()
            self._server = None
        for link in list(self._links):
            for w in link:
                w.transport.abort()
        self._links.clear()

    async def restore(self) -> None:
        """The database is back, on the same address."""
        self.refusal = None
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        self.flow()
        self.cut()
        for t in list(self._pumps):
            t.cancel()
        if self._pumps:
            await asyncio.gather(*self._pumps, return_exceptions=True)
