"""The outbox dispatcher: sends pending messages through the platform senders.

- Claims due rows in batches with a lease (storage.outbox.claim_due_batch), at most one
  row per target at a time, the oldest first, so a target never sees message N+1 before N.
- Waits for the platform's rate limits (token buckets; the numbers are in DEFAULT_LIMITS).
- A 429 puts the message back with its Retry-After; its target waits, others go on.
- 5xx and network errors are retried with exponential backoff and jitter; after
  `max_attempts` the message is dead with its last error (`leadbot outbox retry ID`).
- A message is marked sent right after the platform accepts it. A process killed in the
  gap between the platform's answer and that write leaves a claimed row whose lease runs
  out; the next claim sends it again (at-least-once: docs/operations/scheduler.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from domain.types import Reply
from handlers.core.context import Clock, system_clock
from jobs.delivery import Sender, SendResult
from jobs.edits import send_edit
from storage import outbox
from storage.db import Database, DatabaseUnavailable
from storage.edits import edit_base_target
from storage.outbox import Claim

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    """At most `count` messages per `per_seconds`, with bursts up to `burst` (default count)."""

    count: float
    per_seconds: float = 1.0
    burst: float | None = None


@dataclass(frozen=True)
class PlatformLimits:
    """A platform's limits: for the whole app (workspace / tenant) and per target."""

    app: tuple[Rate, ...]
    per_target: tuple[Rate, ...]


# Every platform limit lives here (and can be overridden through DispatcherConfig.limits).
# Slack: chat.postMessage allows about 1 message per second per channel, with a workspace
# budget on top (not published; 20/s is conservative and set by SLACK_RATE_PER_SECOND).
# Teams: per bot per conversation 7/s and 60 per 30 s; per app per tenant 50/s.
# "PLATFORM:KIND" adds limits for rows of another kind than "message", on top of the
# platform's: Slack's chat.update is Tier 3 (about 50 a minute per workspace; 40 a minute
# with bursts of 5 is at most 45 in any minute, leaving room for network jitter); Teams
# counts an edit against the conversation like a post, so it needs nothing more.
DEFAULT_LIMITS: Mapping[str, PlatformLimits] = {
    "slack": PlatformLimits(app=(Rate(20, 1.0),), per_target=(Rate(1, 1.0),)),
    "teams": PlatformLimits(app=(Rate(50, 1.0),), per_target=(Rate(7, 1.0), Rate(60, 30.0))),
    "slack:update": PlatformLimits(app=(Rate(40, 60.0, burst=5),), per_target=()),
}


def limits_with(
    *, slack_rate: float | None = None, slack_channel_rate: float | None = None
) -> dict[str, PlatformLimits]:
    """DEFAULT_LIMITS with Slack's workspace and per-channel rates replaced."""
    out = dict(DEFAULT_LIMITS)
    slack = out["slack"]
    out["slack"] = PlatformLimits(
        app=(Rate(slack_rate, 1.0),) if slack_rate else slack.app,
        per_target=(Rate(slack_channel_rate, 1.0),) if slack_channel_rate else slack.per_target,
    )
    return out


