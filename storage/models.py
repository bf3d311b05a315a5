"""SQLModel tables for the whole leadbot domain (docs/architecture.md, "Domain").

Every datetime column is stored in UTC and is timezone-aware in Python; `UTCDateTime`
makes SQLite give aware datetimes back the way PostgreSQL does.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from domain.items import ActionStatus
from domain.kpi import Aggregation
from domain.roles import Role
from storage import integrity


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC that always comes back timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def enum_column(enum: type[StrEnum], *, index: bool = False) -> Any:
    """A StrEnum stored as its value in a VARCHAR, read back as the enum member."""
    return sa.Column(
        sa.Enum(
            enum,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        ),
        nullable=False,
        index=index,
    )


def ts_field(*, nullable: bool = False, index: bool = False, default_now: bool = False) -> Any:
    """A UTC timestamp column."""
    kwargs: dict[str, Any] = {}
    if default_now:
        kwargs["default_factory"] = utcnow
    elif nullable:
        kwargs["default"] = None
    return Field(sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index), **kwargs)


# `info` of a schema item that exists only on SQLite (storage/integrity.include_object
# leaves it out when the models are compared with another database).
SQLITE_ONLY: dict[str, Any] = {"dialects": ("sqlite",)}


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    dead = "dead"


# --- people and teams -------------------------------------------------------------------


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=80, unique=True, index=True)  # lower-cased name
    timezone: str = Field(default="UTC", max_length=64)
    # No FK: team and person reference each other; integrity is kept by storage functions.
    lead_id: int | None = Field(default=None, index=True)
    manager_id: int | None = Field(default=None, index=True)
    slack_channel_id: str | None = Field(default=None, max_length=32)
    teams_channel_ref: str | None = None  # JSON conversation reference
    # Who linked the channel (`/leadbot link`): told, with the lead, when leadbot can't post.
    channel_linked_by: int | None = None
    post_time: str = Field(default="09:00", max_length=5)  # daily goal update, local time
    work_days: str = Field(default="Mon-Fri", max_length=40)
    created_at: dt.datetime = ts_field(default_now=True)
    # Archived teams keep their history but get nothing scheduled and free their name.
    archived_at: dt.datetime | None = ts_field(nullable=True)


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)  # lower-cased
    display_name: str = Field(max_length=120)
    role: Role = Field(default=Role.agent, sa_column=enum_column(Role))
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    manager_id: int | None = Field(default=None, foreign_key="person.id")
    timezone: str = Field(default="UTC", max_length=64)
    work_hours: str = Field(default="Mon-Fri 09:00-17:00", max_length=200)
    slack_user_id: str | None = Field(default=None, max_length=32, unique=True)
    teams_user_id: str | None = Field(default=None, max_length=128, unique=True)
    teams_conversation_ref: str | None = None  # JSON conversation reference
    # Why the platform can't reach them (e.g. "no Slack user with this email"); cleared
    # when they are mapped. Their messages wait (pending) until then.
    unreachable_reason: str | None = Field(default=None, max_length=200)
    active: bool = True
    # When they were switched off: KPI rows for later days are not imported.
    deactivated_at: dt.datetime | None = ts_field(nullable=True)
    created_at: dt.datetime = ts_field(default_now=True)


# --- KPIs and goals ------------------------------------------------------------------


class Metric(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=80)
    unit: str = Field(max_length=16)  # "%", "s", "score", "count", "pts"
    higher_is_better: bool = True
    aggregation: Aggregation = Field(
        default=Aggregation.weighted_mean, sa_column=enum_column(Aggregation)
    )
    min_value: float | None = None
    max_value: float | None = None
    builtin: bool = False
    description: str = ""


class MetricValue(SQLModel, table=True):
    """One value of one metric for one person (or a whole team/queue) on one local day."""

    __table_args__ = (
        sa.CheckConstraint(
            "person_id IS NOT NULL OR team_id IS NOT NULL", name="ck_metricvalue_subject"
        ),
        sa.CheckConstraint("weight >= 0", name="ck_metricvalue_weight"),
        sa.Index(
            "uq_metricvalue_person_day",
            "person_id",
            "metric_key",
            "day",
            unique=True,
            sqlite_where=sa.text("person_id IS NOT NULL"),
            postgresql_where=sa.text("person_id IS NOT NULL"),
        ),
        sa.Index(
            "uq_metricvalue_team_day",
            "team_id",
            "metric_key",
            "day",
            unique=True,
            sqlite_where=sa.text("person_id IS NULL"),
            postgresql_where=sa.text("person_id IS NULL"),
        ),
        # Team stats read every person's rows of a team for a metric and a range of days.
        sa.Index("ix_metricvalue_team_metric_day", "team_id", "metric_key", "day"),
        # Declared foreign keys on SQLite only. On PostgreSQL a foreign key checks every
        # inserted row on its own (three look-ups and locks per row, half of a large
        # import's time); there storage/integrity.py keeps the same rules with one set-based
        # check per statement instead.
        *(
            sa.ForeignKeyConstraint(
                [column], [target], name=f"fk_metricvalue_{column}", info=SQLITE_ONLY
            ).ddl_if(dialect="sqlite")
            for column, target in (
                ("metric_key", "metric.key"),
                ("person_id", "person.id"),
                ("team_id", "team.id"),
            )
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    metric_key: str = Field(max_length=32)
    person_id: int | None = Field(default=None)
    # For a person's row: the team they were in on that day, so history stays correct.
    team_id: int | None = Field(default=None)
    day: dt.date
    value: float
    weight: float = 1.0  # e.g. the number of contacts behind the value
    numerator: float | None = None  # ratios and NPS counts (promoters - detractors)
    denominator: float | None = None
    updated_at: dt.datetime = ts_field(default_now=True)


sa.event.listen(MetricValue.__table__, "after_create", integrity.after_create)  # type: ignore[attr-defined]


class KpiInterval(SQLModel, table=True):
    """One metric of one platform agent or queue over one interval, as counts.

    What a connector pulled (domain/sources.py): re-pulling an interval replaces it,
    and the local days it falls on are rolled up again into `metricvalue`.
    """

    __table_args__ = (
        sa.UniqueConstraint(
            "source", "kind", "external_id", "metric_key", "start", name="uq_kpiinterval"
        ),
        # A pull replaces one source's window; a rollup reads one local day of all sources.
        sa.Index("ix_kpiinterval_start_source", "start", "source"),
        sa.CheckConstraint("denominator >= 0 AND contacts >= 0", name="ck_kpiinterval_counts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)
    kind: str = Field(max_length=8)  # agent | queue
    external_id: str = Field(max_length=128)
    metric_key: str = Field(foreign_key="metric.key", max_length=32)
    start: dt.datetime = ts_field()
    minutes: int
    numerator: float
    denominator: float
    contacts: float


class SourceSubject(SQLModel, table=True):
    """A platform's user or queue, and who (or which team) it is here.

    An agent is matched by email to a person on the roster (or set by hand); a queue is
    mapped to a team by an admin (`leadbot sources map`). Unmapped ones are listed.
    """

    __table_args__ = (
        sa.UniqueConstraint("source", "kind", "external_id", name="uq_sourcesubject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=16)
    kind: str = Field(max_length=8)  # agent | queue
    external_id: str = Field(max_length=128)
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254, index=True)  # lower-cased
    person_id: int | None = Field(default=None, foreign_key="person.id")  # set by hand
    team_id: int | None = Field(default=None, foreign_key="team.id")  # a queue's team
    seen_at: dt.datetime = ts_field(default_now=True)


class SourceState(SQLModel, table=True):
    """Per source: the watermark (everything before it was pulled at least once) and
    how its last pull went."""

    source: str = Field(primary_key=True, max_length=16)
    watermark: dt.datetime | None = ts_field(nullable=True)
    subjects_at: dt.datetime | None = ts_field(nullable=True)
    last_run_at: dt.datetime | None = ts_field(nullable=True)
    last_ok_at: dt.datetime | None = ts_field(nullable=True)
    last_error: str | None = Field(default=None, max_length=1000)
    last_rows: int = 0


class Goal(SQLModel, table=True):
    __table_args__ = (
        sa.Index(
            "uq_goal_active",
            "team_id",
            "metric_key",
            "period",
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        ),
        sa.CheckConstraint("op IN ('>=', '<=', '>', '<')", name="ck_goal_op"),
        sa.CheckConstraint("period IN ('daily', 'weekly', 'monthly')", name="ck_goal_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    metric_key: str = Field(foreign_key="metric.key", max_length=32)
    op: str = Field(max_length=2)
    target: float
    period: str = Field(default="daily", max_length=8)
    set_by_id: int | None = Field(default=None, foreign_key="person.id")
    since: dt.datetime = ts_field(default_now=True)
    active: bool = True


# --- recognition ---------------------------------------------------------------------


class ValueTag(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=60)
    active: bool = True
    position: int = 0


class Recognition(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    giver_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    receiver_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    message: str = Field(max_length=1000)
    value_tag: str | None = Field(default=None, max_length=32)
    group_key: str | None = Field(default=None, max_length=40)  # one kudos to several people
    source: str = Field(default="manual", max_length=16)  # manual | suggested
    created_at: dt.datetime = ts_field(default_now=True, index=True)


class KudosSuggestion(SQLModel, table=True):
    """A recognition the bot proposes to a lead from the KPIs (streak, personal best, ...)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)  # makes each suggestion happen once
    team_id: int = Field(foreign_key="team.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=24)  # streak | personal_best | improvement
    detail: str = Field(max_length=500)
    value_tag: str | None = Field(default=None, max_length=32)
    status: str = Field(default="pending", max_length=12)  # pending | posted | dismissed
    created_at: dt.datetime = ts_field(default_now=True)


# --- one-on-ones ---------------------------------------------------------------------


class OneOnOne(SQLModel, table=True):
    __table_args__ = (
        sa.Index(
            "uq_oneonone_active",
            "lead_id",
            "agent_id",
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        ),
        sa.CheckConstraint("cadence_weeks BETWEEN 1 AND 12", name="ck_oneonone_cadence"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(foreign_key="person.id", index=True)
    agent_id: int = Field(foreign_key="person.id", index=True)
    cadence_weeks: int = 2
    weekday: int = 0  # Monday = 0
    local_time: str = Field(default="10:00", max_length=5)
    duration_minutes: int = 30
    timezone: str = Field(default="UTC", max_length=64)  # the lead's zone when scheduled
    next_at: dt.datetime | None = ts_field(nullable=True, index=True)
    active: bool = True
    created_at: dt.datetime = ts_field(default_now=True)


class OneOnOneOccurrence(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("one_on_one_id", "scheduled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    one_on_one_id: int = Field(foreign_key="oneonone.id", index=True)
    scheduled_at: dt.datetime = ts_field()
    status: str = Field(default="scheduled", max_length=12)  # scheduled | held | skipped
    notes: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=500)
    updated_at: dt.datetime = ts_field(default_now=True)


class AgendaItem(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    one_on_one_id: int = Field(foreign_key="oneonone.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    text: str = Field(max_length=500)
    occurrence_id: int | None = Field(default=None, foreign_key="oneononeoccurrence.id")
    created_at: dt.datetime = ts_field(default_now=True)


# --- action items --------------------------------------------------------------------


class ActionItem(SQLModel, table=True):
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'done', 'cancelled')", name="ck_action_status"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    owner_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    assigned_by_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    due_date: dt.date | None = None
    status: ActionStatus = Field(
        default=ActionStatus.open, sa_column=enum_column(ActionStatus, index=True)
    )
    source: str = Field(default="manual", max_length=16)  # manual | one_on_one | pulse | meeting
    source_ref: str | None = Field(default=None, max_length=64)
    metric_key: str | None = Field(default=None, foreign_key="metric.key", max_length=32)
    metric_op: str | None = Field(default=None, max_length=2)
    metric_target: float | None = None
    close_offered_at: dt.datetime | None = ts_field(nullable=True)
    created_at: dt.datetime = ts_field(default_now=True)
    updated_at: dt.datetime = ts_field(default_now=True)
    closed_at: dt.datetime | None = ts_field(nullable=True)


class ActionItemEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="actionitem.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id")  # None: the bot
    kind: str = Field(max_length=24)  # created, accepted, done, reminder_sent, ...
    detail: str = Field(default="", max_length=1000)
    created_at: dt.datetime = ts_field(default_now=True)


class ActionProposal(SQLModel, table=True):
    """An owner's request to move the due date of (or to cancel) an item someone else
    assigned them; the assigner or the owner's lead approves or declines it. At most one
    is pending per item; the item is unchanged until it is approved."""

    __table_args__ = (
        sa.Index(
            "uq_actionproposal_pending",
            "item_id",
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.CheckConstraint("kind IN ('due', 'cancel')", name="ck_actionproposal_kind"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'declined', 'withdrawn')",
            name="ck_actionproposal_status",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="actionitem.id", index=True)
    kind: str = Field(max_length=8)  # due | cancel
    due_date: dt.date | None = None  # the date asked for (kind due; None: no due date)
    from_due: dt.date | None = None  # the item's due date when it was asked
    reason: str = Field(default="", max_length=500)
    proposed_by_id: int | None = Field(default=None, foreign_key="person.id")
    status: str = Field(default="pending", max_length=10)
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = ts_field(default_now=True)
    decided_at: dt.datetime | None = ts_field(nullable=True)


# --- pulse (ESAT) ----------------------------------------------------------------------


class PulseSchedule(SQLModel, table=True):
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    cadence: str = Field(default="off", max_length=10)  # weekly | biweekly | monthly | off
    weekday: int = 4  # Friday
    local_time: str = Field(default="15:00", max_length=5)
    question: str = Field(default="How satisfied are you with your work this week?", max_length=300)
    enps_monthly: bool = True
    open_hours: int = 72
    remind_after_hours: int = 24
    updated_at: dt.datetime = ts_field(default_now=True)


class PulseRound(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    question: str = Field(max_length=300)
    include_enps: bool = False
    opens_at: dt.datetime = ts_field()
    closes_at: dt.datetime = ts_field()
    remind_at: dt.datetime | None = ts_field(nullable=True)
    status: str = Field(default="open", max_length=8)  # open | closed
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    summary_sent: bool = False
    # The privacy threshold the round was opened under (max(3, PULSE_MIN_RESPONSES) then):
    # it is shown only with at least this many answers and today's threshold, whichever
    # is higher, so lowering the setting later never reveals it.
    min_responses: int = 5


class PulseDelivery(SQLModel, table=True):
    """Who was asked and whether they answered; never what they answered, nor when."""

    __table_args__ = (sa.UniqueConstraint("round_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pulseround.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    answered: bool = False
    reminded: bool = False


class PulseResponse(SQLModel, table=True):
    """An answer. While its round is open it is tied to its respondent only by a keyed
    hash (HMAC with the server secret), so they can change it; when the round closes the
    hash is cleared and the rows are rewritten in an order that says nothing (storage.pulse
    close_due), so nothing stored ties the answer to anyone.

    No timestamp: a time could be matched against other records to name the respondent.
    """

    __table_args__ = (
        sa.UniqueConstraint("round_id", "question", "respondent_hash"),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name="ck_pulseresponse_score"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pulseround.id", index=True)
    question: str = Field(default="esat", max_length=8)  # esat (1-5) | enps (0-10)
    respondent_hash: str | None = Field(default=None, max_length=64)  # None once closed
    score: int
    comment: str | None = Field(default=None, max_length=2000)


# --- delivery and scheduling -----------------------------------------------------------


class OutboxMessage(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name="ck_outbox_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    platform: str = Field(max_length=10)  # slack | teams | console
    target: str = Field(max_length=400)  # Slack channel/user id, Teams conversation id, ...
    recipient_person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    recipient_team_id: int | None = Field(default=None, foreign_key="team.id")
    kind: str = Field(default="message", max_length=24)  # message | update
    payload: str  # a neutral Reply as JSON; rendered by the platform's sender
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_column=enum_column(OutboxStatus))
    attempts: int = 0
    next_attempt_at: dt.datetime = ts_field(default_now=True)  # also quiet-hours hold
    last_error: str | None = Field(default=None, max_length=1000)
    external_ref: str | None = Field(default=None, max_length=200)  # e.g. Slack ts
    # The dispatcher holding the row's lease (None when nobody does): the lease is renewed
    # while it sends, and a claim's token is (attempts, claimed_by).
    claimed_by: str | None = Field(default=None, max_length=120)
    created_at: dt.datetime = ts_field(default_now=True)
    sent_at: dt.datetime | None = ts_field(nullable=True)


class RateBudget(SQLModel, table=True):
    """A platform's app-wide send budget, shared by every dispatcher on this database
    (a GCRA: `tat` is the epoch second at which the budget's next slot frees up)."""

    key: str = Field(primary_key=True, max_length=64)  # e.g. "slack:0"
    tat: float = 0.0


class JobRun(SQLModel, table=True):
    """The claim of one scheduled run: (job, scope, fire time) happens once, cluster-wide."""

    __table_args__ = (sa.UniqueConstraint("job_id", "scope", "fire_time", name="uq_jobrun_claim"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=64)
    scope: str = Field(default="", max_length=64)
    fire_time: dt.datetime = ts_field()
    claimed_by: str = Field(max_length=120)
    claimed_at: dt.datetime = ts_field(default_now=True)
    finished_at: dt.datetime | None = ts_field(nullable=True)
    status: str = Field(default="running", max_length=10)  # running | ok | failed
    error: str | None = Field(default=None, max_length=1000)


class TeamsInstall(SQLModel, table=True):
    """A Teams team (or group chat) leadbot was added to: `leadbot teams sync` reads the
    roster of each to map people by email."""

    conversation_id: str = Field(primary_key=True, max_length=400)
    ref: str  # the conversation reference (JSON, bot/teams/refs.py)
    installed_at: dt.datetime = ts_field(default_now=True)


class ProcessedEvent(SQLModel, table=True):
    """Idempotency keys for incoming deliveries (Slack retries, Teams re-sends)."""

    key: str = Field(primary_key=True, max_length=200)
    received_at: dt.datetime = ts_field(default_now=True)


class SeenRequest(SQLModel, table=True):
    """Signed requests already acted on, for their replay window (minutes, then pruned)."""

    key: str = Field(primary_key=True, max_length=120)
    seen_at: dt.datetime = ts_field(index=True)


class Notice(SQLModel, table=True):
    """One-time notices already given (e.g. a hint to a lead), so they are not repeated."""

    key: str = Field(primary_key=True, max_length=200)
    created_at: dt.datetime = ts_field(default_now=True)


class DashboardLink(SQLModel, table=True):
    """A one-time dashboard sign-in link (`/leadbot dashboard`): only a hash of its secret
    part is kept; `used_at` is set by the one request that may use it."""

    id: int | None = Field(default=None, primary_key=True)
    nonce_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: dt.datetime = ts_field(default_now=True)
    expires_at: dt.datetime = ts_field(index=True)
    used_at: dt.datetime | None = ts_field(nullable=True)


class DashboardSession(SQLModel, table=True):
    """A signed-in dashboard browser: the hash of its cookie, whose it is, its CSRF token."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: dt.datetime = ts_field(default_now=True)
    expires_at: dt.datetime = ts_field(index=True)


# --- live queues and alerts (storage/alerts.py) -------------------------------------------


class LiveQueue(SQLModel, table=True):
    """The latest observation of one queue (domain.live.Observation), from a poller or
    the push endpoint; the team is the one the queue is mapped to."""

    queue_id: str = Field(primary_key=True, max_length=120)
    queue_name: str | None = Field(default=None, max_length=120)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    source: str = Field(default="", max_length=40)
    observed_at: dt.datetime = ts_field()
    received_at: dt.datetime = ts_field(default_now=True)
    waiting: int | None = None
    longest_wait_seconds: float | None = None
    agents_available: int | None = None
    agents_on_queue: int | None = None
    agents_interacting: int | None = None
    window_minutes: int = 30
    offered: int | None = None
    answered_in_sl: int | None = None
    abandoned: int | None = None
    asa_seconds: float | None = None
    occupancy: float | None = None
    sl_threshold_seconds: int | None = None
    offered_today: int | None = None
    answered_in_sl_today: int | None = None
    abandoned_today: int | None = None


class AlertRule(SQLModel, table=True):
    """A team's (or one queue's) alert on one live metric (domain/alerts.py)."""

    __table_args__ = (
        sa.UniqueConstraint("team_id", "queue_key", "metric", name="uq_alertrule_scope"),
        sa.CheckConstraint("op IN ('>=', '<=', '>', '<')", name="ck_alertrule_op"),
        sa.CheckConstraint("outside IN ('hold', 'drop')", name="ck_alertrule_outside"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    queue_key: str = Field(default="", max_length=120)  # "" = every queue of the team
    metric: str = Field(max_length=16)
    op: str = Field(max_length=2)
    warning: float
    critical: float
    onset_minutes: int = 5
    cooldown_minutes: int = 30
    clear_minutes: int = 2
    escalate_minutes: int | None = None  # None: never escalates (NewRule gives 15)
    hours: str = Field(default="", max_length=200)  # "" = the lead's hours; "always"; a pattern
    outside: str = Field(default="hold", max_length=4)  # outside those hours: hold | drop
    paused: bool = False
    removed: bool = False  # kept for the incidents' history
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: dt.datetime = ts_field(default_now=True)
    updated_at: dt.datetime = ts_field(default_now=True)


class AlertState(SQLModel, table=True):
    """The evaluation state of one rule on one queue (domain.alerts.State); `version`
    makes every change a compare-and-set, so two schedulers never act on it twice."""

    rule_id: int = Field(foreign_key="alertrule.id", primary_key=True)
    queue_id: str = Field(primary_key=True, max_length=120)
    version: int = 0
    open: bool = False
    level: int = 0
    severity: int = 0
    breach_since: dt.datetime | None = ts_field(nullable=True)
    clear_since: dt.datetime | None = ts_field(nullable=True)
    critical_since: dt.datetime | None = ts_field(nullable=True)
    opened_at: dt.datetime | None = ts_field(nullable=True)
    resolved_at: dt.datetime | None = ts_field(nullable=True)
    escalated: bool = False
    peak: float | None = None
    incident_id: int | None = Field(default=None, foreign_key="alertincident.id")


class AlertIncident(SQLModel, table=True):
    """One incident: one chat message, edited in place from open to resolved. At most
    one open incident per rule and queue (uq_alertincident_open)."""

    __table_args__ = (
        sa.Index(
            "uq_alertincident_open",
            "rule_id",
            "queue_id",
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        ),
        sa.Index("ix_alertincident_team_opened", "team_id", "opened_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="alertrule.id")
    team_id: int = Field(foreign_key="team.id")
    queue_id: str = Field(max_length=120)
    queue_name: str | None = Field(default=None, max_length=120)
    metric: str = Field(max_length=16)
    op: str = Field(max_length=2)
    warning: float
    critical: float
    severity: int = 1  # 1 warning, 2 critical (domain.alerts.Level)
    worst_severity: int = 1
    since: dt.datetime = ts_field()  # when the breach began
    opened_at: dt.datetime = ts_field()
    resolved_at: dt.datetime | None = ts_field(nullable=True)
    closed_reason: str | None = Field(default=None, max_length=200)  # paused / removed by
    value: float | None = None  # the value shown in the message
    previous_value: float | None = None  # the value shown before it (for the trend)
    peak: float | None = None
    reopened: int = 0
    escalated_at: dt.datetime | None = ts_field(nullable=True)
    acked_by_id: int | None = Field(default=None, foreign_key="person.id")
    acked_at: dt.datetime | None = ts_field(nullable=True)
    posted: bool = True  # False: outside the rule's hours and dropped
    message_id: int | None = None  # the outbox row of the post (no FK: retention)
    updated_at: dt.datetime = ts_field(default_now=True)  # the message's last content change


class Wallboard(SQLModel, table=True):
    """A team's wallboard: one message edited in place every `interval_seconds`."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", unique=True)
    interval_seconds: int = 60
    active: bool = True
    message_id: int | None = None  # the outbox row of the post (no FK: retention)
    day: dt.date | None = None  # the team's local day the post is for (a new post each day)
    started_by_id: int | None = Field(default=None, foreign_key="person.id")
    started_at: dt.datetime = ts_field(default_now=True)
    updated_at: dt.datetime = ts_field(default_now=True)
    stopped_at: dt.datetime | None = ts_field(nullable=True)


class OutboxEdit(SQLModel, table=True):
    """An outbox row of kind "update" edits the message another row posted. No foreign
    keys: the retention job deletes delivered rows on its own schedule."""

    outbox_id: int = Field(primary_key=True)  # the update row
    edits_id: int = Field(index=True)  # the row whose posted message it edits
