"""The live pollers against loopback fakes of each platform's API, answering in the
published shapes: Genesys Cloud queue observations, Amazon Connect GetCurrentMetricData,
Twilio TaskRouter TaskQueue real-time statistics."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import boto3  # type: ignore[import-untyped,unused-ignore]
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.live.connect import ConnectLive
from bot.live.genesys import GenesysLive
from bot.live.sources import build_sources, genesys_urls
from bot.live.twilio import TwilioLive
from tests.conftest import make_settings

NOW = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)


async def serve(app: web.Application) -> TestServer:
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    return srv


class FakeGenesys:
    def __init__(self) -> None:
        self.tokens = 0
        self.queries: list[dict[str, Any]] = []
        self.revoke_next = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self.token)
        app.router.add_post("/api/v2/analytics/queues/observations/query", self.observations)
        return app

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        auth = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
        assert form["grant_type"] == "client_credentials"
        assert auth == "cid:csecret"
        self.tokens += 1
        return web.json_response(
            {"access_token": f"tok{self.tokens}", "token_type": "bearer", "expires_in": 86399}
        )

    async def observations(self, request: web.Request) -> web.Response:
        if self.revoke_next or request.headers.get("Authorization") != f"Bearer tok{self.tokens}":
            self.revoke_next = False
            return web.json_response({"message": "expired"}, status=401)
        body = await request.json()
        self.queries.append(body)
        results = []
        for p in body["filter"]["predicates"]:
            q = p["value"]
            results.append(
                {
                    "group": {"queueId": q, "mediaType": "voice"},
                    "data": [
                        {"metric": "oWaiting", "stats": {"count": 7}},
                        {"metric": "oInteracting", "stats": {"count": 5}},
                        {"metric": "oOnQueueUsers", "qualifier": "IDLE", "stats": {"count": 2}},
                        {
                            "metric": "oOnQueueUsers",
                            "qualifier": "INTERACTING",
                            "stats": {"count": 5},
                        },
                        {
                            "metric": "oOnQueueUsers",
                            "qualifier": "NOT_RESPONDING",
                            "stats": {"count": 1},
                        },
                        {
                            "metric": "oLongestWaiting",
                            "stats": {"count": 7, "calculatedMetricValue": 95000},
                        },
                    ],
                }
            )
            results.append(
                {
                    "group": {"queueId": q, "mediaType": "chat"},
                    "data": [{"metric": "oWaiting", "stats": {"count": 2}}],
                }
            )
        return web.json_response({"results": results})


@pytest.fixture
async def genesys() -> AsyncIterator[tuple[FakeGenesys, str]]:
    fake = FakeGenesys()
    srv = await serve(fake.app())
    yield fake, str(srv.make_url("")).rstrip("/")
    await srv.close()


async def test_genesys_observations(genesys: tuple[FakeGenesys, str]) -> None:
    fake, base = genesys
    src = GenesysLive(
        client_id="cid",
        client_secret="csecret",
        api_url=base,
        login_url=base,
        queues={"q-1": "Billing", "q-2": ""},
        clock=lambda: NOW,
    )
    found = await src.observe()
    assert [o.queue_id for o in found] == ["q-1", "q-2"]
    o = found[0]
    assert (o.waiting, o.agents_interacting, o.agents_on_queue, o.agents_available) == (9, 5, 8, 2)
    assert o.longest_wait_seconds == 95.0
    assert (o.team, found[1].team, o.source) == ("Billing", None, "genesys")
    assert fake.queries[0]["metrics"] == [
        "oWaiting",
        "oInteracting",
        "oOnQueueUsers",
        "oLongestWaiting",
    ]
    # The token is reused; a 401 gets one new token and one retry.
    await src.observe()
    assert fake.tokens == 1
    fake.revoke_next = True
    assert len(await src.observe()) == 2
    assert fake.tokens == 2


def test_genesys_urls_from_the_region() -> None:
    s = make_settings(genesys_region="euw2.pure.cloud")
    assert genesys_urls(s) == ("https://api.euw2.pure.cloud", "https://login.euw2.pure.cloud")
    s = make_settings(genesys_api_url="http://127.0.0.1:1", genesys_login_url="http://127.0.0.1:2")
    assert genesys_urls(s) == ("http://127.0.0.1:1", "http://127.0.0.1:2")


class FakeTwilio:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/Workspaces/{ws}/TaskQueues/{wq}/RealTimeStatistics", self.stats)
        return app

    async def stats(self, request: web.Request) -> web.Response:
        auth = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
        if auth != "AC1:token":
            return web.json_response({"code": 20003}, status=401)
        wq = request.match_info["wq"]
        self.calls.append(wq)
        return web.json_response(
            {
                "account_sid": "AC1",
                "workspace_sid": request.match_info["ws"],
                "task_queue_sid": wq,
                "longest_task_waiting_age": 42,
                "longest_task_waiting_sid": "WT1",
                "tasks_by_status": {
                    "pending": 3,
                    "reserved": 1,
                    "assigned": 4,
                    "wrapping": 1,
                    "completed": 0,
                    "canceled": 0,
                },
                "total_available_workers": 2,
                "total_eligible_workers": 9,
                "total_tasks": 9,
            }
        )


async def test_twilio_taskqueue_statistics() -> None:
    fake = FakeTwilio()
    srv = await serve(fake.app())
    try:
        src = TwilioLive(
            account_sid="AC1",
            auth_token="token",
            workspace_sid="WS1",
            queues={"WQ1": "Billing"},
            api_url=str(srv.make_url("")).rstrip("/"),
            clock=lambda: NOW,
        )
        [o] = await src.observe()
    finally:
        await srv.close()
    assert (o.queue_id, o.team, o.waiting, o.longest_wait_seconds) == ("WQ1", "Billing", 4, 42.0)
    assert (o.agents_available, o.agents_on_queue, o.agents_interacting) == (2, 9, 5)


class FakeConnect:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/metrics/current/{instance}", self.current)
        return app

    async def current(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 ")
        body = json.loads(await request.text())
        body["instance"] = request.match_info["instance"]
        self.requests.append(body)
        page = 0 if "NextToken" not in body else 1
        queue = body["Filters"]["Queues"][page]
        result = {
            "Dimensions": {"Queue": {"Id": queue, "Arn": f"arn:aws:connect:::{queue}"}},
            "Collections": [
                {"Metric": {"Name": "CONTACTS_IN_QUEUE", "Unit": "COUNT"}, "Value": 11.0},
                {"Metric": {"Name": "OLDEST_CONTACT_AGE", "Unit": "SECONDS"}, "Value": 130.0},
                {"Metric": {"Name": "AGENTS_AVAILABLE", "Unit": "COUNT"}, "Value": 0.0},
                {"Metric": {"Name": "AGENTS_ONLINE", "Unit": "COUNT"}, "Value": 6.0},
                {"Metric": {"Name": "AGENTS_ON_CONTACT", "Unit": "COUNT"}, "Value": 6.0},
            ],
        }
        answer: dict[str, Any] = {"MetricResults": [result], "DataSnapshotTime": 1.7e9}
        if page == 0:
            answer["NextToken"] = "page2"
        return web.json_response(answer)


async def test_connect_current_metric_data() -> None:
    fake = FakeConnect()
    srv = await serve(fake.app())
    try:
        client = boto3.client(
            "connect",
            region_name="eu-west-2",
            endpoint_url=str(srv.make_url("")).rstrip("/"),
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
        )
        src = ConnectLive(
            client=client,
            instance_id="inst-1",
            queues={"qa": "Billing", "qb": "Sales"},
            clock=lambda: NOW,
        )
        found = await src.observe()
    finally:
        await srv.close()
    assert [(o.queue_id, o.team) for o in found] == [("qa", "Billing"), ("qb", "Sales")]
    assert (found[0].waiting, found[0].longest_wait_seconds, found[0].agents_available) == (
        11,
        130.0,
        0,
    )
    first = fake.requests[0]
    assert first["instance"] == "inst-1"
    assert first["Groupings"] == ["QUEUE"]
    assert {m["Name"] for m in first["CurrentMetrics"]} >= {
        "CONTACTS_IN_QUEUE",
        "OLDEST_CONTACT_AGE",
        "AGENTS_AVAILABLE",
        "AGENTS_ONLINE",
    }
    assert len(fake.requests) == 2  # the NextToken page was followed


def test_sources_from_the_settings() -> None:
    assert build_sources(make_settings()) == []
    s = make_settings(
        live_queues="q1=Billing, q2=Sales Team",
        genesys_client_id="c",
        genesys_client_secret="s",
        genesys_region="mypurecloud.ie",
        twilio_account_sid="AC",
        twilio_auth_token="t",
        twilio_workspace_sid="WS",
    )
    names = [src.name for src in build_sources(s)]
    assert names == ["genesys", "twilio"]
    # The same settings as the KPI connector: without a region Genesys Cloud isn't polled.
    no_region = s.model_copy(update={"genesys_region": None})
    assert [src.name for src in build_sources(no_region)] == ["twilio"]
    assert s.live_queue_teams == {"q1": "Billing", "q2": "Sales Team"}
