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
    permanent: will never work (unknown channel, app not installed); the message goes dead.
    """

    ok: bool
    external_ref: str | None = None
    retry_after: float | None = None
    transient: bool = False
    error: str | None = None

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


class Sender(Protocol):
    """Sends outbox messages of one platform."""

    platform: str

    async def send(self, message: OutboxMessage, reply: Reply) -> SendResult: ...
