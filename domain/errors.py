"""Errors a user can cause. The dispatcher turns each into a clear message; nothing changes."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message is shown as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(UserError):
    """Wrong arguments: the message says what was wrong; the usage line is added."""


class NotAllowed(UserError):
    """The actor's role does not allow this."""


class NotFound(UserError):
    """An id, person, team or metric that does not exist."""
