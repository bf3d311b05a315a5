"""The outbox dispatcher: sends pending messages through the platform senders.

- Claims due rows in batches with a short lease (storage.outbox.claim_due_batch), at most
  one row per target at a time, the oldest first, so a target never sees message N+1
  before N. The lease is renewed while the dispatcher holds the rows (every lease / 5),
  so a dispatcher that dies (SIGKILL) leaves rows that are due again within one lease.
- A message is sent only under a claim the dispatcher knows it still holds: the database
  answered, the lease has at least half its length left (or was just renewed), and no
  database write of this dispatcher has failed since. When the database can't be
  reached, sending stops at once (one warning); what the platform accepted meanwhile is
  kept in memory and recorded when the database is back, claims not sent are handed
  back, and delivery resumes within `probe_seconds` of its return (one warning).
- Waits for the platform's rate limits: per target a local token bucket; app-wide
  (Slack's workspace, Teams' tenant) a budget shared by every dispatcher through the
  database (storage.outbox.reserve_rate), so N clock processes stay within one limit.
  The numbers are in DEFAULT_LIMITS.
- A 429 puts the message back with its Retry-After; its target waits, others go on.
- 5xx and network errors are retried with exponential backoff and jitter; after
  `max_attempts` the message is dead with its last error (`leadbot outbox retry ID`).
- A message is marked sent right after the platform accepts it (group commit). A process
  killed in the gap between the platform's answer and that write leaves a claimed row
  whose lease runs out; the next claim sends it again (at-least-once:
  docs/operations/scheduler.md): at most the messages in flight at the kill, each tagged
  with its outbox id.
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
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from domain.types import Reply
from handlers.core.context import Clock, system_clock
from jobs.delivery import Sender, SendResult
from jobs.edits import send_edit
from storage import outbox
from storage.db import Database, DatabaseUnavailable, describe_error, is_connection_error
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
        self._left = self.tokens  # what the last acquire() left

    async def acquire(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Wait for a token. Only the first in line sleeps, and it re-checks after waking,
        so a stalled event loop never releases more than `capacity` sends at once."""
        async with self._lock:
            self._refill()
            while self.tokens < 1 - 1e-9:  # (rounding must not leave it a hair short)
                await sleep((1 - self.tokens) / self.fill)
                self._refill()
            self.tokens = max(self.tokens - 1, 0.0)
            self._left = self.tokens

    def used_now(self) -> None:
        """The token of the last acquire() is being used only now: what refilled since
        does not count, so waiting elsewhere in between never bunches the next sends."""
        self.tokens = min(self.tokens, self._left)
        self.updated = self._monotonic()

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


# A reserved slot of a shared budget is used at most this late (after its time, or after
# it was reserved if that was later); a later one is dropped, never saved up, so a
# process that stalled does not send a bunch of old slots at once.
LATE_SLOT_SECONDS = 0.1


class SharedBudget:
    """An app-wide Rate shared by every dispatcher on one database.

    Slots are reserved from the database a few at a time (storage.outbox.reserve_rate: a
    GCRA in one row, so dispatchers get disjoint slots) and used in order; each send waits
    for its slot. A slot not used within LATE_SLOT_SECONDS (the process stalled, or had
    fewer messages than it reserved for) is dropped: a dispatcher can only send less than
    its share, not more. Since a slot may be used that late, the burst is kept short of
    the Rate's by what that lateness could add (rate x LATE_SLOT_SECONDS), so that in any
    second the sends stay within the Rate's burst plus its rate. A reservation that fails
    raises (the database is down)."""

    def __init__(
        self,
        db: Database,
        key: str,
        rate: Rate,
        *,
        wall: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        block_seconds: float = 0.25,
    ) -> None:
        self.db = db
        self.key = key
        self.interval = rate.per_seconds / rate.count
        burst = float(rate.burst if rate.burst is not None else rate.count)
        self.burst = max(1.0, burst - LATE_SLOT_SECONDS / self.interval)
        self.block = max(1, int(block_seconds / self.interval))
        self._wall = wall
        self._sleep = sleep
        self._slots: deque[tuple[float, float]] = deque()  # (slot, usable from)
        self._lock = asyncio.Lock()
        self._waiting = 0
        self.reservations = 0
        self.dropped = 0

    async def acquire(self) -> None:
        self._waiting += 1
        try:
            async with self._lock:
                now = self._wall()
                while self._slots and now - self._slots[0][1] > LATE_SLOT_SECONDS:
                    self._slots.popleft()
                    self.dropped += 1
                if not self._slots:
                    n = min(self._waiting, self.block)
                    first = await outbox.reserve_rate(
                        self.db,
                        key=self.key,
                        now=now,
                        count=n,
                        interval=self.interval,
                        burst=self.burst,
                    )
                    self.reservations += 1
                    # (Its first slots may lie in the past: the bucket was full.)
                    reserved = self._wall()
                    for i in range(n):
                        slot = first + i * self.interval
                        self._slots.append((slot, max(slot, reserved)))
                slot, _usable = self._slots.popleft()
                wait = slot - self._wall()
                if wait > 0:
                    await self._sleep(wait)
        finally:
            self._waiting -= 1

    def drop(self) -> None:
        """Forget reserved slots (after a database outage they are stale anyway)."""
        self._slots.clear()


