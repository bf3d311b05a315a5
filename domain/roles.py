"""Roles and the rules that need no lookup (docs/architecture.md, "Rules users rely on").

Agents see their own figures only; leads their team; managers the teams under them;
admins configure. The checks that need the store (which teams a manager has) are in
handlers/core/access.py.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from domain.errors import NotAllowed


class Role(StrEnum):
    agent = "agent"
    lead = "lead"
    manager = "manager"
    admin = "admin"


LEADERS = (Role.lead, Role.manager)


class HasRole(Protocol):
    @property
    def role(self) -> Role: ...


def require_role(who: HasRole, *roles: Role, doing: str) -> None:
    """Refuse (NotAllowed) unless `who` (an Actor, a Person) has one of `roles`."""
    if who.role not in roles:
        allowed = " or ".join(f"{r.value}s" for r in roles)
        raise NotAllowed(f"Only {allowed} can {doing}.")
