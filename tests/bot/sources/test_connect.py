"""Amazon Connect through boto3 and the real pull job, against a loopback fake reached by
AWS_ENDPOINT_URL_CONNECT; figures checked against hand-computed contact-weighted ones."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import AsyncIterator

import pytest

from bot.sources.common import MissingExtra
from bot.sources.connect import ConnectSource, make_client
from domain.kpi import Aggregation as A
from jobs import kpi_pull
from storage import intervals, sources
from storage.db import Database
from tests.bot.sources.fake_connect import INSTANCE, FakeConnect
from tests.bot.sources.helpers import (
    at,
    center,
    map_queue,
    person_figure,
    run_pull,
    stats,
    team_figure,
)
from tests.bot.sources.loopback import serve
from tests.conftest import FakeClock, make_ctx


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """boto3's standard chain, pointed at the fake: static keys, a region, no files."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


@pytest.fixture
async def fake(aws_env: pytest.MonkeyPatch) -> AsyncIterator[FakeConnect]:
    f = FakeConnect(page_size=2)  # small pages: every listing is paged through
    f.users = [
        {
            "Id": "a-ann",
            "Username": "ann",
            "IdentityInfo": {"Email": "ann.agent@example.com", "FirstName": "Ann"},
        },
        {"Id": "a-bob", "Username": "bob.agent@example.com", "IdentityInfo": {}},
        {"Id": "a-zed", "Username": "zed", "IdentityInfo": {"Email": "zed@elsewhere.test"}},
    ]
    f.queues = [
        {"Id": "q-1", "Name": "Billing", "QueueType": "STANDARD"},
        {"Id": "q-2", "Name": "Sales", "QueueType": "STANDARD"},
        {"Id": "q-3", "Name": "Returns", "QueueType": "STANDARD"},
    ]
    async with serve(f) as url:
        aws_env.setenv("AWS_ENDPOINT_URL_CONNECT", url)
        yield f


def data(f: FakeConnect) -> None:
    f.put(
        "AGENT",
        "a-ann",
        at("09:00"),
        CONTACTS_HANDLED=4,
        AVG_HANDLE_TIME=250,
        AGENT_OCCUPANCY=80,
        SUM_CONTACT_TIME_AGENT=600,
        SUM_IDLE_TIME_AGENT=300,
    )
    # Nothing handled at 09:15: Connect leaves the average without a Value (0/0).
    f.put(
        "AGENT",
        "a-ann",
        at("09:15"),
        CONTACTS_HANDLED=0,
        AVG_HANDLE_TIME=None,
        AGENT_OCCUPANCY=0,
        SUM_CONTACT_TIME_AGENT=0,
        SUM_IDLE_TIME_AGENT=900,
    )
    f.put(
        "AGENT",
        "a-bob",
        at("09:15"),
        CONTACTS_HANDLED=2,
        AVG_HANDLE_TIME=400,
        AGENT_OCCUPANCY=50,
        SUM_CONTACT_TIME_AGENT=450,
        SUM_IDLE_TIME_AGENT=450,
    )
    f.put(
        "QUEUE",
        "q-1",
        at("09:00"),
        CONTACTS_QUEUED=20,
        SERVICE_LEVEL=75,
        ABANDONMENT_RATE=10,
        AVG_QUEUE_ANSWER_TIME=12,
        CONTACTS_HANDLED=18,
    )
    f.put(
        "QUEUE",
        "q-1",
        at("09:15"),
        CONTACTS_QUEUED=10,
        SERVICE_LEVEL=90,
        ABANDONMENT_RATE=0,
        AVG_QUEUE_ANSWER_TIME=6,
        CONTACTS_HANDLED=10,
    )
    f.put("QUEUE", "q-3", at("09:15"), CONTACTS_QUEUED=0, SERVICE_LEVEL=None)
    f.contacts = [
        {"Id": "c1", "AgentInfo": {"Id": "a-ann"}, "DisconnectTimestamp": at("09:05")},
        {"Id": "c2", "AgentInfo": {"Id": "a-bob"}, "DisconnectTimestamp": at("09:20")},
        {"Id": "c3", "AgentInfo": {"Id": "a-bob"}, "DisconnectTimestamp": at("09:40")},
    ]
    base = {
        "EvaluationFormTitle": "QA",
        "EvaluationFormId": "f1",
        "EvaluatorArn": "arn:x",
        "CreatedTime": at("09:50").timestamp(),
        "LastModifiedTime": at("09:50").timestamp(),
    }
    f.evaluations = {
        "c1": [
            {
                **base,
                "EvaluationId": "e1",
                "EvaluationArn": "arn:e1",
                "Status": "SUBMITTED",
                "Score": {"Percentage": 90.0},
            }
        ],
        "c2": [{**base, "EvaluationId": "e2", "EvaluationArn": "arn:e2", "Status": "SUBMITTED"}],
        "c3": [
            {
                **base,
                "EvaluationId": "e3",
                "EvaluationArn": "arn:e3",
                "Status": "DRAFT",
                "Score": {"Percentage": 10.0},
            }
        ],
    }
    f.described = {
        "e2": {
            "EvaluationId": "e2",
            "EvaluationArn": "arn:e2",
            "Status": "SUBMITTED",
            "Metadata": {
                "ContactId": "c2",
                "EvaluatorArn": "arn:x",
                "ContactAgentId": "a-bob",
                "Score": {"Percentage": 70.0},
            },
            "Answers": {},
            "Notes": {},
            "CreatedTime": 0,
            "LastModifiedTime": 0,
        },
    }


