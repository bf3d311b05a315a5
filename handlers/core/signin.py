"""The seam for signing in to the web dashboard through chat (docs/security.md,
"Dashboard sign-in"): `/leadbot dashboard` (handlers/leadbot) issues a link, the web
routes (bot/web) redeem it and look sessions up. Nothing here is a password.

- A link is `BASE/dashboard/signin?t=PERSON.EXPIRES.NONCE.SIGNATURE`: HMAC-SHA256 with
  LEADBOT_SECRET over the person, the expiry and a random nonce, so a changed person or
  expiry is refused before the store is asked; the store keeps only a hash of the nonce,
  with the person it was issued to, and the one request that redeems it marks it used.
- A session is a random cookie value; the store keeps its hash, its person, its expiry
  and a CSRF token for the requests that change something.
- Who a session is, and so what they may see, is read from the person's CURRENT row on
  every request (`session_actor`), as chat does: a role change applies at once, and a
  person made inactive is signed out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from domain.errors import UserError
from domain.types import Actor, Context, Header, Reply, Text
from handlers.core.context import HandlerContext
from handlers.core.notify import person_message
from storage import dashboard as store
from storage import people
from storage.models import Person

__all__ = [
    "LINK_PATH",
    "NewSession",
    "SessionInfo",
    "actor_of",
    "issue_link",
    "link_claim",
    "link_person",
    "redeem_link",
    "session_actor",
    "sign_out",
]

LINK_PATH = "/dashboard/signin"
_LINK_PURPOSE = b"leadbot-dashboard-link:"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _signature(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), _LINK_PURPOSE + payload.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LinkClaim:
    """What a correctly signed link says: whose it is, until when, and its nonce."""

    person_id: int
    expires_at: dt.datetime
    nonce: str


def make_token(secret: str, *, person_id: int, expires_at: dt.datetime, nonce: str) -> str:
    """The signed token of a link (exposed for tests that forge one)."""
    payload = f"{person_id}.{int(expires_at.timestamp())}.{nonce}"
    return f"{payload}.{_signature(secret, payload)}"


def link_claim(secret: str, token: str) -> LinkClaim | None:
    """The claim of a token whose signature holds (expiry not checked here), else None."""
    parts = token.split(".")
    if len(parts) != 4 or len(token) > 300:
        return None
    pid, expires, nonce, sig = parts
    if not (pid.isdigit() and expires.isdigit() and nonce):
        return None
    expected = _signature(secret, f"{pid}.{expires}.{nonce}")
    if not hmac.compare_digest(expected, sig):
        return None
    return LinkClaim(int(pid), dt.datetime.fromtimestamp(int(expires), dt.UTC), nonce)


def actor_of(p: Person) -> Actor:
    """The Actor behind a person row, as the chat adapters build it."""
    assert p.id is not None
    return Actor(
        person_id=p.id,
        email=p.email,
        name=p.display_name,
        role=p.role,
        team_id=p.team_id,
        timezone=p.timezone,
    )


def _link_reply(url: str, minutes: int) -> Reply:
    text = (
        f"Your leadbot dashboard: {url}\n"
        f"The link works once, for you only, for {minutes} minutes. "
        "Don't forward it: whoever opens it first is signed in as you."
    )
    return Reply(
        blocks=[
            Header("Your dashboard sign-in link"),
            Text(text),
            Context("Asked for it by mistake? Ignore it: it expires on its own."),
        ],
        text=text,
    )


MAX_OPEN_LINKS = 5  # unused, unexpired links one person may hold at once


async def issue_link(ctx: HandlerContext, person: Person) -> str:
    """Create a one-time link for `person` and enqueue the DM that carries it; the URL.

    Raises ValueError when the dashboard is off (DASHBOARD_BASE_URL unset), and UserError
    when the person already holds MAX_OPEN_LINKS links they could use."""
    base = ctx.settings.dashboard_base_url
    if not base:
        raise ValueError("the dashboard is off")
    assert person.id is not None
    now = ctx.now()
    minutes = ctx.settings.dashboard_link_minutes
    if await store.open_links(ctx.db, person_id=person.id, now=now) >= MAX_OPEN_LINKS:
        raise UserError(
            f"You already have {MAX_OPEN_LINKS} sign-in links waiting in your direct "
            f"messages; use the latest, or ask again in {minutes} minutes."
        )
    expires = (now + dt.timedelta(minutes=minutes)).replace(microsecond=0)
    nonce = secrets.token_urlsafe(18)
    token = make_token(ctx.settings.secret, person_id=person.id, expires_at=expires, nonce=nonce)
    url = f"{base}{LINK_PATH}?t={token}"
    dm = person_message(
        ctx, person, _link_reply(url, minutes), dedupe_key=f"dashboard:link:{nonce}", asked_for=True
    )
    await store.create_link(
        ctx.db,
        person_id=person.id,
        nonce_hash=_digest(nonce),
        expires_at=expires,
        now=now,
        messages=[dm],
    )
    return url


async def link_person(ctx: HandlerContext, token: str) -> Person | None:
    """Whose a link is, while it can still be used (signed, unexpired, unused, theirs,
    and they are active); reads only, so opening the link uses nothing up."""
    claim = link_claim(ctx.settings.secret, token)
    now = ctx.now()
    if claim is None or claim.expires_at <= now:
        return None
    usable = await store.link_usable(
        ctx.db, nonce_hash=_digest(claim.nonce), person_id=claim.person_id, now=now
    )
    if not usable:
        return None
    person = await people.get_person(ctx.db, person_id=claim.person_id)
    return person if person is not None and person.active else None


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the cookie value to set (shown once) and when it ends."""

    cookie: str
    person_id: int
    expires_at: dt.datetime


async def redeem_link(ctx: HandlerContext, token: str) -> NewSession | None:
    """Use a link: a new session for its person, or None when the link is forged, for
    another person, expired, used before, or its person is no longer active."""
    claim = link_claim(ctx.settings.secret, token)
    now = ctx.now()
    if claim is None or claim.expires_at <= now:
        return None
    person = await people.get_person(ctx.db, person_id=claim.person_id)
    if person is None or not person.active:
        return None
    cookie = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(hours=ctx.settings.dashboard_session_hours)
    ok = await store.sign_in(
        ctx.db,
        nonce_hash=_digest(claim.nonce),
        person_id=claim.person_id,
        now=now,
        token_hash=_digest(cookie),
        csrf_token=secrets.token_urlsafe(24),
        expires_at=expires,
    )
    return NewSession(cookie, claim.person_id, expires) if ok else None


@dataclass(frozen=True)
class SessionInfo:
    """A signed-in browser: who it is now (current role and team) and its CSRF token."""

    actor: Actor
    csrf_token: str
    expires_at: dt.datetime


async def session_actor(ctx: HandlerContext, cookie: str) -> SessionInfo | None:
    """The person a session cookie belongs to, read afresh; None when signed out."""
    if not cookie or len(cookie) > 200:
        return None
    found = await store.get_session(ctx.db, token_hash=_digest(cookie), now=ctx.now())
    if found is None:
        return None
    person = await people.get_person(ctx.db, person_id=found.person_id)
    if person is None or not person.active:
        return None
    return SessionInfo(actor_of(person), found.csrf_token, found.expires_at)


async def sign_out(ctx: HandlerContext, cookie: str) -> bool:
    """End the session a cookie names."""
    return await store.end_session(ctx.db, token_hash=_digest(cookie))
