"""Sending an outbox row of kind "update": an edit of a message posted earlier.

A platform sender that can edit implements `Editor` (bot/slack/sender.py: chat.update;
bot/teams/sender.py: updateActivity). The dispatcher calls `send_edit` for such rows;
the edit goes to the message the original row's platform reference names.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from domain.types import Reply
from jobs.delivery import Sender, SendResult
from storage import edits
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus


@runtime_checkable
class Editor(Protocol):
    """A sender that can replace a posted message's content."""

    async def edit(self, message: OutboxMessage, reply: Reply, ref: str) -> SendResult: ...


async def send_edit(
    db: Database, sender: Sender, message: OutboxMessage, reply: Reply
) -> SendResult:
    """Edit the message `message` refers to; retried while that message is not out yet,
    failed when it is gone or the platform cannot edit."""
    if not isinstance(sender, Editor):
        return SendResult.failed(f"{message.platform} messages cannot be edited")
    assert message.id is not None
    original = await edits.edited_by(db, message_id=message.id)
    if original is None or original.status is OutboxStatus.dead:
        return SendResult.failed("the message this edits was never delivered")
    if not original.ready:
        # Per-target order normally sends the original first; this is its send in flight.
        return SendResult.retry("the message this edits is not sent yet")
    assert original.external_ref is not None
    return await sender.edit(message, reply, original.external_ref)
