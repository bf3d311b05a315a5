"""A loopback Amazon Connect, from its published API (botocore's connect 2017-08-08
service model: rest-json, the paths, NextToken paging, epoch-second timestamps, errors
named in `x-amzn-ErrorType`). boto3 reaches it through AWS_ENDPOINT_URL_CONNECT.

GetMetricDataV2 answers each (grouping, id, interval start) with the values the test
stored; a metric stored as None comes back without a `Value` (Connect's division by
zero), and MaxResults pages the results.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from aiohttp import web

from tests.bot.sources.loopback import Fake

INSTANCE = "11111111-2222-3333-4444-555555555555"
ARN = f"arn:aws:connect:eu-west-2:123456789012:instance/{INSTANCE}"


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"message": message}, status=status, headers={"x-amzn-ErrorType": code}
    )


def _epoch(t: dt.datetime) -> float:
    return t.timestamp()


class FakeConnect(Fake):
    def __init__(self, page_size: int = 2) -> None:
        super().__init__()
        self.page_size = page_size
        self.users: list[dict[str, Any]] = []  # DescribeUser's User objects
        self.queues: list[dict[str, Any]] = []
        # (grouping, id) -> start -> metric -> value (None: no Value)
        self.metrics: dict[tuple[str, str], dict[dt.datetime, dict[str, float | None]]] = (
            defaultdict(dict)
        )
        self.contacts: list[dict[str, Any]] = []
        self.evaluations: dict[str, list[dict[str, Any]]] = {}  # contact -> summaries
        self.described: dict[str, dict[str, Any]] = {}  # evaluation id -> Evaluation
        self.requests: list[dict[str, Any]] = []

    def put(self, grouping: str, who: str, start: dt.datetime, **values: float | None) -> None:
        self.metrics[(grouping, who)].setdefault(start, {}).update(values)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/instance/{instance}", self.describe_instance)
        app.router.add_get("/users-summary/{instance}", self.list_users)
        app.router.add_get("/users/{instance}/{user}", self.describe_user)
        app.router.add_get("/queues-summary/{instance}", self.list_queues)
        app.router.add_post("/metrics/data", self.metric_data)
        app.router.add_post("/search-contacts", self.search_contacts)
        app.router.add_get("/contact-evaluations/{instance}", self.list_evaluations)
        app.router.add_get("/contact-evaluations/{instance}/{evaluation}", self.describe_evaluation)

    def _signed(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDFAKE/"):
            return _error(403, "UnrecognizedClientException", "The security token is invalid.")
        if request.match_info.get("instance", INSTANCE) != INSTANCE:
            return _error(404, "ResourceNotFoundException", "Instance not found")
        return None

    def _paged(self, items: list[Any], token: str | None, key: str) -> web.Response:
        start = int(token or 0)
        page = items[start : start + self.page_size]
        body: dict[str, Any] = {key: page}
        if start + self.page_size < len(items):
            body["NextToken"] = str(start + self.page_size)
        return web.json_response(body)

    async def describe_instance(self, request: web.Request) -> web.Response:
        return self._signed(request) or web.json_response(
            {"Instance": {"Id": INSTANCE, "Arn": ARN, "InstanceAlias": "acme"}}
        )

    async def list_users(self, request: web.Request) -> web.Response:
        summaries = [
            {"Id": u["Id"], "Arn": f"{ARN}/agent/{u['Id']}", "Username": u["Username"]}
            for u in self.users
        ]
        return self._signed(request) or self._paged(
            summaries, request.query.get("nextToken"), "UserSummaryList"
        )

    async def describe_user(self, request: web.Request) -> web.Response:
        refused = self._signed(request)
        if refused:
            return refused
        user = next((u for u in self.users if u["Id"] == request.match_info["user"]), None)
        if user is None:
            return _error(404, "ResourceNotFoundException", "No such user")
        return web.json_response({"User": user})

    async def list_queues(self, request: web.Request) -> web.Response:
        assert request.query.get("queueTypes") == "STANDARD"
        return self._signed(request) or self._paged(
            self.queues, request.query.get("nextToken"), "QueueSummaryList"
        )

    async def metric_data(self, request: web.Request) -> web.Response:
        refused = self._signed(request)
        if refused:
            return refused
        body = await request.json()
        self.requests.append(body)
        if body["ResourceArn"] != ARN:
            return _error(404, "ResourceNotFoundException", "No such instance")
        start = dt.datetime.fromtimestamp(body["StartTime"], dt.UTC)
        end = dt.datetime.fromtimestamp(body["EndTime"], dt.UTC)
        period = body["Interval"]["IntervalPeriod"]
        minutes = {"FIFTEEN_MIN": 15, "THIRTY_MIN": 30}[period]
        (grouping,) = body["Groupings"]
        (flt,) = body["Filters"]
        assert flt["FilterKey"] == grouping
        assert len(flt["FilterValues"]) <= 100
        names = [m["Name"] for m in body["Metrics"]]
        results = []
        for who in flt["FilterValues"]:
            for t, values in sorted(self.metrics.get((grouping, who), {}).items()):
                if not start <= t < end:
                    continue
                collections = []
                for m in body["Metrics"]:
                    if m["Name"] not in values:
                        continue
                    v = values[m["Name"]]
                    item: dict[str, Any] = {"Metric": m}
                    if v is not None:
                        item["Value"] = v
                    collections.append(item)
                results.append(
                    {
                        "Dimensions": {grouping: who},
                        "MetricInterval": {
                            "Interval": period,
                            "StartTime": _epoch(t),
                            "EndTime": _epoch(t + dt.timedelta(minutes=minutes)),
                        },
                        "Collections": collections,
                    }
                )
        del names
        return self._paged(results, body.get("NextToken"), "MetricResults")

    async def search_contacts(self, request: web.Request) -> web.Response:
        refused = self._signed(request)
        if refused:
            return refused
        body = await request.json()
        rng = body["TimeRange"]
        assert rng["Type"] == "DISCONNECT_TIMESTAMP"
        lo = dt.datetime.fromtimestamp(rng["StartTime"], dt.UTC)
        hi = dt.datetime.fromtimestamp(rng["EndTime"], dt.UTC)
        found = [
            {**c, "DisconnectTimestamp": _epoch(c["DisconnectTimestamp"])}
            for c in self.contacts
            if lo <= c["DisconnectTimestamp"] < hi
        ]
        return self._paged(found, body.get("NextToken"), "Contacts")

    async def list_evaluations(self, request: web.Request) -> web.Response:
        refused = self._signed(request)
        if refused:
            return refused
        items = self.evaluations.get(request.query["contactId"], [])
        return self._paged(items, request.query.get("nextToken"), "EvaluationSummaryList")

    async def describe_evaluation(self, request: web.Request) -> web.Response:
        refused = self._signed(request)
        if refused:
            return refused
        ev = self.described[request.match_info["evaluation"]]
        form = {
            "EvaluationFormVersion": 1,
            "EvaluationFormId": "f1",
            "EvaluationFormArn": f"{ARN}/evaluation-form/f1",
            "Title": "QA",
            "Items": [],
        }
        return web.json_response({"Evaluation": ev, "EvaluationForm": form})
