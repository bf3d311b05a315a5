"""Keyed hashes that tie a pulse answer to "the same respondent" without naming them."""

from __future__ import annotations

import hashlib
import hmac


def respondent_hash(secret: str, *, round_id: int, person_id: int) -> str:
    """HMAC-SHA256 of (round, person) with the server secret (LEADBOT_SECRET).

    Scoped to the round, so hashes cannot be joined across rounds either; without the
    secret nothing in the database ties a score to a person.
    """
    msg = f"pulse:{round_id}:{person_id}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()
