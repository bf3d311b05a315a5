"""The `/alert` and `/wallboard` handlers.

Leads manage their team's rules, managers their teams', admins every team's; everyone
else is refused. Bad input answers the usage line and changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from domain.alerts import ALERT_METRICS, DEFAULT_RULES, find_metric, thresholds_problem
from domain.errors import NotAllowed, NotFound, UsageError, UserError
from domain.localtime import local_midnight, local_today
from domain.numbers import finite, parse_int
from domain.parsing import Args
from domain.types import Command, Reply, Text, Visibility
from handlers.alerts import render
from handlers.alerts.engine import wallboard_payload
from handlers.alerts.words import (
    OPTION_WORDS,
    managed_team_ids,
    read_id,
    read_op,
    read_options,
    read_threshold,
    require_leader,
    split_team,
    target_team,
)
from handlers.core.context import HandlerContext
from storage import alerts, outbox, people
from storage.models import AlertRule, Team

MIN_WALLBOARD_SECONDS = 30  # Slack chat.update is ~50 a minute per workspace, shared


def _done(text: str) -> Reply:
    return Reply(blocks=[Text(text)], text=text)


async def alert_add(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/alert add defaults [team NAME]` or `/alert add METRIC OP WARNING CRITICAL [options]`."""
    require_leader(cmd, "add alerts")
    words, team_words = split_team(args)
    if not words:
        raise UsageError("Say which metric, or `defaults`.")
    if words[0].lower() == "defaults":
        if len(words) > 1:
            raise UsageError(f"I didn't understand {' '.join(words[1:])!r}.")
        return await _add_defaults(cmd, ctx, team_words)
    metric = find_metric(words[0])
    if metric is None:
        names = ", ".join(m.key for m in ALERT_METRICS.values())
        raise UsageError(f"I don't know the live metric {words[0]!r}: use one of {names}.")
    if len(words) < 4:
        raise UsageError("Give a comparison and two thresholds, warning then critical.")
    op = read_op(words[1])
    warning = read_threshold(metric, words[2])
    critical = read_threshold(metric, words[3])
    problem = thresholds_problem(op, warning, critical)
    if problem:
        raise UsageError(f"Those thresholds don't fit: {problem}.")
    opts = read_options(
        words[4:],
        metric,
        allowed=tuple(w for w in OPTION_WORDS if w not in ("warning", "critical")),
    )
    team = await target_team(ctx, cmd, team_words)
    assert team.id is not None
    new = alerts.NewRule(
        team_id=team.id,
        metric=metric.key,
        op=op,
        warning=warning,
        critical=critical,
        created_by_id=cmd.actor.person_id,
    )
    new = _with(new, opts)
    [(rule, created)] = await alerts.add_rules(ctx.db, rules=[new], now=ctx.now())
    if not created:
        return Reply(
            blocks=[
                Text(
                    f"{team.name} already has rule #{rule.id} on {metric.name.lower()}"
                    f"{' for ' + rule.queue_key if rule.queue_key else ''}: change it with "
                    f"`/alert edit {rule.id} ...`. Nothing changed."
                )
            ],
            text="That alert exists already.",
            ok=False,
        )
    return _done(
        f"Added alert #{rule.id} for {team.name}: {render.rule_text(rule)}; {_timing(rule)}."
        + await _channel_note(ctx, team)
    )


# Alerts and the wallboard post in the team's channel, linked only on purpose.
NO_CHANNEL = (
    "{team} has no channel linked, so leadbot has nowhere to post alerts: its lead, its "
    "manager or an admin links one with `/leadbot link` in that channel."
)


async def _channel_note(ctx: HandlerContext, team: Team) -> str:
    assert team.id is not None
    if await outbox.team_has_channel(ctx.db, team_id=team.id):
        return ""
    return " " + NO_CHANNEL.format(team=team.name)


def _with(new: alerts.NewRule, opts: dict[str, object]) -> alerts.NewRule:
    return dataclasses.replace(new, **opts)  # type: ignore[arg-type]


def _timing(r: AlertRule) -> str:
    esc = (
        f"escalates to the manager after {r.escalate_minutes} min critical"
        if r.escalate_minutes
        else "never escalates"
    )
    hours = (
        "at any hour"
        if r.hours == "always"
        else (f"during {r.hours}" if r.hours else "during the lead's hours")
    )
    return (
        f"fires after {r.onset_minutes} min, clears after {r.clear_minutes} min, cooldown "
        f"{r.cooldown_minutes} min, {esc}, {hours} ({r.outside} outside them)"
    )