class TokenBucket:
    """A token bucket. `acquire()` waits for a token, callers served first come first
    served; `reserve()` takes one now and says how long to wait before using it."""

    def __init__(self, rate: Rate, monotonic: Callable[[], float]) -> None:
        self.capacity = float(rate.burst if rate.burst is not None else rate.count)
        self.fill = rate.count / rate.per_seconds
        self.tokens = self.capacity
        self._monotonic = monotonic
        self.updated = monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Wait for a token. Only the first in line sleeps, and it re-checks after waking,
        so a stalled event loop never releases more than `capacity` sends at once."""
        async with self._lock:
            self._refill()
            while self.tokens < 1 - 1e-9:  # (rounding must not leave it a hair short)
                await sleep((1 - self.tokens) / self.fill)
                self._refill()
            self.tokens = max(self.tokens - 1, 0.0)

    def _refill(self) -> None:
        now = self._monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.fill)
        self.updated = now

    def reserve(self) -> float:
        self._refill()
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.fill

    def idle(self) -> bool:
        self._refill()
        return self.tokens >= self.capacity


@dataclass(frozen=True)
class DispatcherConfig:
    batch_size: int = 200
    max_in_flight: int = 200
    lease_seconds: float = 300.0
    poll_seconds: float = 1.0
    max_attempts: int = 11  # about 23-47 minutes of backoff before a message is dead
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 900.0
    max_retry_after_seconds: float = 3600.0
    shutdown_grace_seconds: float = 10.0
    limits: Mapping[str, PlatformLimits] = field(default_factory=lambda: dict(DEFAULT_LIMITS))


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    rate_limited: int = 0
    retried: int = 0
    dead: int = 0
    lost_claims: int = 0


def default_node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Dispatcher:
    """Sends due outbox messages; run `run(stop)` as a task, or `drain()` in tests."""

    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        *,
        config: DispatcherConfig | None = None,
        clock: Clock = system_clock,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.senders = dict(senders)
        self.config = config or DispatcherConfig()
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.name = name or default_node_name()
        self.stats = DispatchStats()
        self._app_buckets: dict[str, list[TokenBucket]] = {}
        self._target_buckets: dict[tuple[str, str], list[TokenBucket]] = {}
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._sent_batch: list[tuple[int, str | None, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    @property
    def platforms(self) -> list[str]:
        # Console rows are shown by the console itself, never sent.
        return sorted(p for p in self.senders if p != "console")

    def wake(self) -> None:
        """Look for due messages now (e.g. right after enqueueing)."""
        self._wake.set()

    # --- rate limits ------------------------------------------------------------------

    def _limits(self, platform: str) -> PlatformLimits:
        return self.config.limits.get(platform, PlatformLimits(app=(), per_target=()))

    def _buckets_for(self, platform: str, target: str) -> tuple[list[TokenBucket], ...]:
        limits = self._limits(platform)
        app = self._app_buckets.get(platform)
        if app is None:
            app = self._app_buckets[platform] = [TokenBucket(r, self.monotonic) for r in limits.app]
        key = (platform, edit_base_target(target))  # an edit counts against its channel
        per = self._target_buckets.get(key)
        if per is None:
            if len(self._target_buckets) > 10_000:
                self._prune_buckets()
            per = self._target_buckets[key] = [
                TokenBucket(r, self.monotonic) for r in limits.per_target
            ]
        return per, app

    def _prune_buckets(self) -> None:
        for key in [k for k, bs in self._target_buckets.items() if all(b.idle() for b in bs)]:
            del self._target_buckets[key]

    async def _wait_for_rate(self, platform: str, target: str, kind: str = "message") -> None:
        per_target, app = self._buckets_for(platform, target)
        extra = self._app_buckets_for(f"{platform}:{kind}") if kind != "message" else []
        # The target first, then the app-wide budget, so a slow target does not hold
        # app-wide tokens that other targets could use.
        for bucket in (*per_target, *app, *extra):
            await bucket.acquire(self.sleep)

    def _app_buckets_for(self, key: str) -> list[TokenBucket]:
        buckets = self._app_buckets.get(key)
        if buckets is None:
            rates = self._limits(key).app
            buckets = self._app_buckets[key] = [TokenBucket(r, self.monotonic) for r in rates]
        return buckets

    # --- one message --------------------------------------------------------------------

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` failed ones (exponential, jittered)."""
        base = self.config.backoff_base_seconds * float(2 ** max(attempts - 1, 0))
        delay: float = min(self.config.backoff_cap_seconds, base)
        return delay * (0.5 + self.rng.random() * 0.5)

    async def _deliver(self, claim: Claim) -> None:
        m = claim.message
        assert m.id is not None
        sender = self.senders.get(m.platform)
        if sender is None:  # claims are only made for platforms we have senders for
            return
        try:
            reply = Reply.from_json(m.payload)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("outbox message %s has an unreadable payload: %s", m.id, exc)
            await outbox.mark_dead(self.db, claim=claim, error=f"unreadable payload: {exc}")
            self.stats.dead += 1
            return
        sending = False
        try:
            await self._wait_for_rate(m.platform, m.target, m.kind)
            if self.clock() >= claim.lease_until - dt.timedelta(
                seconds=self.config.lease_seconds / 4
            ):
                renewed = await outbox.renew_lease(
                    self.db, claim=claim, now=self.clock(), lease_seconds=self.config.lease_seconds
                )
                if renewed is None:
                    self.stats.lost_claims += 1
                    log.warning("outbox message %s: claim lost before sending; skipped", m.id)
                    return
                claim = renewed
            if claim.unresolved_before:
                log.warning(
                    "outbox message %s to %s %s was claimed by a process that stopped before "
                    "recording a result; sending it again (it may have arrived already)",
                    m.id,
                    m.platform,
                    m.target,
                )
            sending = True
            try:
                if m.kind == "update":  # an edit of a posted message (jobs/edits.py)
                    result = await send_edit(self.db, sender, m, reply)
                else:
                    result = await sender.send(m, reply)
            except Exception as exc:  # a sender bug or an unexpected network error
                log.exception("sender %s failed on outbox message %s", m.platform, m.id)
                result = SendResult.retry(f"{type(exc).__name__}: {exc}")
        except asyncio.CancelledError:
            if not sending:
                # Shutting down before the send: give the message back untouched.
                with contextlib.suppress(Exception):
                    await asyncio.shield(
                        outbox.mark_retry(
                            self.db,
                            claim=claim,
                            next_attempt_at=self.clock(),
                            error=m.last_error or "",
                            count_attempt=False,
                        )
                    )
            raise
        await self._record(claim, result)

    async def _record(self, claim: Claim, result: SendResult) -> None:
        m = claim.message
        assert m.id is not None
        now = self.clock()
        if result.ok:
            await self._mark_sent(m.id, result.external_ref)
            self.stats.sent += 1
            return
        if result.retry_after is not None:
            wait = min(max(result.retry_after, 0.0), self.config.max_retry_after_seconds)
            self.stats.rate_limited += 1
            # The target waits: its head row is not due until Retry-After has passed.
            await outbox.mark_retry(
                self.db,
                claim=claim,
                next_attempt_at=now + dt.timedelta(seconds=wait),
                error=f"rate limited (Retry-After {wait:g}s)",
                count_attempt=False,
            )
            return
        error = result.error or "failed"
        if result.transient and claim.attempts < self.config.max_attempts:
            delay = self.backoff(claim.attempts)
            self.stats.retried += 1
            log.info(
                "outbox message %s to %s %s failed (%s); retry %d in %.0fs",
                m.id,
                m.platform,
                m.target,
                error,
                claim.attempts,
                delay,
            )
            await outbox.mark_retry(
                self.db,
                claim=claim,
                next_attempt_at=now + dt.timedelta(seconds=delay),
                error=error,
            )
            return
        self.stats.dead += 1
        log.warning(
            "outbox message %s to %s %s is dead after %d attempt(s): %s",
            m.id,
            m.platform,
            m.target,
            claim.attempts,
            error,
        )
        await outbox.mark_dead(self.db, claim=claim, error=error)

    async def _mark_sent(self, message_id: int, external_ref: str | None) -> None:
        """Record a delivery; returns once it is committed. Deliveries that finish while a
        write is in progress are committed together in the next one (group commit), so
        the database keeps up with the platform without widening the window between the
        platform's answer and the record beyond one write."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent_batch.append((message_id, external_ref, fut))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_sent())
        await fut

    async def _flush_sent(self) -> None:
        while self._sent_batch:
            batch, self._sent_batch = self._sent_batch, []
            try:
                await outbox.mark_delivered_many(
                    self.db, items=[(i, ref) for i, ref, _ in batch], now=self.clock()
                )
            except Exception as exc:
                for *_, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for *_, fut in batch:
                if not fut.done():
                    fut.set_result(None)

    # --- loops --------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[Claim]:
        claims = await outbox.claim_due_batch(
            self.db,
            now=self.clock(),
            limit=limit,
            lease_seconds=self.config.lease_seconds,
            platforms=self.platforms,
            claimed_by=self.name,
        )
        self.stats.claimed += len(claims)
        return claims

    async def run_once(self) -> int:
        """Claim one batch and deliver all of it; returns how many were claimed."""
        claims = await self._claim(self.config.batch_size)
        if claims:
            await asyncio.gather(*(self._deliver(c) for c in claims))
        return len(claims)

    async def drain(self, max_rounds: int = 10_000) -> int:
        """Deliver until nothing is due (tests and `jobs run`); returns claims made."""
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            if n == 0:
                break
            total += n
        return total

    def _spawn(self, claim: Claim) -> None:
        task = asyncio.create_task(self._deliver(claim))
        self._inflight.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._inflight.discard(t)
            self._wake.set()
            if not t.cancelled() and t.exception() is not None:
                log.error("outbox delivery failed", exc_info=t.exception())

        task.add_done_callback(done)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver continuously until `stop` is set, then finish what is in flight."""
        cfg = self.config
        log.info("dispatcher %s started (platforms: %s)", self.name, ", ".join(self.platforms))
        while not stop.is_set():
            self._wake.clear()
            free = cfg.max_in_flight - len(self._inflight)
            claimed = requested = 0
            if free >= min(cfg.batch_size, max(cfg.max_in_flight // 2, 1)) or not self._inflight:
                requested = min(free, cfg.batch_size)
                try:
                    claims = await self._claim(requested)
                except DatabaseUnavailable:
                    claims = []
                    log.warning("dispatcher: database unavailable; retrying")
                except Exception:
                    claims = []
                    log.exception("dispatcher: claiming messages failed")
                for c in claims:
                    self._spawn(c)
                claimed = len(claims)
            if claimed and claimed == requested and free > claimed:
                continue  # a full batch: there may be more due right now
            waiters: list[asyncio.Future[object]] = [
                asyncio.ensure_future(self._wake.wait()),
                asyncio.ensure_future(stop.wait()),
            ]
            try:
                await asyncio.wait(
                    waiters, timeout=cfg.poll_seconds, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for w in waiters:
                    w.cancel()
        await self.close()

    async def close(self) -> None:
        """Let in-flight deliveries finish (up to the grace period), cancel the rest."""
        if not self._inflight:
            return
        pending = set(self._inflight)
        _done, still = await asyncio.wait(pending, timeout=self.config.shutdown_grace_seconds)
        for t in still:
            t.cancel()
        if still:
            await asyncio.gather(*still, return_exceptions=True)
        log.info("dispatcher %s stopped: %s", self.name, self.stats)