def source(clock: FakeClock, **kw: object) -> ConnectSource:
    return ConnectSource(instance=INSTANCE, repull=dt.timedelta(hours=2), clock=clock, **kw)  # type: ignore[arg-type]


async def test_a_pull_gives_the_figures_stats_shows(
    any_db: Database, fake: FakeConnect, clock: FakeClock
) -> None:
    c = await center(any_db)
    data(fake)
    ctx = make_ctx(any_db, clock)
    await run_pull(ctx, source(clock))
    await map_queue(any_db, "connect", "q-1", c.team)

    # AHT: averages times handled contacts, summed; ann's empty 09:15 is not a zero.
    assert await person_figure(any_db, c.ann, "aht", A.weighted_mean) == pytest.approx(250)
    assert await team_figure(any_db, c.team, "aht", A.weighted_mean) == pytest.approx(
        (4 * 250 + 2 * 400) / 6
    )
    occupancy = 100 * (0.8 * 900 + 0 * 900 + 0.5 * 900) / (900 + 900 + 900)
    assert await team_figure(any_db, c.team, "occupancy", A.ratio) == pytest.approx(occupancy)
    sl = 100 * (0.75 * 20 + 0.9 * 10) / 30
    assert await team_figure(any_db, c.team, "service_level", A.ratio) == pytest.approx(sl)
    abandon = 100 * (0.1 * 20) / 30
    assert await team_figure(any_db, c.team, "abandon_rate", A.ratio) == pytest.approx(abandon)
    asa = (12 * 18 + 6 * 10) / 28
    assert await team_figure(any_db, c.team, "asa", A.weighted_mean) == pytest.approx(asa)
    # QA: submitted evaluations only; e2's score came from DescribeContactEvaluation.
    assert await person_figure(any_db, c.ann, "qa_score", A.weighted_mean) == pytest.approx(90)
    assert await person_figure(any_db, c.bob, "qa_score", A.weighted_mean) == pytest.approx(70)
    assert await team_figure(any_db, c.team, "qa_score", A.weighted_mean) == pytest.approx(80)
    assert "80.0%" in await stats(ctx, c.lead, "/stats today")  # QA, as /stats shows it

    # bob has no email in Connect: his username is one, and matches.
    resolved = await sources.resolve(any_db)
    assert resolved[("connect", "agent", "a-bob")].person_id == c.bob.id
    assert ("connect", "agent", "a-zed") not in resolved
    # Service level carries its threshold; agents and queues were paged through.
    queue_req = next(r for r in fake.requests if r["Groupings"] == ["QUEUE"])
    sl_metric = next(m for m in queue_req["Metrics"] if m["Name"] == "SERVICE_LEVEL")
    assert sl_metric["Threshold"] == [{"Comparison": "LT", "ThresholdValue": 20.0}]
    assert set(queue_req["Filters"][0]["FilterValues"]) == {"q-1", "q-2", "q-3"}
    assert queue_req["Interval"] == {"TimeZone": "UTC", "IntervalPeriod": "FIFTEEN_MIN"}
    assert fake.calls("/users/") == 3  # DescribeUser once per user, not again next hour


async def test_throttling_is_retried_by_botocore(
    db: Database, fake: FakeConnect, clock: FakeClock
) -> None:
    c = await center(db)
    data(fake)
    fake.fail(
        "/metrics/data",
        429,
        {"message": "Rate exceeded"},
        headers={"x-amzn-ErrorType": "TooManyRequestsException"},
    )
    result = await kpi_pull.pull_intervals(make_ctx(db, clock), source(clock, evaluations=False))
    assert result.ok, result.error
    assert await person_figure(db, c.ann, "aht", A.weighted_mean) == pytest.approx(250)


async def test_permission_and_credential_errors_say_what_to_fix(
    db: Database, fake: FakeConnect, clock: FakeClock, aws_env: pytest.MonkeyPatch
) -> None:
    await center(db)
    data(fake)
    fake.fail(
        "/metrics/data",
        403,
        {"message": "not authorized"},
        headers={"x-amzn-ErrorType": "AccessDeniedException"},
    )
    result = await kpi_pull.pull_intervals(make_ctx(db, clock), source(clock))
    assert not result.ok
    assert "connect:GetMetricDataV2" in (result.error or "")
    assert await intervals.count_intervals(db) == 0

    aws_env.setenv("AWS_ACCESS_KEY_ID", "AKIDWRONG")
    report = await source(clock).check()
    assert not report.ok
    assert "AWS refused the credentials" in (report.problem or "")

    aws_env.setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
    report = await ConnectSource(instance="00000000-0000-0000-0000-000000000000").check()
    assert not report.ok
    assert "CONNECT_INSTANCE_ID" in (report.problem or "")
    good = await source(clock).check()
    assert good.ok, good.problem
    assert any("3 users and 3 standard queues" in f for f in good.facts)


def test_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if not installed
    with pytest.raises(MissingExtra, match=r"leadbot\[connect\]"):
        make_client()