async def _add_defaults(cmd: Command, ctx: HandlerContext, team_words: list[str]) -> Reply:
    team = await target_team(ctx, cmd, team_words)
    assert team.id is not None
    new = [
        alerts.NewRule(
            team_id=team.id,
            metric=d.metric,
            op=d.op,
            warning=d.warning,
            critical=d.critical,
            onset_minutes=d.onset_minutes,
            created_by_id=cmd.actor.person_id,
        )
        for d in DEFAULT_RULES
    ]
    added = await alerts.add_rules(ctx.db, rules=new, now=ctx.now())
    lines = [
        f"{'✓ added' if created else '· kept'} #{r.id} {render.rule_text(r)}"
        for r, created in added
    ]
    n = sum(created for _, created in added)
    head = (
        f"{team.name}: {n} default alert(s) added (80/20 service level)."
        if n
        else f"{team.name} has these alerts already; nothing changed."
    )
    head += await _channel_note(ctx, team)
    return Reply(blocks=[Text(head), Text("\n".join(lines))], text=head)


async def _rule_for(cmd: Command, ctx: HandlerContext, rule_id: int) -> tuple[AlertRule, Team]:
    rule = await alerts.get_rule(ctx.db, rule_id=rule_id)
    if rule is None:
        raise NotFound(f"There is no alert rule #{rule_id}.")
    allowed = await managed_team_ids(ctx, cmd)
    if allowed is not None and rule.team_id not in allowed:
        raise NotAllowed(f"Alert rule #{rule_id} is not one of your teams'.")
    team = await people.get_team(ctx.db, team_id=rule.team_id)
    assert team is not None
    return rule, team


