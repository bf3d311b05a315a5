"""The Slack HTTP edge: what a request must be before anything reads it.

Order matters (docs/security.md): the signature is checked on the raw bytes first, so an
unsigned body is never parsed; a signed body that is malformed gets a 400 and one log
line; a replay of a signed request inside Slack's five-minute window is answered without
acting again; reply URLs are only ever Slack's own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Slack signs `v0:{timestamp}:{body}` and refuses requests older than five minutes.
SIGNATURE_WINDOW_SECONDS = 300
MAX_NESTING = 20  # Slack payloads are a handful of levels deep


def signature_ok(secret: str, headers: Mapping[str, str], raw: bytes, now: float) -> bool:
    """True when the request carries Slack's valid, fresh signature of exactly these bytes."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isdigit() and signature.startswith("v0=")):
        return False
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def parse_body(text: str, content_type: str) -> Any:
    """A request body as Slack sent it: JSON (events), `payload=` JSON (interactivity) or
    form fields (slash commands). ValueError when it doesn't parse.

    slack-bolt's own parser treats any form body that merely contains the word "payload"
    (`/action @maria fix the payload parser`) as an interactive payload and loses the
    command; this one looks for the field.
    """
    if content_type.startswith("application/json") or text.startswith("{"):
        return json.loads(text)
    fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
    if "payload" in fields:
        return json.loads(fields["payload"])
    return fields


def _depth_and_nul(obj: Any, depth: int = 0) -> str | None:
    if depth > MAX_NESTING:
        return "nested too deeply"
    if isinstance(obj, str):
        return "text with a NUL character" if "\x00" in obj else None
    if isinstance(obj, dict):
        children: Iterable[Any] = (*obj.keys(), *obj.values())
    elif isinstance(obj, list):
        children = obj
    else:
        return None
    for child in children:
        problem = _depth_and_nul(child, depth + 1)
        if problem:
            return problem
    return None


def _need(body: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, kind):
        return None
    return f"`{key}` is a {type(value).__name__}"


def _actions_problem(actions: Any) -> str | None:
    if actions is None:
        return None
    if not isinstance(actions, list):
        return "`actions` is not a list"
    for a in actions:
        if not isinstance(a, dict):
            return "an action is not an object"
        for key in ("action_id", "value", "block_id", "action_ts"):
            if a.get(key) is not None and not isinstance(a[key], str):
                return f"an action's `{key}` is a {type(a[key]).__name__}"
    return None


def _interactive_problem(body: Mapping[str, Any]) -> str | None:
    for key, kind in (
        ("type", str),
        ("user", dict),
        ("view", dict),
        ("container", dict),
        ("channel", dict),
        ("response_url", str),
        ("trigger_id", str),
    ):
        problem = _need(body, key, kind)
        if problem:
            return problem
    user = body.get("user") or {}
    if not isinstance(user.get("id", ""), str):
        return "`user.id` is not text"
    view = body.get("view") or {}
    for key, kind in (("private_metadata", str), ("state", dict), ("callback_id", str)):
        problem = _need(view, key, kind)
        if problem:
            return "view " + problem
    return _actions_problem(body.get("actions"))


def payload_problem(body: Any) -> str | None:
    """What is wrong with a parsed, signed body, or None when leadbot can read it."""
    if not isinstance(body, dict):
        return f"the payload is a {type(body).__name__}, not an object"
    problem = _depth_and_nul(body)
    if problem:
        return problem
    if "command" in body:  # a slash command: form fields, all text
        bad = [k for k, v in body.items() if not isinstance(v, str)]
        return f"`{bad[0]}` is not text" if bad else None
    if body.get("type") == "event_callback":
        return _need(body, "event", dict) or _need(body, "event_id", str)
    return _interactive_problem(body)


def reply_url_ok(url: str, allowed_hosts: Iterable[str]) -> bool:
    """True for a response_url on one of Slack's hosts (HTTPS), or an allowed test host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    netloc = parts.netloc.lower().rsplit("@", 1)[-1]
    allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
    if host not in allowed and netloc not in allowed:
        return False
    # Plain HTTP only for a loopback host someone allowed explicitly (the tests' fake).
    return parts.scheme == "https" or (
        parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1")
    )
