"""The contract between the outbox dispatcher (jobs/) and platform senders (bot/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.types import Reply
from storage.models import OutboxMessage


@dataclass(frozen=True)
class SendResult:
    """What happened to one send attempt.

    ok: delivered (external_ref is e.g. Slack's message ts).
    retry_after: rate limited; try again after this many seconds (HTTP 429 Retry-After).
    transient: 5xx, timeout, network error; retried with backoff.
    permanent: will never work (app not installed, invalid blocks); the message goes dead.
    unreachable: the recipient can't be reached yet (no platform user with their email,
    a channel leadbot is not in): the message waits, pending, until they are mapped or
    leadbot joins (storage.outbox.reroute_person_in / requeue_unreachable), and is tried
    again every DispatcherConfig.unreachable_recheck_seconds meanwhile.
    """

    ok: bool
    external_ref: str | None = None
    retry_after: float | None = None
    transient: bool = False
    error: str | None = None
    unreachable: bool = False

    @classmethod
    def sent(cls, ref: str | None = None) -> SendResult:
        return cls(ok=True, external_ref=ref)

    @classmethod
    def rate_limited(cls, seconds: float) -> SendResult:
        return cls(ok=False, retry_after=seconds, error="rate limited")

    @classmethod
    def retry(cls, error: str) -> SendResult:
        return cls(ok=False, transient=True, error=error)

    @classmethod
    def failed(cls, error: str) -> SendResult:
        return cls(ok=False, error=error)

    @classmethod
    def waiting(cls, error: str) -> SendResult:
        """The recipient can't be reached yet: park the message (see `unreachable`)."""
        return cls(ok=False, error=error, unreachable=True)


class Sender(Protocol):
    """Sends outbox messages of one platform."""

    platform: str

    async def send(self, message: OutboxMessage, reply: Reply) -> SendResult: ...
