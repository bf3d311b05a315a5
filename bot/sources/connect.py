"""Amazon Connect: GetMetricDataV2 per agent and per queue, contact evaluations for QA.

Through boto3 (`pip install 'leadbot[connect]'`), with its standard credential chain,
region and endpoint settings (AWS_DEFAULT_REGION, AWS_PROFILE, an instance or task role,
AWS_ENDPOINT_URL_CONNECT, ...). boto3 is synchronous: each call runs in a worker thread,
and botocore's standard retry mode backs off on throttling (429
TooManyRequestsException/ThrottlingException) before a call gives up.

- `GetMetricDataV2` (FIFTEEN_MIN or THIRTY_MIN intervals, UTC; pages of 100 by
  NextToken; at most 100 filter values, so agents and queues go 100 at a time):
  - grouped by AGENT: CONTACTS_HANDLED and AVG_HANDLE_TIME (AHT: the average times the
    handled contacts is the sum), AGENT_OCCUPANCY over SUM_CONTACT_TIME_AGENT +
    SUM_IDLE_TIME_AGENT, and, with CONNECT_ADHERENCE, AGENT_SCHEDULE_ADHERENCE over
    AGENT_SCHEDULED_TIME;
  - grouped by QUEUE: SERVICE_LEVEL with its threshold (CONNECT_SL_THRESHOLD_SECONDS,
    `LT`), ABANDONMENT_RATE, both over CONTACTS_QUEUED, and AVG_QUEUE_ANSWER_TIME over
    CONTACTS_HANDLED (ASA).
  A metric without a `Value` is a division by zero (nothing to average), never a zero.
- QA: `SearchContacts` (contacts disconnected in the window) ->
  `ListContactEvaluations` per contact -> the submitted evaluations' score percentage
  (`DescribeContactEvaluation` when a summary carries no score), one evaluation each.
- Agents are matched by their Connect user's email, else their username when it is one
  (`ListUsers` + `DescribeUser` for users not yet known); queues are mapped to teams.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping
from typing import Any

from bot.sources.common import MissingExtra
from domain.sources import (
    CheckReport,
    ErrorKind,
    IntervalRow,
    SourceError,
    Subject,
    SubjectKind,
    Window,
    floor_to,
)

AGENT_METRICS = (
    "CONTACTS_HANDLED",
    "AVG_HANDLE_TIME",
    "AGENT_OCCUPANCY",
    "SUM_CONTACT_TIME_AGENT",
    "SUM_IDLE_TIME_AGENT",
)
ADHERENCE_METRICS = ("AGENT_SCHEDULE_ADHERENCE", "AGENT_SCHEDULED_TIME")
QUEUE_METRICS = (
    "CONTACTS_QUEUED",
    "SERVICE_LEVEL",
    "ABANDONMENT_RATE",
    "AVG_QUEUE_ANSWER_TIME",
    "CONTACTS_HANDLED",
)
FILTER_MAX = 100
CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "ExpiredToken",
    "InvalidClientTokenId",
    "AuthFailure",
}
THROTTLE_CODES = {"TooManyRequestsException", "ThrottlingException", "Throttling"}


def make_client(max_attempts: int = 6) -> Any:
    """A boto3 Connect client from the standard chain; MissingExtra without boto3."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise MissingExtra("connect", "boto3") from None
    config = Config(retries={"mode": "standard", "max_attempts": max_attempts})
    return boto3.session.Session().client("connect", config=config)