@dataclass(frozen=True)
class DispatcherConfig:
    batch_size: int = 200
    max_in_flight: int = 200
    # A claim's lease: renewed every lease / 5 while the claim is held, so a dispatcher
    # that dies leaves its rows due again within this long.
    lease_seconds: float = 10.0
    poll_seconds: float = 1.0
    # While the database is unavailable: how often its return is checked.
    probe_seconds: float = 0.5
    # After an outage, rows whose lease ran out under another dispatcher's claim are left
    # alone this long, so that one (if alive) records what it sent before they are sent.
    settle_seconds: float = 5.0
    # Sending waits while a delivery the platform accepted has waited longer than this to
    # be recorded (a database that hangs instead of failing): what could be sent twice
    # if this process then died stays within this many seconds of sending.
    max_record_lag_seconds: float = 2.0
    # Claim no more than the app-wide budgets let this dispatcher send in this long: a
    # dispatcher that dies leaves only that much waiting out its lease (the rest is free
    # for the next one at once), and two dispatchers split a fan-out between them.
    claim_ahead_seconds: float = 2.0
    max_attempts: int = 11  # about 23-47 minutes of backoff before a message is dead
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 900.0
    max_retry_after_seconds: float = 3600.0
    # A message whose recipient can't be reached yet (SendResult.waiting) is tried again
    # this long after (sooner when they are mapped, or leadbot joins the channel).
    unreachable_recheck_seconds: float = 6 * 3600.0
    shutdown_grace_seconds: float = 10.0
    # App-wide limits (DEFAULT_LIMITS' `app`) shared through the database by every
    # dispatcher on it; False keeps a token bucket per process (N processes, N budgets).
    shared_rate: bool = True
    limits: Mapping[str, PlatformLimits] = field(default_factory=lambda: dict(DEFAULT_LIMITS))


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    rate_limited: int = 0
    retried: int = 0
    dead: int = 0
    parked: int = 0  # waiting for a recipient leadbot can't reach yet
    lost_claims: int = 0
    resent: int = 0  # claimed after another claim ended without a result
    outages: int = 0
    recorded_late: int = 0  # sent while the database was away, recorded on its return
    handed_back: int = 0  # claims not sent, given back after an outage


def default_node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Hold:
    """A claim this dispatcher holds, while a delivery task works on it."""

    claim: Claim
    lost: bool = False  # the lease ran out and another claim took the row
    sending: bool = False  # handed to the sender (the claim is past its last check)


# A delivery the platform accepted, waiting to be recorded: (message id, external ref,
# the future its delivery task waits on, when it was accepted: time.monotonic()).
_Sent = tuple[int, str | None, "asyncio.Future[None]", float]