async def alert_list(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/alert list [team NAME]`."""
    require_leader(cmd, "see alert rules")
    words, team_words = split_team(args)
    if words:
        raise UsageError(f"I didn't understand {' '.join(words)!r}.")
    if team_words:
        ids: set[int] | None = {(await target_team(ctx, cmd, team_words)).id or 0}
    else:
        ids = await managed_team_ids(ctx, cmd)
    rules = await alerts.list_rules(ctx.db, team_ids=ids)
    teams = {t.id: t for t in await people.list_teams(ctx.db) if t.id is not None}
    open_by_rule: dict[int, int] = {}
    for inc in await alerts.open_incidents(ctx.db, team_ids=ids):
        open_by_rule[inc.rule_id] = open_by_rule.get(inc.rule_id, 0) + 1
    return render.rules_reply(rules, teams, open_by_rule)


async def alert_edit(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/alert edit ID [warning V] [critical V] [for 5m] [cooldown 30m] [escalate 15m|never]
    [clear 2m] [hours ...] [outside hold|drop]`."""
    require_leader(cmd, "change alerts")
    rule_id = read_id(args.take_word("the rule's number") if args else None)
    words = [w for w in (str(t) for t in args.rest())]
    if not words:
        raise UsageError("Say what to change, e.g. `warning 75%` or `for 10m`.")
    rule, team = await _rule_for(cmd, ctx, rule_id)
    metric = render.metric_of(rule.metric)
    changes = read_options(words, metric, allowed=tuple(w for w in OPTION_WORDS if w != "queue"))
    warning = float(changes.get("warning", rule.warning))  # type: ignore[arg-type]
    critical = float(changes.get("critical", rule.critical))  # type: ignore[arg-type]
    problem = thresholds_problem(rule.op, warning, critical)
    if problem:
        raise UsageError(f"Those thresholds don't fit: {problem}.")
    changed = await alerts.change_rule(ctx.db, rule_id=rule_id, now=ctx.now(), values=changes)
    assert changed is not None
    return _done(
        f"Alert #{rule_id} for {team.name}: {render.rule_text(changed)}; {_timing(changed)}."
    )


async def _closings(
    ctx: HandlerContext, rules: list[AlertRule], team: Team, reason: str
) -> list[alerts.Closing]:
    now = ctx.now()
    out = []
    for inc in await alerts.open_incidents(ctx.db, rule_ids=[r.id for r in rules if r.id]):
        assert inc.id is not None
        inc.resolved_at, inc.closed_reason = now, reason
        out.append(
            alerts.Closing(inc.id, render.incident_reply(inc, tz=team.timezone, now=now).to_json())
        )
    return out


async def _pause_like(cmd: Command, args: Args, ctx: HandlerContext, how: str) -> Reply:
    require_leader(cmd, f"{how} alerts")
    words, team_words = split_team(args)
    if len(words) != 1:
        raise UsageError(f"Say which rule, or `all`: `/alert {how} 3`.")
    if words[0].lower() == "all":
        team = await target_team(ctx, cmd, team_words)
        rules = await alerts.list_rules(ctx.db, team_ids=[team.id or 0])
    else:
        rule, team = await _rule_for(cmd, ctx, read_id(words[0]))
        rules = [rule]
    if not rules:
        return _done(f"{team.name} has no alert rules; nothing changed.")
    reason = f"alert {'paused' if how == 'pause' else 'removed'} by {cmd.actor.name}"
    closed = 0
    for r in rules:
        assert r.id is not None
        closing = await _closings(ctx, [r], team, reason) if how != "resume" else []
        closed += len(closing)
        await alerts.change_rule(
            ctx.db,
            rule_id=r.id,
            now=ctx.now(),
            paused={"pause": True, "resume": False}.get(how),
            removed=how == "remove",
            closing=closing,
            reason=reason,
        )
    done = {"pause": "Paused", "resume": "Resumed", "remove": "Removed"}[how]
    ids = ", ".join(f"#{r.id}" for r in rules)
    extra = f" {closed} open alert(s) closed." if closed else ""
    return _done(f"{done} {team.name}'s alert {ids}.{extra}")


async def alert_pause(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/alert pause ID|all [team NAME]`: open incidents close."""
    return await _pause_like(cmd, args, ctx, "pause")


async def alert_resume(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/alert resume ID|all [team NAME]`."""
    return await _pause_like(cmd, args, ctx, "resume")


async def alert_remove(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/alert remove ID|all [team NAME]`: open incidents close; history stays."""
    return await _pause_like(cmd, args, ctx, "remove")


async def alert_history(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/alert history [days N] [team NAME]`."""
    require_leader(cmd, "see alert history")
    words, team_words = split_team(args)
    days = 7
    if words:
        if len(words) != 2 or words[0].lower() != "days":
            raise UsageError(f"I didn't understand {' '.join(words)!r}.")
        try:
            days = parse_int(words[1], what="days", lo=1, hi=90)
        except UsageError:
            raise UsageError("`days` is 1 to 90.") from None
    if team_words:
        team = await target_team(ctx, cmd, team_words)
        ids: set[int] | None = {team.id or 0}
        tz = team.timezone
    else:
        ids = await managed_team_ids(ctx, cmd)
        tz = cmd.actor.timezone
    now = ctx.now()
    start = local_midnight(now, tz) - dt.timedelta(days=days - 1)
    found = await alerts.incidents_between(
        ctx.db, team_ids=ids, start=start, end=now + dt.timedelta(seconds=1)
    )
    acked = await people.get_people(
        ctx.db, person_ids=[i.acked_by_id for i in found if i.acked_by_id]
    )
    return render.history_reply(
        found, days=days, tz=tz, names={k: p.display_name for k, p in acked.items()}
    )


# --- /wallboard ------------------------------------------------------------------------------


async def wallboard_on(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/wallboard on [every 60s] [team NAME]`."""
    require_leader(cmd, "start a wallboard")
    words, team_words = split_team(args)
    interval = ctx.settings.wallboard_seconds
    if words:
        if len(words) != 2 or words[0].lower() != "every":
            raise UsageError(f"I didn't understand {' '.join(words)!r}.")
        word = words[1].lower()
        try:
            seconds = float(word.rstrip("s")) if not word.endswith("m") else float(word[:-1]) * 60
            interval = int(finite(seconds, what="an interval"))
        except (ValueError, UsageError):
            raise UsageError(f"{words[1]!r} is not an interval (e.g. 60s, 2m).") from None
        if not MIN_WALLBOARD_SECONDS <= interval <= 3600:
            raise UsageError(f"A wallboard updates every {MIN_WALLBOARD_SECONDS} s to 60 min.")
    team = await target_team(ctx, cmd, team_words)
    assert team.id is not None
    if not await outbox.team_has_channel(ctx.db, team_id=team.id):
        raise UserError(f"{NO_CHANNEL.format(team=team.name)} Nothing was started.")
    now = ctx.now()
    payload = await wallboard_payload(ctx, team, now=now)
    _wb, started = await alerts.start_wallboard(
        ctx.db,
        team_id=team.id,
        interval_seconds=interval,
        person_id=cmd.actor.person_id,
        now=now,
        day=local_today(now, team.timezone),
        payload=payload,
    )
    if not started:
        return _done(f"{team.name}'s wallboard is already on; it now updates every {interval} s.")
    return _done(
        f"{team.name}'s wallboard is on in the team channel, updated every {interval} s. "
        "`/wallboard off` stops it."
    )


async def wallboard_off(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/wallboard off [team NAME]`: stops, leaving a final snapshot."""
    require_leader(cmd, "stop a wallboard")
    words, team_words = split_team(args)
    if words:
        raise UsageError(f"I didn't understand {' '.join(words)!r}.")
    team = await target_team(ctx, cmd, team_words)
    assert team.id is not None
    now = ctx.now()
    payload = await wallboard_payload(ctx, team, now=now, final=True, stopped_by=cmd.actor.name)
    if not await alerts.stop_wallboard(ctx.db, team_id=team.id, now=now, payload=payload):
        return Reply(
            blocks=[Text(f"{team.name} has no wallboard running; nothing changed.")],
            text="No wallboard.",
            ok=False,
        )
    return _done(f"Stopped {team.name}'s wallboard; its message keeps a final snapshot.")


async def wallboard_show(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/wallboard [team NAME]`: the figures now, only to the asker."""
    require_leader(cmd, "see the wallboard")
    words, team_words = split_team(args)
    if words:
        raise UsageError(f"I didn't understand {' '.join(words)!r}.")
    team = await target_team(ctx, cmd, team_words)
    reply = Reply.from_json(await wallboard_payload(ctx, team, now=ctx.now()))
    reply.visibility = Visibility.ephemeral
    return reply
