"""The Slack HTTP edge, tried the way it was broken: malformed bodies (unsigned and
signed), packed-value bombs, reply URLs on other hosts, replays and NUL bytes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import tracemalloc
import zlib
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from bot.slack import edge
from bot.slack.render import decode_value
from domain.roles import Role
from storage import people
from storage.db import Database
from storage.models import Person, Recognition, SeenRequest
from tests.bot.slack.conftest import SIGNING_SECRET, SlackServer
from tests.bot.slack.fake_slack import signed_headers

FORM = "application/x-www-form-urlencoded"


async def _person(
    db: Database, handle: str, slack_id: str, *, role: Role = Role.agent, team_id: int | None = None
) -> Person:
    p = await people.upsert_person(
        db,
        email=f"{handle}@example.com",
        display_name=handle.replace(".", " ").title(),
        role=role,
        team_id=team_id,
    )
    assert p.id is not None
    await people.set_platform_id(db, person_id=p.id, slack_user_id=slack_id)
    return p


async def _post_bytes(slack: SlackServer, body: bytes, headers: dict[str, str]) -> int:
    async with slack.session.post(slack.events_url, data=body, headers=headers) as resp:
        await resp.read()
        return resp.status


def _signed(body: bytes, content_type: str = FORM) -> dict[str, str]:
    """Slack's headers for exactly these bytes (which may not even be text)."""
    ts = str(int(time.time()))
    base = b"v0:" + ts.encode() + b":" + body
    sig = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": content_type}


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR
    ]


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"payload=%7Bnot-json", FORM),
        (b"\xff\xfe\xfa", FORM),
        (b"{bad", "application/json"),
    ],
)
async def test_unsigned_garbage_is_401_without_a_traceback(
    slack: SlackServer, caplog: pytest.LogCaptureFixture, body: bytes, ctype: str
) -> None:
    assert await _post_bytes(slack, body, {"Content-Type": ctype}) == 401
    _no_tracebacks(caplog)
    assert slack.fake.calls == []


def _payload(value: Any) -> bytes:
    return urlencode({"payload": json.dumps(value)}).encode()


BUTTON = {
    "type": "block_actions",
    "user": {"id": "U1"},
    "trigger_id": "t-1",
    "container": {"type": "message"},
    "channel": {"id": "D1"},
    "actions": [{"action_id": "pulse.answer", "value": "1:esat:5", "action_ts": "1"}],
}


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _bad(**changes: Any) -> dict[str, Any]:
    return {**BUTTON, **changes}


@pytest.mark.parametrize(
    "body",
    [
        b"payload=%7Bnot-json",
        b"\xff\xfe",
        _payload([]),
        _payload(123),
        _payload(None),
        _payload([[[[[]]]]]),
        _payload(_bad(actions="abc")),
        _payload(_bad(actions=[{"action_id": 7, "value": "x"}])),
        _payload(_bad(actions=[{"action_id": "x", "value": ["x"]}])),
        _payload(_bad(view=["not", "a", "view"])),
        _payload(_bad(user="U1")),
        _payload(_bad(user={"id": 42})),
        _payload(_bad(user={"id": "U\x001"})),
        _payload(_bad(a=_nested(30))),
        urlencode({"command": "/leadbot", "text": "help", "user_id": "U\x00"}).encode(),
    ],
    ids=lambda b: b[:40].decode("latin-1"),
)
async def test_malformed_signed_input_is_400_with_one_warning(
    slack: SlackServer, file_db: Database, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.WARNING)
    await _person(file_db, "ana.silva", "U1")
    assert await _post_bytes(slack, body, _signed(body)) == 400
    _no_tracebacks(caplog)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "refused a signed" in warnings[0].getMessage()
    await slack.bot.tracker.drain(5)
    assert slack.fake.calls == []


def test_the_payload_check_accepts_what_slack_sends() -> None:
    assert edge.payload_problem(BUTTON) is None
    assert edge.payload_problem({"command": "/stats", "text": "aht week", "user_id": "U1"}) is None
    event = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_home_opened"}}
    assert edge.payload_problem(event) is None
    view = {"type": "view_submission", "user": {"id": "U1"}, "view": {"private_metadata": "{}"}}
    assert edge.payload_problem(view) is None


def _bomb(raw: bytes) -> str:
    return "~z" + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


@pytest.mark.parametrize(
    "value",
    [
        _bomb(b'"' + b"a" * 50_000_000 + b'"'),  # 50 MB of text in ~50 KB
        _bomb(b"[" * 100_000 + b"]" * 100_000),  # nesting past the recursion limit
        _bomb(b"[" * 8000 + b"]" * 8000),  # a few hundred bytes, nested past the limit
    ],
    ids=["inflates", "nests", "deep"],
)
def test_packed_values_are_bounded(value: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"undecodable|too long"):
            decode_value(value)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # nothing close to the inflated size was ever allocated