def _error(exc: Exception) -> SourceError:
    """A boto3/botocore failure in an admin's words."""
    name = type(exc).__name__
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error") or {}
        code, said = str(err.get("Code", name)), str(err.get("Message", ""))
        if code == "AccessDeniedException":
            return SourceError(
                f"Amazon Connect refused a permission ({said}); allow the IAM identity "
                "connect:GetMetricDataV2, connect:ListUsers, connect:DescribeUser, "
                "connect:ListQueues, connect:DescribeInstance, connect:SearchContacts, "
                "connect:ListContactEvaluations and connect:DescribeContactEvaluation.",
                ErrorKind.permission,
            )
        if code in CREDENTIAL_CODES:
            return SourceError(
                f"AWS refused the credentials ({code}: {said}); check the credential "
                "chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, the instance role), and that they "
                "have not expired.",
                ErrorKind.credentials,
            )
        if code == "ResourceNotFoundException":
            return SourceError(
                f"Amazon Connect has no such instance here ({said}); check "
                "CONNECT_INSTANCE_ID and AWS_DEFAULT_REGION (the instance's region).",
                ErrorKind.region,
            )
        if code in THROTTLE_CODES:
            return SourceError(
                f"Amazon Connect kept throttling ({code}) after the retries; the next "
                "pull carries on.",
                ErrorKind.rate_limited,
            )
        return SourceError(f"Amazon Connect: {code}: {said}", ErrorKind.payload)
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return SourceError(
            f"no AWS credentials were found ({exc}); set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with a role.",
            ErrorKind.credentials,
        )
    if name == "NoRegionError":
        return SourceError(
            "no AWS region is set; set AWS_DEFAULT_REGION to the Connect instance's region.",
            ErrorKind.region,
        )
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return SourceError(f"Amazon Connect could not be reached ({exc})", ErrorKind.unavailable)
    return SourceError(f"Amazon Connect: {name}: {exc}", ErrorKind.unavailable)


