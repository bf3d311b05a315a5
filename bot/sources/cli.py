"""`leadbot sources ...`: list, test, pull, backfill and map the KPI sources.

leadbot sources list                      every source: set up or what it lacks, its
                                          schedule, watermark, last pull, unmapped
leadbot sources test NAME                 one small authenticated call: what it found,
                                          or exactly what is wrong
leadbot sources pull [NAME]               pull now (every configured source, or one)
leadbot sources backfill NAME --since DATE [--until DATE]
leadbot sources map [NAME]                queues and teams, unmapped queues and users
leadbot sources map NAME QUEUE TEAM       map a queue (id or name) to a team
leadbot sources map NAME QUEUE --unmap
leadbot sources map NAME --agent USER EMAIL   map a platform user to a person by hand
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence

from bot.bootstrap import App
from bot.sources import TITLES, describe
from domain.sources import SOURCE_NAMES, KpiSource, Source, SourceError, SubjectKind
from jobs import kpi_pull
from storage import intervals, people, sources
from storage.migrate import upgrade
from storage.models import SourceState, SourceSubject


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `sources` sub-command and its tasks."""
    p = sub.add_parser("sources", help="KPI sources: list, test, pull, backfill, map")
    tasks = p.add_subparsers(dest="sources_cmd", metavar="TASK", required=True)
    tasks.add_parser("list", help="every source, whether it is set up, its last pull")
    t = tasks.add_parser("test", help="one small authenticated call to a source")
    t.add_argument("name", choices=SOURCE_NAMES)
    pl = tasks.add_parser("pull", help="pull now (every configured source, or one)")
    pl.add_argument("name", nargs="?", choices=SOURCE_NAMES)
    b = tasks.add_parser("backfill", help="pull a span of the past again")
    b.add_argument("name", choices=[n for n in SOURCE_NAMES if n != "http"])
    b.add_argument("--since", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    b.add_argument("--until", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: now)")
    m = tasks.add_parser("map", help="queue -> team mappings; unmapped queues and users")
    m.add_argument("name", nargs="?", choices=[n for n in SOURCE_NAMES if n != "http"])
    m.add_argument("queue", nargs="?", help="a queue's id or name")
    m.add_argument("team", nargs="?", help="the team it belongs to")
    m.add_argument("--unmap", action="store_true", help="remove the queue's team")
    m.add_argument("--agent", nargs=2, metavar=("USER", "EMAIL"), help="map a user by hand")


async def main(app: App, args: argparse.Namespace) -> int:
    """Run one `sources` task; 0 on success, 1 when the source failed, 2 for bad input."""
    try:
        await upgrade(app.db)
        task = args.sources_cmd
        if task == "list":
            return await _list(app)
        if task == "test":
            return await _test(app, args.name)
        if task == "pull":
            return await _pull(app, args.name)
        if task == "backfill":
            return await _backfill(app, args.name, args.since, args.until)
        return await _map(app, args)
    finally:
        for s in app.sources.values():
            await s.aclose()
        await app.db.dispose()


def _when(t: dt.datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC") if t else "never"


async def _list(app: App) -> int:
    states = await sources.list_states(app.db)
    subjects = await sources.list_subjects(app.db)
    resolved = await sources.resolve(app.db)
    for c in describe(app.settings):
        if c.name not in app.sources:
            print(f"{c.name:8} {c.title}: not set up (set {', '.join(c.missing)})")
            continue
        job = app.jobs.get(kpi_pull.job_id(c.name))
        cron = job.cron if job else None
        when = f"{cron.minute} {cron.hour} {cron.day} * {cron.day_of_week}" if cron else "-"
        print(f"{c.name:8} {c.title}: on, pulled at '{when}' (UTC)")
        _state_lines(states.get(c.name))
        mine = [s for s in subjects if s.source == c.name]
        if mine:
            unmapped = [s for s in mine if (s.source, s.kind, s.external_id) not in resolved]
            queues = sum(1 for s in unmapped if s.kind == SubjectKind.queue)
            agents = len(unmapped) - queues
            print(
                f"         {len(mine)} users and queues seen; unmapped: {queues} queues, "
                f"{agents} users (leadbot sources map {c.name})"
            )
    return 0


def _state_lines(st: SourceState | None) -> None:
    if st is None:
        print("         not pulled yet")
        return
    print(f"         pulled through {_when(st.watermark)}; last success {_when(st.last_ok_at)}")
    if st.last_error:
        print(f"         last pull failed: {st.last_error}")


def _source(app: App, name: str) -> Source | None:
    source = app.sources.get(name)
    if source is None:
        missing = next(c.missing for c in describe(app.settings) if c.name == name)
        print(f"{TITLES[name]} is not set up: set {', '.join(missing)}.")
    return source


async def _test(app: App, name: str) -> int:
    source = _source(app, name)
    if source is None:
        return 2
    try:
        report = await source.check()
    except SourceError as exc:  # a missing extra, before any call
        print(f"{source.title}: {exc.message}")
        return 1
    for fact in report.facts:
        print(f"ok: {fact}")
    if not report.ok:
        print(f"problem: {report.problem}")
        return 1
    print(f"{source.title} is ready.")
    return 0


async def _pull(app: App, name: str | None) -> int:
    names = [name] if name else list(app.sources)
    if not names:
        print("No KPI source is set up (see `leadbot sources list`).")
        return 2
    failed = False
    for n in names:
        source = _source(app, n)
        if source is None:
            return 2
        try:
            result = await kpi_pull.pull(app.ctx, source)
        except SourceError as exc:
            print(f"{source.title}: {exc.message}")
            failed = True
            continue
        print(result.summary())
        failed = failed or not result.ok
    return 1 if failed else 0


async def _backfill(app: App, name: str, since: dt.date, until: dt.date | None) -> int:
    source = _source(app, name)
    if source is None:
        return 2
    assert isinstance(source, KpiSource)
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    end = (
        dt.datetime.combine(until, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)
        if until
        else None
    )
    if end is not None and end <= start:
        print("--until must not be before --since.")
        return 2
    result = await kpi_pull.pull_intervals(app.ctx, source, since=start, until=end)
    print(result.summary())
    return 0 if result.ok else 1


async def _map(app: App, args: argparse.Namespace) -> int:
    if args.name and (args.queue or args.agent):
        return await _set(app, args)
    if args.name:
        source = _source(app, args.name)
        if source is not None and isinstance(source, KpiSource):
            try:  # the platform's current users and queues, so the list is complete
                known = await sources.known_ids(app.db, source=args.name)
                found = await source.subjects(known)
                await sources.save_subjects(app.db, source=args.name, subjects=list(found))
            except SourceError as exc:
                print(f"(could not refresh from {source.title}: {exc.message})")
    subjects = await sources.list_subjects(app.db, source=args.name)
    teams = {t.id: t.name for t in await people.list_teams(app.db)}
    resolved = await sources.resolve(app.db)
    _print_map(subjects, teams, resolved)
    return 0


def _print_map(
    subjects: Sequence[SourceSubject],
    teams: dict[int | None, str],
    resolved: dict[tuple[str, str, str], sources.Target],
) -> None:
    if not subjects:
        print("No users or queues seen yet: run `leadbot sources map NAME` or a pull first.")
        return
    for s in subjects:
        target = resolved.get((s.source, s.kind, s.external_id))
        label = f"{s.name or s.external_id} ({s.external_id})"
        if s.kind == SubjectKind.queue:
            where = f"-> {teams.get(s.team_id, '?')}" if target else "UNMAPPED"
            print(f"{s.source:8} queue  {label}: {where}")
        elif target is None:
            why = f"no one on the roster has {s.email}" if s.email else "no email"
            print(f"{s.source:8} user   {label}: UNMAPPED ({why})")
    mapped_users = sum(
        1
        for s in subjects
        if s.kind == SubjectKind.agent and (s.source, s.kind, s.external_id) in resolved
    )
    print(f"{mapped_users} users matched to people on the roster by email.")


async def _set(app: App, args: argparse.Namespace) -> int:
    if args.agent:
        user, email = args.agent
        person = await people.get_by_email(app.db, email=email.strip().lower())
        if person is None:
            print(f"{email} is not on the roster.")
            return 2
        found = await sources.find_subject(
            app.db, source=args.name, kind=SubjectKind.agent, text=user
        )
        ext = found[0].external_id if len(found) == 1 else user
        await intervals.map_subject(
            app.db, source=args.name, kind="agent", external_id=ext, person_id=person.id
        )
        print(f"{args.name} user {ext} -> {person.display_name} <{person.email}>")
        return 0
    found = await sources.find_subject(
        app.db, source=args.name, kind=SubjectKind.queue, text=args.queue
    )
    if len(found) != 1:
        what = "no queue" if not found else f"{len(found)} queues"
        print(
            f"{what} of {args.name} called {args.queue!r}; see `leadbot sources map {args.name}`."
        )
        return 2
    queue = found[0]
    team_id: int | None = None
    if not args.unmap:
        if not args.team:
            print("Give the team (or --unmap).")
            return 2
        team = await people.get_team_by_name(app.db, name=args.team)
        if team is None:
            print(f"There is no team called {args.team!r}.")
            return 2
        team_id = team.id
    written, removed = await intervals.map_subject(
        app.db, source=args.name, kind="queue", external_id=queue.external_id, team_id=team_id
    )
    to = args.team if team_id else "no team"
    print(
        f"{args.name} queue {queue.name or queue.external_id} -> {to} "
        f"({written} daily values written, {removed} removed)"
    )
    return 0
