"""Microsoft's login services on loopback: the Bot Framework and Entra key sets (JWKS) the
SDK checks inbound tokens against, and the Entra token endpoint MSAL gets the bot's
outbound token from.

The SDK fetches keys from fixed URLs (https://login.botframework.com/v1/.well-known/keys,
https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys) and offers no setting to
point it elsewhere, so these hosts are reached the way a corporate network would reach
them: through an HTTPS proxy (HTTPS_PROXY, a CONNECT tunnel) to a server whose certificate
a test CA signed, trusted through SSL_CERT_FILE / REQUESTS_CA_BUNDLE. Nothing in the SDK
is patched. `trusted_network` sets that environment up for one test.

It runs on its own thread and event loop: MSAL does blocking HTTP on the caller's thread,
which would otherwise wait on a server that cannot answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from aiohttp import web

from tests.bot.teams.pki import SigningKey, TestPKI, pki

PROXIED_HOSTS = ("login.botframework.com", "login.microsoftonline.com")
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


class FakeMicrosoftLogin:
    """The login hosts, behind a CONNECT proxy, on a thread of their own."""

    def __init__(self, keys: TestPKI, *, token_delay: float = 0.2) -> None:
        self.pki = keys
        self.token_delay = token_delay
        self.requests: list[tuple[str, str, str]] = []  # (method, host, path)
        self.connects: list[str] = []  # CONNECT targets the proxy was asked for
        self.token_requests = 0
        self.issued: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._proxy: asyncio.base_events.Server | None = None
        self.login_port = 0
        self.proxy_port = 0

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    # --- the login app ---------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/.well-known/keys", self._bot_framework_keys)
        app.router.add_get("/v1/.well-known/openidconfiguration", self._bot_framework_config)
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._entra_keys)
        app.router.add_get("/{tenant}/discovery/keys", self._entra_keys)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._entra_config)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    def _log(self, request: web.Request) -> None:
        self.requests.append((request.method, request.host.split(":")[0], request.path))

    async def _bot_framework_keys(self, request: web.Request) -> web.Response:
        self._log(request)
        key = {**self.pki.bot_framework.jwk(), "endorsements": ["msteams"]}
        return web.json_response({"keys": [key]})

    async def _bot_framework_config(self, request: web.Request) -> web.Response:
        self._log(request)
        return web.json_response(
            {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "jwks_uri": "https://login.botframework.com/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _entra_keys(self, request: web.Request) -> web.Response:
        self._log(request)
        return web.json_response({"keys": [self.pki.entra.jwk()]})

    async def _entra_config(self, request: web.Request) -> web.Response:
        self._log(request)
        tenant = request.match_info["tenant"]
        base = f"https://login.microsoftonline.com/{tenant}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        self._log(request)
        form = await request.post()
        self.token_requests += 1
        n = self.token_requests
        await asyncio.sleep(self.token_delay)  # Entra is not instant: concurrent callers pile up
        if form.get("grant_type") != "client_credentials" or not form.get("client_secret"):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"outbound-token-{n}"
        self.issued.append(token)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": token}
        )

    # --- the proxy ---------------------------------------------------------------------

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            host, _, _port = target.rpartition(":")
            if method != "CONNECT" or host not in PROXIED_HOSTS:
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            self.connects.append(host)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.login_port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()

            async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                    while data := await src.read(65536):
                        dst.write(data)
                        await dst.drain()
                with contextlib.suppress(Exception):
                    dst.close()

            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    # --- the thread --------------------------------------------------------------------

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.pki.server_context())
        await site.start()
        self.login_port = self._runner.addresses[0][1]
        self._proxy = await asyncio.start_server(self._tunnel, "127.0.0.1", 0)
        self.proxy_port = self._proxy.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._proxy is not None:
            self._proxy.close()
        if self._runner is not None:
            await self._runner.cleanup()
        # Tunnels clients left open (keep-alive) end with the service.
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        loop.run_until_complete(self._start())
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._stop())
        loop.close()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fake-login", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake login service did not start")

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


@contextlib.contextmanager
def trusted_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMicrosoftLogin]:
    """The test CA trusted and the login hosts reachable (through the proxy) for one test.

    Build the server (or sender) inside: TLS contexts read SSL_CERT_FILE when made.
    """
    keys = pki()
    login = FakeMicrosoftLogin(keys)
    login.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(keys.ca_file))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(keys.ca_file))
        for name in ("HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(name, login.proxy_url)
        for name in ("NO_PROXY", "no_proxy", "CURL_CA_BUNDLE"):
            monkeypatch.delenv(name, raising=False)
        yield login
    finally:
        login.stop()


def sign(claims: dict[str, Any], key: SigningKey) -> str:
    """A JWT (RS256) over `claims`, with `key`'s key id in its header."""
    return jwt.encode(claims, key.pem, algorithm="RS256", headers={"kid": key.kid})


def bot_framework_claims(app_id: str, service_url: str, **overrides: Any) -> dict[str, Any]:
    """The claims of a token Teams' Bot Framework channel sends with an activity."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "serviceurl": service_url,
        "nbf": now - 60,
        "exp": now + 3600,
        "iss": BOT_FRAMEWORK_ISSUER,
        "aud": app_id,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def entra_claims(app_id: str, tenant: str, **overrides: Any) -> dict[str, Any]:
    """The claims of an Entra (v2) app token for `app_id` from `tenant`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": app_id,
        "iss": f"https://login.microsoftonline.com/{tenant}/v2.0",
        "tid": tenant,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + 3600,
        "azp": "11111111-2222-3333-4444-555555555555",
        "ver": "2.0",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}