async def test_a_bomb_button_answers_no_longer_valid(slack: SlackServer, file_db: Database) -> None:
    await _person(file_db, "ana.silva", "U1")
    value = _bomb(b'"' + b"a" * 5_000_000 + b'"')
    payload = _bad(
        actions=[{"action_id": "pulse.answer", "value": value, "action_ts": "2"}],
        response_url=slack.fake.response_url("bomb"),
    )
    body = _payload(payload)
    assert await _post_bytes(slack, body, _signed(body)) == 200
    [reply] = await slack.fake.wait_calls("response_url")
    assert "That button is no longer valid" in json.dumps(reply.data)


async def test_a_reply_url_on_another_host_is_never_used(
    slack: SlackServer, file_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await _person(file_db, "ana.silva", "U1")
    fields = {
        "command": "/leadbot",
        "text": "whoami",
        "user_id": "U1",
        "channel_id": "D1",
        "team_id": "T1",
        "response_url": "https://evil.example.com/steal",
        "trigger_id": "t-9",
    }
    body = urlencode(fields).encode()
    assert await _post_bytes(slack, body, _signed(body)) == 200
    # The answer arrives as a DM instead; nothing went to the other host.
    [dm] = await slack.fake.wait_calls("chat.postMessage")
    assert dm.data["channel"] == "U1"
    assert "ana.silva@example.com" in json.dumps(dm.data)
    assert slack.fake.of("response_url") == []
    assert "refused a response_url" in caplog.text


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.slack.com/commands/T1/1/abc", True),
        ("https://hooks.slack-gov.com/actions/T1/1/abc", True),
        ("http://hooks.slack.com/commands/T1/1/abc", False),
        ("https://hooks.slack.com.evil.com/x", False),
        ("https://evil.com/?hooks.slack.com", False),
        ("https://user@evil.com/", False),
        ("https://hooks.slack.com@evil.com/", False),
        ("http://127.0.0.1:9999/respond", False),
        ("not a url", False),
    ],
)
def test_reply_url_hosts(url: str, ok: bool) -> None:
    assert edge.reply_url_ok(url, ("hooks.slack.com", "hooks.slack-gov.com")) is ok


def test_a_loopback_host_must_be_allowed_by_name() -> None:
    assert edge.reply_url_ok("http://127.0.0.1:9999/respond", ("127.0.0.1:9999",))
    assert not edge.reply_url_ok("http://127.0.0.1:9998/respond", ("127.0.0.1:9999",))


async def test_a_replayed_signed_command_acts_once(slack: SlackServer, file_db: Database) -> None:
    team = await people.create_team(file_db, name="Billing", timezone="UTC")
    await _person(file_db, "lena.lead", "U1", role=Role.lead, team_id=team.id)
    await _person(file_db, "maria.lopez", "U2", team_id=team.id)
    fields = {
        "command": "/kudos",
        "text": "<@U2|maria.lopez> great save on the Smith call",
        "user_id": "U1",
        "channel_id": "D1",
        "team_id": "T1",
        "response_url": slack.fake.response_url("kudos"),
        "trigger_id": "t-kudos",
    }
    body = urlencode(fields).encode()
    headers = _signed(body)
    assert await _post_bytes(slack, body, headers) == 200
    await slack.fake.wait_calls("response_url")
    assert await _post_bytes(slack, body, headers) == 200  # the same signed bytes again
    await slack.bot.tracker.drain(5)
    async with file_db.session() as s:
        given = (await s.execute(sa.select(sa.func.count()).select_from(Recognition))).scalar()
        seen = (await s.execute(sa.select(sa.func.count()).select_from(SeenRequest))).scalar()
    assert given == 1
    assert seen == 1
    assert len(slack.fake.of("response_url")) == 1


async def test_the_signature_is_checked_on_the_exact_bytes(slack: SlackServer) -> None:
    body = b"command=%2Fleadbot&text=help&user_id=U1"
    headers = signed_headers(SIGNING_SECRET, body.decode(), content_type=FORM)
    assert await _post_bytes(slack, body + b"&x=1", headers) == 401


async def test_a_command_that_mentions_payload_is_not_lost(
    slack: SlackServer, file_db: Database
) -> None:
    await _person(file_db, "ana.silva", "U1")
    fields = {
        "command": "/leadbot",
        "text": "help payload",
        "user_id": "U1",
        "channel_id": "D1",
        "team_id": "T1",
        "response_url": slack.fake.response_url("p"),
        "trigger_id": "t-p",
    }
    body = urlencode(fields).encode()
    assert await _post_bytes(slack, body, _signed(body)) == 200
    [reply] = await slack.fake.wait_calls("response_url")
    assert "There is no `/payload` command." in json.dumps(reply.data)
