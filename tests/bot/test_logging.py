"""Structured logs: JSON lines with LOG_FORMAT=json, and a request id per HTTP request that
reaches every log line of that request, including work that runs after the Slack ack."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.logs import REQUEST_ID, TEXT_FORMAT, JsonFormatter, RequestIdFilter, setup_logging
from domain.settings import Settings
from storage import people
from storage.db import Database
from tests.bot.ops_helpers import BROKEN_MESSAGE, serve, slack_settings
from tests.bot.slack.fake_slack import FakeSlack
from tests.conftest import make_person


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    """The root logger, restored after the test (setup_logging replaces its handlers)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def json_lines(root_logging: logging.Logger) -> Iterator[io.StringIO]:
    """Everything logged, as the JSON format writes it."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root_logging.addHandler(handler)
    root_logging.setLevel(logging.INFO)
    yield buf
    root_logging.removeHandler(handler)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


def parse(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def test_setup_logging_json_writes_one_object_a_line(
    root_logging: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(Settings(_env_file=None, log_format="json", log_level="DEBUG"))
    log = logging.getLogger("leadbot.test")
    log.info("outside any request")
    token = REQUEST_ID.set("rid-json-1")
    try:
        log.warning("inside a request: %s", "ünïcode")
        try:
            raise ValueError("kaput")
        except ValueError:
            log.exception("it failed")
    finally:
        REQUEST_ID.reset(token)
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert [x["message"] for x in lines] == [
        "outside any request",
        "inside a request: ünïcode",
        "it failed",
    ]
    assert "request_id" not in lines[0]
    assert lines[1]["request_id"] == "rid-json-1"
    assert lines[1]["level"] == "WARNING"
    assert lines[1]["logger"] == "leadbot.test"
    assert "ValueError: kaput" in lines[2]["exc"]
    assert lines[2]["request_id"] == "rid-json-1"


def test_setup_logging_text_carries_the_request_id(
    root_logging: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(Settings(_env_file=None, log_format="text", log_level="INFO"))
    log = logging.getLogger("leadbot.test")
    log.info("no request")
    token = REQUEST_ID.set("rid-text-1")
    try:
        log.info("with a request")
    finally:
        REQUEST_ID.reset(token)
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("INFO leadbot.test [-]: no request")
    assert err[1].endswith("INFO leadbot.test [rid-text-1]: with a request")
    assert "%(request_id)s" in TEXT_FORMAT


async def test_slash_command_logs_carry_the_callers_request_id_after_the_ack(
    db: Database,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    json_lines: io.StringIO,
) -> None:
    p = await make_person(db, "ana.silva")
    fake_slack.users["U1"] = p.email
    async with serve(slack_settings(fake_slack, db), db, fake_slack) as srv:
        status, headers = await srv.slash("opsbroken", headers={"X-Request-Id": "req-abc.123"})
        assert status == 200
        assert headers["X-Request-Id"] == "req-abc.123", headers
        # The handler runs in a task started after the ack; its failure is logged there.
        await fake_slack.wait_calls("response_url")
    failures = [x for x in parse(json_lines) if "command failed" in str(x["message"])]
    assert len(failures) == 1
    assert failures[0]["request_id"] == "req-abc.123"
    assert BROKEN_MESSAGE in str(failures[0]["exc"])
    # The id does not outlive the request.
    assert REQUEST_ID.get() is None


async def test_each_request_gets_its_own_generated_id(
    db: Database,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    json_lines: io.StringIO,
) -> None:
    p = await make_person(db, "ana.silva")
    fake_slack.users["U1"] = p.email
    async with serve(slack_settings(fake_slack, db), db, fake_slack) as srv:
        _, first = await srv.slash("opsbroken")
        await fake_slack.wait_calls("response_url", 1)
        # A header that is not a plain token (spaces, too long) is replaced, not logged.
        _, second = await srv.slash("opsbroken", headers={"X-Request-Id": "x" * 65})
        await fake_slack.wait_calls("response_url", 2)
        _, third = await srv.slash("opsbroken", headers={"X-Request-Id": "a b"})
        await fake_slack.wait_calls("response_url", 3)
    ids = [first["X-Request-Id"], second["X-Request-Id"], third["X-Request-Id"]]
    assert len(set(ids)) == 3
    assert all(len(i) == 16 for i in ids)
    failures = [x for x in parse(json_lines) if "command failed" in str(x["message"])]
    assert [x["request_id"] for x in failures] == ids


async def test_a_refused_request_is_logged_with_its_id_too(
    db: Database, fake_slack: FakeSlack, json_lines: io.StringIO
) -> None:
    async with serve(slack_settings(fake_slack, db), db, fake_slack) as srv:
        status, headers = await srv.slash(
            "leadbot", secret="not-the-secret", headers={"X-Request-Id": "bad-sig-1"}
        )
    assert status == 401
    assert headers["X-Request-Id"] == "bad-sig-1"
    logged = [x for x in parse(json_lines) if x.get("request_id") == "bad-sig-1"]
    assert logged, parse(json_lines)


async def test_socket_mode_envelopes_get_their_own_request_id(
    db: Database,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    json_lines: io.StringIO,
) -> None:
    p = await make_person(db, "ana.silva")
    assert p.id is not None
    await people.set_platform_id(db, person_id=p.id, slack_user_id="U1")
    settings = slack_settings(
        fake_slack, db, slack_app_token="xapp-test", slack_signing_secret=None
    )
    async with serve(settings, db, fake_slack):
        await fake_slack.wait_calls("socket.connected")
        for n in (1, 2):
            await fake_slack.socket_send(
                {
                    "envelope_id": f"env-{n}",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": {
                        "command": "/opsbroken",
                        "text": "",
                        "user_id": "U1",
                        "channel_id": "D1",
                        "team_id": "T1",
                        "response_url": fake_slack.response_url(f"sock-{n}"),
                        "trigger_id": "t",
                    },
                }
            )
            await fake_slack.wait_calls("response_url", n)
    failures = [x for x in parse(json_lines) if "command failed" in str(x["message"])]
    ids = [x.get("request_id") for x in failures]
    assert len(ids) == 2
    assert all(isinstance(i, str) and len(i) == 16 for i in ids), ids
    assert ids[0] != ids[1]