# The sender could not run for want of the database (e.g. the Teams sender's reads):
# nothing was sent; the message goes back, due at once, without using an attempt.
_NOT_SENT = SendResult(ok=False, retry_after=0.0, error="database unavailable")


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
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        name: str | None = None,
    ) -> None:
        self.db = db
        self.senders = dict(senders)
        self.config = config or DispatcherConfig()
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.wall = wall
        self.rng = rng or random.Random()
        # Unique per instance: the claim token names it (two dispatchers in one process,
        # or a pid reused after a restart, never share claims).
        self.name = name or f"{default_node_name()}:{uuid.uuid4().hex[:6]}"
        self.stats = DispatchStats()
        self._app_buckets: dict[str, list[TokenBucket | SharedBudget]] = {}
        self._kind_buckets: dict[str, list[TokenBucket]] = {}  # "PLATFORM:KIND" (edits)
        self._target_buckets: dict[tuple[str, str], list[TokenBucket]] = {}
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._holds: dict[int, _Hold] = {}
        self._sent_batch: list[_Sent] = []
        self._writing: list[_Sent] = []  # the group commit in progress
        self._flusher: asyncio.Task[bool] | None = None
        self._progress = asyncio.Event()  # set (and replaced) on each record or outage
        self._claim_lock = asyncio.Lock()
        self._up = asyncio.Event()  # set while the database answers
        self._up.set()
        self._down_since = 0.0
        self._recovery: asyncio.Task[None] | None = None
        self._take_over_at = 0.0  # time.monotonic() from which expired claims are taken

    @property
    def platforms(self) -> list[str]:
        # Console rows are shown by the console itself, never sent.
        return sorted(p for p in self.senders if p != "console")

    @property
    def database_up(self) -> bool:
        """False from a failed database write until the database answers again."""
        return self._up.is_set()

    def wake(self) -> None:
        """Look for due messages now (e.g. right after enqueueing)."""
        self._wake.set()

    # --- rate limits ------------------------------------------------------------------

    def _limits(self, platform: str) -> PlatformLimits:
        return self.config.limits.get(platform, PlatformLimits(app=(), per_target=()))

    def _app_budgets(self, platform: str) -> list[TokenBucket | SharedBudget]:
        app = self._app_buckets.get(platform)
        if app is None:
            rates = self._limits(platform).app
            if self.config.shared_rate:
                app = [
                    SharedBudget(self.db, f"{platform}:{i}", r, wall=self.wall, sleep=self.sleep)
                    for i, r in enumerate(rates)
                ]
            else:
                app = [TokenBucket(r, self.monotonic) for r in rates]
            self._app_buckets[platform] = app
        return app

    def _buckets_for(self, platform: str, target: str) -> list[TokenBucket]:
        key = (platform, edit_base_target(target))  # an edit counts against its channel
        per = self._target_buckets.get(key)
        if per is None:
            if len(self._target_buckets) > 10_000:
                self._prune_buckets()
            per = self._target_buckets[key] = [
                TokenBucket(r, self.monotonic) for r in self._limits(platform).per_target
            ]
        return per

    def _prune_buckets(self) -> None:
        for key in [k for k, bs in self._target_buckets.items() if all(b.idle() for b in bs)]:
            del self._target_buckets[key]

    async def _wait_for_rate(self, platform: str, target: str, kind: str = "message") -> None:
        # The target first, then the app-wide budget, so a slow target does not hold
        # app-wide slots that other targets could use. Rows of another kind than
        # "message" (edits) have their own app-wide limits on top ("PLATFORM:KIND").
        extra = self._app_buckets_for(f"{platform}:{kind}") if kind != "message" else []
        per_target = self._buckets_for(platform, target)
        for bucket in (*per_target, *extra):
            await bucket.acquire(self.sleep)
        for budget in self._app_budgets(platform):
            if isinstance(budget, SharedBudget):
                await budget.acquire()
            else:
                await budget.acquire(self.sleep)
        # A target's spacing (Slack: 1 a second per channel) counts from the send: the
        # wait for the app-wide budget must not let its next message come sooner.
        for bucket in per_target:
            bucket.used_now()

    def _app_buckets_for(self, key: str) -> list[TokenBucket]:
        buckets = self._kind_buckets.get(key)
        if buckets is None:
            rates = self._limits(key).app
            buckets = self._kind_buckets[key] = [TokenBucket(r, self.monotonic) for r in rates]
        return buckets

    # --- one message --------------------------------------------------------------------

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after `attempts` failed ones (exponential, jittered)."""
        base = self.config.backoff_base_seconds * float(2 ** max(attempts - 1, 0))
        delay: float = min(self.config.backoff_cap_seconds, base)
        return delay * (0.5 + self.rng.random() * 0.5)

    def _hold(self, claim: Claim) -> _Hold:
        assert claim.message.id is not None
        old = self._holds.get(claim.message.id)
        if old is not None:  # claimed again: the earlier claim's lease ran out
            old.lost = True
        hold = self._holds[claim.message.id] = _Hold(claim)
        return hold

    async def _deliver(self, claim: Claim) -> None:
        m = claim.message
        assert m.id is not None
        hold = self._holds.get(m.id)
        if hold is None or hold.claim is not claim:
            hold = self._hold(claim)
        try:
            await self._deliver_held(hold)
        finally:
            if self._holds.get(m.id) is hold:
                del self._holds[m.id]

    async def _deliver_held(self, hold: _Hold) -> None:
        m = hold.claim.message
        sender = self.senders.get(m.platform)
        if sender is None:  # claims are only made for platforms we have senders for
            return
        try:
            reply = Reply.from_json(m.payload)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("outbox message %s has an unreadable payload: %s", m.id, exc)
            await self._record(hold, SendResult.failed(f"unreadable payload: {exc}"))
            return
        sending = False
        try:
            if not await self._clear_to_send(hold):
                self.stats.lost_claims += 1
                log.warning("outbox message %s: claim lost before sending; skipped", m.id)
                return
            sending = hold.sending = True
            try:
                if m.kind == "update":  # an edit of a posted message (jobs/edits.py)
                    result = await send_edit(self.db, sender, m, reply)
                else:
                    result = await sender.send(m, reply)
            except DatabaseUnavailable as exc:  # the sender's own reads or writes
                self._begin_outage(exc)
                result = _NOT_SENT
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
                            claim=hold.claim,
                            next_attempt_at=self.clock(),
                            error=m.last_error or "",
                            count_attempt=False,
                        )
                    )
            raise
        await self._record(hold, result)

    async def _clear_to_send(self, hold: _Hold) -> bool:
        """Wait for the rate limits and a database that answers; True when the claim is
        still held (checked last, with no wait between the check and the send), False
        when it was lost."""
        m = hold.claim.message
        margin = dt.timedelta(seconds=self.config.lease_seconds / 2)
        while True:
            if not self._up.is_set():
                await self._up.wait()
            if hold.lost:
                return False
            if self._record_lag() > self.config.max_record_lag_seconds:
                # The database takes too long to record what was sent: no more until
                # it has (or fails, and delivery pauses).
                await self._progress.wait()
                continue
            try:
                await self._wait_for_rate(m.platform, m.target, m.kind)
                if not self._up.is_set():
                    continue  # it went away while this message waited: wait again
                if hold.lost:
                    return False
                if self._record_lag() > self.config.max_record_lag_seconds:
                    continue
                if self.clock() >= hold.claim.lease_until - margin:
                    renewed = await outbox.renew_lease(
                        self.db,
                        claim=hold.claim,
                        now=self.clock(),
                        lease_seconds=self.config.lease_seconds,
                    )
                    if renewed is None:
                        hold.lost = True
                        return False
                    hold.claim = renewed
            except Exception as exc:  # the shared budget's or the lease's write failed
                self._begin_outage(exc)
                continue
            if self._up.is_set() and not hold.lost:
                return True

    async def _record(self, hold: _Hold, result: SendResult) -> None:
        """Record a result; while the database is away, wait for it (a delivery the
        platform accepted is never forgotten while this process lives)."""
        while True:
            try:
                await self._record_once(hold.claim, result)
                return
            except Exception as exc:
                self._begin_outage(exc)
                await self._up.wait()

    async def _record_once(self, claim: Claim, result: SendResult) -> None:
        m = claim.message
        assert m.id is not None
        now = self.clock()
        if result.ok:
            await self._mark_sent(m.id, result.external_ref)
            self.stats.sent += 1
            return
        if result is _NOT_SENT:
            await outbox.mark_retry(
                self.db, claim=claim, next_attempt_at=now, error="", count_attempt=False
            )
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
        if result.unreachable:
            self.stats.parked += 1
            log.info("outbox message %s to %s is waiting: %s", m.id, m.platform, error)
            await outbox.mark_retry(
                self.db,
                claim=claim,
                next_attempt_at=now + dt.timedelta(seconds=self.config.unreachable_recheck_seconds),
                error=outbox.UNREACHABLE + error,
                count_attempt=False,
            )
            return
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
        if not error.startswith("unreadable payload"):
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
        platform's answer and the record beyond one write. While the database is away the
        deliveries wait here, in memory, and are committed when it is back."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent_batch.append((message_id, external_ref, fut, time.monotonic()))
        if self._up.is_set():
            self._kick_flusher()
        await fut

    def _kick_flusher(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_sent())

    async def _flush_sent(self) -> bool:
        try:
            await self._write_sent()
        except Exception as exc:
            self._begin_outage(exc)
            return False
        return True

    async def _write_sent(self) -> int:
        """Commit the deliveries waiting to be recorded; returns how many. On failure
        they stay waiting (and the error is raised)."""
        written = 0
        while self._sent_batch:
            batch, self._sent_batch = self._sent_batch, []
            self._writing = batch
            try:
                await outbox.mark_delivered_many(
                    self.db, items=[(i, ref) for i, ref, *_ in batch], now=self.clock()
                )
            except BaseException:
                self._sent_batch = batch + self._sent_batch
                raise
            finally:
                self._writing = []
            written += len(batch)
            for _i, _ref, fut, _t in batch:
                if not fut.done():
                    fut.set_result(None)
            self._signal_progress()
        return written

    def _unrecorded(self) -> int:
        return len(self._writing) + len(self._sent_batch)

    @property
    def unrecorded(self) -> list[int]:
        """Outbox ids the platform accepted that are waiting to be recorded as sent."""
        return [item[0] for item in (*self._writing, *self._sent_batch)]

    def _record_lag(self) -> float:
        """Seconds the oldest delivery waiting to be recorded has waited (0 if none)."""
        oldest = self._writing[:1] or self._sent_batch[:1]
        return time.monotonic() - oldest[0][3] if oldest else 0.0

    def _signal_progress(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    # --- the database going away and coming back ----------------------------------------

    def _begin_outage(self, exc: BaseException) -> None:
        """Stop sending: called by whatever database write of the dispatcher failed."""
        if not self._up.is_set():
            return
        self._up.clear()
        self._down_since = time.monotonic()
        self.stats.outages += 1
        for budget in (b for bs in self._app_buckets.values() for b in bs):
            if isinstance(budget, SharedBudget):
                budget.drop()
        self._signal_progress()
        pending = self._unrecorded()
        if is_connection_error(exc):
            log.warning(
                "outbox delivery paused (dispatcher %s): the database is unavailable (%s); "
                "nothing is sent until it answers again (%d message(s) sent and waiting to "
                "be recorded, %d claimed)",
                self.name,
                describe_error(exc),
                pending,
                len(self._holds),
            )
        else:
            log.error(
                "outbox delivery paused (dispatcher %s): a database write failed (%d "
                "message(s) sent and waiting to be recorded, %d claimed)",
                self.name,
                pending,
                len(self._holds),
                exc_info=exc,
            )
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.create_task(self._recover(is_connection_error(exc)))

    async def _recover(self, connection_error: bool) -> None:
        """Probe until the database answers; then record, hand back and renew, and
        resume sending."""
        delay = (
            self.config.probe_seconds if connection_error else max(self.config.probe_seconds, 5.0)
        )
        while True:
            await asyncio.sleep(delay)
            try:
                recorded, handed_back, lost = await self._restore()
            except Exception as exc:
                log.debug("database still unavailable: %s", describe_error(exc))
                continue
            break
        down = time.monotonic() - self._down_since
        self.stats.recorded_late += recorded
        self.stats.handed_back += handed_back
        self._take_over_at = time.monotonic() + self.config.settle_seconds
        self._up.set()
        self._signal_progress()
        self._wake.set()
        log.warning(
            "outbox delivery resumed (dispatcher %s): the database answered again after "
            "%.1fs; recorded %d message(s) sent while it was away, handed back %d claim(s) "
            "not sent%s",
            self.name,
            down,
            recorded,
            handed_back,
            f", {lost} claim(s) lost to another dispatcher" if lost else "",
        )

    async def _restore(self) -> tuple[int, int, int]:
        async with self._claim_lock:  # no claim in flight while claims are handed back
            if self._flusher is not None and not self._flusher.done():
                await asyncio.wait([self._flusher])
            recorded = await self._write_sent()
            holds = dict(self._holds)
            now = self.clock()
            handed_back = await outbox.release_claims(
                self.db, claimed_by=self.name, keep=list(holds), now=now
            )
            still = await outbox.renew_leases(
                self.db,
                claimed_by=self.name,
                held=[(i, h.claim.attempts) for i, h in holds.items()],
                now=now,
                lease_seconds=self.config.lease_seconds,
            )
        until = now + dt.timedelta(seconds=self.config.lease_seconds)
        lost = 0
        for i, h in holds.items():
            if i in still:
                h.claim = h.claim.renewed(until)
            elif not h.sending:
                h.lost = True
                lost += 1
        return recorded, handed_back, lost

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """Renew the leases of every claim held, every lease / 5 (the heartbeat)."""
        interval = self.config.lease_seconds / 5
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            if stop.is_set() or not self._up.is_set() or not self._holds:
                continue
            holds = dict(self._holds)
            now = self.clock()
            try:
                still = await outbox.renew_leases(
                    self.db,
                    claimed_by=self.name,
                    held=[(i, h.claim.attempts) for i, h in holds.items()],
                    now=now,
                    lease_seconds=self.config.lease_seconds,
                )
            except Exception as exc:
                self._begin_outage(exc)
                continue
            until = now + dt.timedelta(seconds=self.config.lease_seconds)
            for i, h in holds.items():
                if i in still:
                    if h.claim.lease_until < until:
                        h.claim = h.claim.renewed(until)
                elif not h.sending and self._holds.get(i) is h:
                    h.lost = True

    # --- loops --------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[Claim]:
        claims = await outbox.claim_due_batch(
            self.db,
            now=self.clock(),
            limit=limit,
            lease_seconds=self.config.lease_seconds,
            platforms=self.platforms,
            claimed_by=self.name,
            take_over=time.monotonic() >= self._take_over_at,
        )
        self.stats.claimed += len(claims)
        again = [c for c in claims if c.unresolved_before]
        if again:
            self.stats.resent += len(again)
            log.warning(
                "%d outbox message(s) were claimed before by %s, whose lease ran out before "
                "it recorded a result (it stopped, or lost the database): sending them "
                "again; some may have arrived already (each carries its outbox id): %s",
                len(again),
                ", ".join(sorted({c.previous_claimer or "?" for c in again})),
                ", ".join(str(c.message.id) for c in again[:20])
                + (" ..." if len(again) > 20 else ""),
            )
        return claims

    async def run_once(self) -> int:
        """Claim one batch and deliver all of it; returns how many were claimed."""
        async with self._claim_lock:
            claims = await self._claim(self.config.batch_size)
            for c in claims:
                self._hold(c)
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

    def _in_flight_cap(self) -> int:
        """max_in_flight, or fewer: what the app-wide budgets allow in claim_ahead_seconds."""
        per_second = 0.0
        for platform in self.platforms:
            rates = self._limits(platform).app
            if not rates:
                return self.config.max_in_flight  # no app-wide limit: no cap from it
            per_second += min(r.count / r.per_seconds for r in rates)
        ahead = int(per_second * self.config.claim_ahead_seconds + 0.999)
        return (
            max(1, min(self.config.max_in_flight, ahead))
            if per_second
            else self.config.max_in_flight
        )

    def _spawn(self, claim: Claim) -> None:
        self._hold(claim)
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
        keeper = asyncio.create_task(self._keep_leases(stop))
        try:
            cap = self._in_flight_cap()
            while not stop.is_set():
                self._wake.clear()
                free = cap - len(self._inflight)
                claimed = requested = 0
                wanted = free >= min(cfg.batch_size, max(cap // 2, 1))
                if self._up.is_set() and (wanted or not self._inflight):
                    requested = min(free, cfg.batch_size)
                    try:
                        async with self._claim_lock:
                            claims = await self._claim(requested)
                            for c in claims:
                                self._spawn(c)
                    except Exception as exc:
                        claims = []
                        self._begin_outage(exc)
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
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self.close()

    async def close(self) -> None:
        """Let in-flight deliveries finish (up to the grace period), cancel the rest."""
        if self._inflight:
            pending = set(self._inflight)
            _done, still = await asyncio.wait(pending, timeout=self.config.shutdown_grace_seconds)
            for t in still:
                t.cancel()
            if still:
                await asyncio.gather(*still, return_exceptions=True)
        if self._recovery is not None and not self._recovery.done():
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        if self._sent_batch:
            log.warning(
                "dispatcher %s stopped with the database unavailable: %d message(s) the "
                "platform accepted could not be recorded and will be sent again by the "
                "next dispatcher (outbox ids %s)",
                self.name,
                len(self._sent_batch),
                ", ".join(str(item[0]) for item in self._sent_batch[:20]),
            )
        log.info("dispatcher %s stopped: %s", self.name, self.stats)