class ConnectSource:
    """Amazon Connect as a KpiSource (module doc)."""

    name = "connect"
    title = "Amazon Connect"

    def __init__(
        self,
        *,
        instance: str,
        interval_minutes: int = 15,
        repull: dt.timedelta = dt.timedelta(hours=6),
        sl_threshold_seconds: int = 20,
        adherence: bool = False,
        evaluations: bool = True,
        client_factory: Callable[[], Any] = make_client,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.interval_minutes = interval_minutes
        self.repull = repull
        self.max_window = dt.timedelta(days=1)  # FIFTEEN_MIN allows less than 3 days
        self.instance_id = instance.rsplit("/", 1)[-1]
        self.instance_arn = instance if instance.startswith("arn:") else None
        self.sl = sl_threshold_seconds
        self.adherence = adherence
        self.evaluations = evaluations
        self._factory = client_factory
        self._client: Any = None
        self._clock = clock
        self._agents: list[str] = []
        self._queues: list[str] = []

    async def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            if self._client is None:
                self._client = self._factory()
            result: dict[str, Any] = await asyncio.to_thread(
                getattr(self._client, method), **kwargs
            )
        except MissingExtra:
            raise
        except Exception as exc:  # botocore's exceptions are generated per service
            raise _error(exc) from None
        return result

    async def _arn(self) -> str:
        if self.instance_arn is None:
            found = await self._call("describe_instance", InstanceId=self.instance_id)
            self.instance_arn = str(found["Instance"]["Arn"])
        return self.instance_arn

    async def aclose(self) -> None:
        return None

    async def _pages(self, method: str, key: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        token: str | None = None
        while True:
            args = dict(kwargs, NextToken=token) if token else kwargs
            page = await self._call(method, **args)
            for item in page.get(key) or []:
                yield item
            token = page.get("NextToken")
            if not token:
                return

    # --- check and subjects -------------------------------------------------------------

    async def check(self) -> CheckReport:
        facts: list[str] = []
        try:
            arn = await self._arn()
            facts.append(f"instance {arn}")
            queues = [q async for q in self._queue_list()]
            users = [
                u
                async for u in self._pages(
                    "list_users", "UserSummaryList", InstanceId=self.instance_id
                )
            ]
            facts.append(f"{len(users)} users and {len(queues)} standard queues")
            if queues:
                now = floor_to(self._clock(), self.interval_minutes)
                probe = Window(now - dt.timedelta(minutes=self.interval_minutes), now)
                await self._metric_page(
                    probe, "QUEUE", [q["Id"] for q in queues[:1]], QUEUE_METRICS, None
                )
                facts.append("historical metrics readable (GetMetricDataV2)")
        except SourceError as exc:
            return CheckReport(ok=False, facts=facts, problem=exc.message)
        return CheckReport(ok=True, facts=facts)

    async def _queue_list(self) -> AsyncIterator[dict[str, Any]]:
        async for q in self._pages(
            "list_queues", "QueueSummaryList", InstanceId=self.instance_id, QueueTypes=["STANDARD"]
        ):
            yield q

    async def subjects(self, known: Collection[str]) -> list[Subject]:
        out: list[Subject] = []
        self._agents = []
        async for u in self._pages("list_users", "UserSummaryList", InstanceId=self.instance_id):
            uid = str(u["Id"])
            self._agents.append(uid)
            if uid in known:
                continue
            user = (await self._call("describe_user", InstanceId=self.instance_id, UserId=uid)).get(
                "User"
            ) or {}
            info = user.get("IdentityInfo") or {}
            username = str(user.get("Username", u.get("Username", "")))
            email = str(info.get("Email") or (username if "@" in username else ""))
            name = (
                " ".join(x for x in (info.get("FirstName"), info.get("LastName")) if x) or username
            )
            out.append(Subject(SubjectKind.agent, uid, name, email))
        self._queues = []
        async for q in self._queue_list():
            self._queues.append(str(q["Id"]))
            out.append(Subject(SubjectKind.queue, str(q["Id"]), str(q.get("Name", ""))))
        return out

    async def _ids(self) -> None:
        self._agents = [
            str(u["Id"])
            async for u in self._pages("list_users", "UserSummaryList", InstanceId=self.instance_id)
        ]
        self._queues = [str(q["Id"]) async for q in self._queue_list()]

    # --- intervals -----------------------------------------------------------------------

    def _metrics(self, names: Collection[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for n in names:
            m: dict[str, Any] = {"Name": n}
            if n == "SERVICE_LEVEL":
                m["Threshold"] = [{"Comparison": "LT", "ThresholdValue": float(self.sl)}]
            out.append(m)
        return out

    async def _metric_page(
        self,
        window: Window,
        grouping: str,
        ids: list[str],
        names: Collection[str],
        token: str | None,
    ) -> dict[str, Any]:
        args: dict[str, Any] = {
            "ResourceArn": await self._arn(),
            "StartTime": window.start,
            "EndTime": window.end,
            "Interval": {
                "TimeZone": "UTC",
                "IntervalPeriod": "FIFTEEN_MIN" if self.interval_minutes == 15 else "THIRTY_MIN",
            },
            "Filters": [{"FilterKey": grouping, "FilterValues": ids}],
            "Groupings": [grouping],
            "Metrics": self._metrics(names),
            "MaxResults": 100,
        }
        if token:
            args["NextToken"] = token
        return await self._call("get_metric_data_v2", **args)

    async def _results(
        self, window: Window, grouping: str, ids: list[str], names: Collection[str]
    ) -> AsyncIterator[tuple[str, dt.datetime, dict[str, float]]]:
        for i in range(0, len(ids), FILTER_MAX):
            chunk = ids[i : i + FILTER_MAX]
            token: str | None = None
            while True:
                page = await self._metric_page(window, grouping, chunk, names, token)
                for r in page.get("MetricResults") or []:
                    who = str((r.get("Dimensions") or {}).get(grouping, ""))
                    start = r["MetricInterval"]["StartTime"]
                    values = {
                        str(c["Metric"]["Name"]): float(c["Value"])
                        for c in r.get("Collections") or []
                        if c.get("Value") is not None  # no value: nothing to divide
                    }
                    yield who, _utc(start), values
                token = page.get("NextToken")
                if not token:
                    break

    def _clamped(self, window: Window) -> Window | None:
        end = min(window.end, self._clock().replace(second=0, microsecond=0))
        return Window(window.start, end) if end > window.start else None

    async def pull(self, window: Window) -> AsyncIterator[IntervalRow]:
        w = self._clamped(window)  # EndTime may not be later than now
        if w is None:
            return
        if not self._agents or not self._queues:
            await self._ids()  # the filters need them
        names = AGENT_METRICS + (ADHERENCE_METRICS if self.adherence else ())
        async for who, start, v in self._results(w, "AGENT", self._agents, names):
            for row in self._agent_rows(who, start, v):
                yield row
        async for who, start, v in self._results(w, "QUEUE", self._queues, QUEUE_METRICS):
            for row in self._queue_rows(who, start, v):
                yield row
        if self.evaluations:
            async for row in self._qa(w):
                yield row

    def _row(
        self,
        kind: SubjectKind,
        ext: str,
        start: dt.datetime,
        metric: str,
        n: float,
        d: float,
        c: float,
    ) -> IntervalRow:
        return IntervalRow(start, self.interval_minutes, kind, ext, metric, n, d, c)

    def _agent_rows(
        self, agent: str, start: dt.datetime, v: Mapping[str, float]
    ) -> Iterator[IntervalRow]:
        a = SubjectKind.agent
        handled = v.get("CONTACTS_HANDLED", 0.0)
        if handled and "AVG_HANDLE_TIME" in v:
            yield self._row(
                a, agent, start, "aht", v["AVG_HANDLE_TIME"] * handled, handled, handled
            )
        staffed = v.get("SUM_CONTACT_TIME_AGENT", 0.0) + v.get("SUM_IDLE_TIME_AGENT", 0.0)
        if staffed and "AGENT_OCCUPANCY" in v:
            yield self._row(
                a, agent, start, "occupancy", v["AGENT_OCCUPANCY"] / 100 * staffed, staffed, staffed
            )
        scheduled = v.get("AGENT_SCHEDULED_TIME", 0.0)
        if scheduled and "AGENT_SCHEDULE_ADHERENCE" in v:
            yield self._row(
                a,
                agent,
                start,
                "adherence",
                v["AGENT_SCHEDULE_ADHERENCE"] / 100 * scheduled,
                scheduled,
                scheduled,
            )

    def _queue_rows(
        self, queue: str, start: dt.datetime, v: Mapping[str, float]
    ) -> Iterator[IntervalRow]:
        q = SubjectKind.queue
        queued = v.get("CONTACTS_QUEUED", 0.0)
        if queued and "SERVICE_LEVEL" in v:
            yield self._row(
                q, queue, start, "service_level", v["SERVICE_LEVEL"] / 100 * queued, queued, queued
            )
        if queued and "ABANDONMENT_RATE" in v:
            yield self._row(
                q,
                queue,
                start,
                "abandon_rate",
                v["ABANDONMENT_RATE"] / 100 * queued,
                queued,
                queued,
            )
        answered = v.get("CONTACTS_HANDLED", 0.0)
        if answered and "AVG_QUEUE_ANSWER_TIME" in v:
            yield self._row(
                q, queue, start, "asa", v["AVG_QUEUE_ANSWER_TIME"] * answered, answered, answered
            )

    async def _qa(self, window: Window) -> AsyncIterator[IntervalRow]:
        scores: dict[tuple[str, dt.datetime], list[float]] = defaultdict(lambda: [0.0, 0.0])
        async for contact in self._pages(
            "search_contacts",
            "Contacts",
            InstanceId=self.instance_id,
            TimeRange={
                "Type": "DISCONNECT_TIMESTAMP",
                "StartTime": window.start,
                "EndTime": window.end,
            },
            MaxResults=100,
        ):
            agent = str((contact.get("AgentInfo") or {}).get("Id") or "")
            ended = contact.get("DisconnectTimestamp")
            if ended is None:
                continue
            interval = floor_to(_utc(ended), self.interval_minutes)
            async for ev in self._pages(
                "list_contact_evaluations",
                "EvaluationSummaryList",
                InstanceId=self.instance_id,
                ContactId=str(contact["Id"]),
            ):
                if ev.get("Status") != "SUBMITTED":
                    continue
                score, who = await self._score(ev, agent)
                if score is None or not who:
                    continue
                acc = scores[(who, interval)]
                acc[0] += score
                acc[1] += 1
        for (agent, start), (total, n) in sorted(scores.items()):
            yield self._row(SubjectKind.agent, agent, start, "qa_score", total, n, n)

    async def _score(self, summary: Mapping[str, Any], agent: str) -> tuple[float | None, str]:
        score = summary.get("Score") or {}
        if "Percentage" in score and not score.get("NotApplicable"):
            return float(score["Percentage"]), agent
        full = await self._call(
            "describe_contact_evaluation",
            InstanceId=self.instance_id,
            EvaluationId=str(summary["EvaluationId"]),
        )
        meta = (full.get("Evaluation") or {}).get("Metadata") or {}
        s = meta.get("Score") or {}
        if "Percentage" not in s or s.get("NotApplicable"):
            return None, agent
        return float(s["Percentage"]), str(meta.get("ContactAgentId") or agent)


def _utc(t: Any) -> dt.datetime:
    if isinstance(t, dt.datetime):
        return t.astimezone(dt.UTC) if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(float(t), dt.UTC)
