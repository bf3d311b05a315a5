"""What the HTTP connectors share: a JSON client that paces itself, retries what is worth
retrying (429 with its Retry-After, 5xx, timeouts, network errors), renews an expired
token once, and turns every other failure into a SourceError that says what is wrong
(credentials, a permission, the region or URL) in words an admin can act on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from domain.sources import ErrorKind, SourceError

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Auth = Callable[[bool], Awaitable[Mapping[str, str]]]  # renew? -> headers


@dataclass(frozen=True)
class Policy:
    """How a connector talks to its platform."""

    retries: int = 4  # after the first attempt
    backoff: float = 1.0  # seconds, doubled per attempt
    max_wait: float = 60.0  # the longest Retry-After honoured
    timeout: float = 30.0
    rate_per_second: float = 5.0  # requests started per second, at most


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


class Pacer:
    """At most `rate` request starts per second (a platform's published limit)."""

    def __init__(self, rate: float, sleep: Sleep) -> None:
        self.gap = 1.0 / rate if rate > 0 else 0.0
        self.sleep = sleep
        self.next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        if self.next > now:
            await self.sleep(self.next - now)
            now = self.next
        self.next = now + self.gap


def _message(resp: httpx.Response) -> str:
    """The platform's own words for an error, from the usual JSON error shapes."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].strip()
    if isinstance(body, dict):
        for key in ("message", "description", "error_description", "error", "detail"):
            v = body.get(key)
            if isinstance(v, str) and v:
                return v[:300]
            if isinstance(v, dict) and isinstance(v.get("message"), str):
                return str(v["message"])[:300]
    return str(body)[:200]


class JsonClient:
    """One platform's JSON API (module doc)."""

    def __init__(
        self,
        *,
        title: str,
        base_url: str,
        auth: Auth | None = None,
        policy: Policy | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        hints: Mapping[str, str] | None = None,
    ) -> None:
        self.title = title
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.policy = policy or Policy()
        self._own = client is None
        self.http = client or httpx.AsyncClient(follow_redirects=False)
        self.sleep = sleep
        self.pacer = Pacer(self.policy.rate_per_second, sleep)
        self.hints = dict(hints or {})
        self.requests = 0

    async def aclose(self) -> None:
        if self._own:
            await self.http.aclose()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> Any:
        """The parsed JSON answer of one request, retried as the module doc says."""
        p = self.policy
        renewed = False
        last = "no attempt"
        attempt = 0
        while attempt <= p.retries:
            attempt += 1
            wait = p.backoff * (2 ** (attempt - 1))
            hdrs = {"Accept": "application/json", "User-Agent": "leadbot-kpi-sources"}
            if authenticated and self.auth is not None:
                hdrs.update(await self.auth(False))
            hdrs.update(headers or {})
            await self.pacer.wait()
            self.requests += 1
            try:
                resp = await self.http.request(
                    method,
                    self.url(path),
                    params=params,
                    json=json,
                    data=data,
                    headers=hdrs,
                    timeout=p.timeout,
                )
            except httpx.TimeoutException:
                last = f"timed out after {p.timeout:g}s"
            except httpx.HTTPError as exc:
                last = (
                    f"could not connect to {httpx.URL(self.url(path)).host} ({type(exc).__name__})"
                )
                if isinstance(exc, httpx.ConnectError) and "name" in str(exc).lower():
                    raise SourceError(
                        f"{self.title}: {last}. {self.hints.get('region', '')}".strip(),
                        ErrorKind.region,
                        attempt,
                    ) from None
            else:
                if resp.status_code < 300:
                    return self._json(resp, attempt)
                if resp.status_code == 401 and authenticated and self.auth and not renewed:
                    # An expired or revoked token: ask for a new one, once, and try again.
                    renewed = True
                    attempt -= 1
                    await self.auth(True)
                    continue
                if resp.status_code == 429 or resp.status_code >= 500:
                    last = f"HTTP {resp.status_code}"
                    asked = retry_after(resp.headers.get("Retry-After"))
                    if asked is not None:
                        wait = min(asked, p.max_wait)
                else:
                    raise self._refused(resp, attempt)
            if attempt <= p.retries:
                log.warning(
                    "%s request %s failed (attempt %d): %s; retrying in %.1fs",
                    self.title,
                    httpx.URL(self.url(path)).path,
                    attempt,
                    last,
                    wait,
                )
                await self.sleep(wait)
        kind = ErrorKind.rate_limited if last == "HTTP 429" else ErrorKind.unavailable
        raise SourceError(f"{self.title}: {last}, {attempt} attempts", kind, attempt)

    def _json(self, resp: httpx.Response, attempt: int) -> Any:
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise SourceError(
                f"{self.title} answered {httpx.URL(str(resp.url)).host} with something that "
                f"is not JSON. {self.hints.get('region', '')}".strip(),
                ErrorKind.region,
                attempt,
            ) from None

    def _refused(self, resp: httpx.Response, attempt: int) -> SourceError:
        said = _message(resp)
        code = resp.status_code
        if code == 401:
            hint = self.hints.get("credentials", "check the credentials")
            return SourceError(
                f"{self.title} refused the credentials (HTTP 401: {said}); {hint}.",
                ErrorKind.credentials,
                attempt,
            )
        if code == 403:
            hint = self.hints.get("permission", "grant the permission it names")
            return SourceError(
                f"{self.title} refused a permission (HTTP 403: {said}); {hint}.",
                ErrorKind.permission,
                attempt,
            )
        if code == 404:
            hint = self.hints.get("region", "")
            path = httpx.URL(str(resp.url)).path
            return SourceError(
                f"{self.title}: {path} was not found (HTTP 404). {hint}".strip(),
                ErrorKind.region,
                attempt,
            )
        return SourceError(f"{self.title}: HTTP {code}: {said}", ErrorKind.payload, attempt)


def iso(t: dt.datetime) -> str:
    """A UTC time as the platforms write it: 2026-11-17T09:00:00.000Z."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time (with Z or an offset) as an aware UTC datetime."""
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC)


class MissingExtra(SourceError):
    """A connector's optional package is not installed."""

    def __init__(self, extra: str, package: str) -> None:
        super().__init__(
            f"the {extra} connector needs the {package} package: pip install 'leadbot[{extra}]'",
            ErrorKind.missing_extra,
        )
        self.extra = extra
