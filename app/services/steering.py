"""« Pilotage »: how the procedure runs, measured by SQL over the history, for admins and analysts.

- the requests that entered each status, week by week (the « Statut : … » lines of the history,
  written by the ``enrolment.set_status`` handler), and how many are in each status now;
- the time spent in each user task (``task_span``, written by ``Run.save``): count, median and 90th
  percentile. Percentiles are nearest-rank (the value at rank ⌈p·n⌉ of the sorted stays):
  PostgreSQL's ``percentile_disc``, the same values from ``row_number``/``count`` windows on SQLite;
- the requests past a deadline (``overdue_since``, set by the diagram's reminder timer);
- per process version, the same times per element, graded for the diagram's heatmap.

Every figure is an aggregate computed by the database: Python only shapes the few result rows.
"""
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, literal

from .. import clock
from ..engine.specs import all_task_specs, load_spec
from ..extensions import db
from ..models import STATUS_LINE, EnrolmentRequest, ProcessVersion, RequestEvent, TaskSpan, WorkflowInstance, is_status_line
from ..package import statuses
from . import processes

#: The periods the page offers, in weeks.
PERIODS = (4, 12, 26, 52)
DEFAULT_WEEKS = 12
#: How many of the requests past a deadline the page lists (the oldest first); the count is total.
OVERDUE_SHOWN = 50
#: The heatmap's grades: a task's median wait over the slowest one's, in quarters (1: fastest).
GRADES = 4


@dataclass(frozen=True)
class StatusRow:
    label: str
    weeks: list[int]    # requests that entered the status, week by week (oldest first)
    now: int            # requests in the status today


@dataclass(frozen=True)
class StepTime:
    process: str
    element: str
    label: str
    count: int          # finished stays in the period
    median: int         # seconds
    p90: int
    waiting: int = 0    # requests waiting there now
    grade: int = 0      # heatmap grade, 1..GRADES (0: no finished stay)


@dataclass(frozen=True)
class Overdue:
    public_id: str
    number: str | None
    company_name: str | None
    status: str
    since: datetime


def week_starts(weeks: int, now: datetime | None = None) -> list[datetime]:
    """The Mondays (00:00, Paris time, as UTC) that start the last ``weeks`` weeks, this one last."""
    local = (now or clock.now()).astimezone(clock.PARIS)
    monday = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=local.weekday())
    return [(monday - timedelta(weeks=n)).astimezone(timezone.utc) for n in range(weeks - 1, -1, -1)]


def _of_process(query, process_id: str | None, from_events: bool = False):
    """``query`` (of requests, or of their history lines: ``from_events``) restricted to the
    requests whose (top) process is ``process_id`` (None: all)."""
    if not process_id:
        return query
    if from_events:
        query = query.join(EnrolmentRequest, EnrolmentRequest.id == RequestEvent.request_id)
    return query.join(WorkflowInstance, WorkflowInstance.id == EnrolmentRequest.instance_id).where(
        WorkflowInstance.process_version_id.in_(_versions(process_id)))


def _versions(process_id: str):
    return db.select(ProcessVersion.id).where(ProcessVersion.process_id == process_id)


def status_weeks(starts: list[datetime], process_id: str | None = None) -> list[StatusRow]:
    """Per status (the package's order), the requests that entered it in each week of ``starts``."""
    week = case(*((RequestEvent.at >= start, literal(i)) for i, start in reversed(list(enumerate(starts)))))
    entered = db.session.execute(_of_process(
        db.select(RequestEvent.action, week, func.count()).where(
            RequestEvent.at >= starts[0], is_status_line())
        .group_by(RequestEvent.action, week), process_id, from_events=True)).all()
    now = dict(db.session.execute(_of_process(
        db.select(EnrolmentRequest.status, func.count()).where(EnrolmentRequest.number.is_not(None))
        .group_by(EnrolmentRequest.status), process_id)).all())
    counts: dict[str, list[int]] = {}
    for action, index, count in entered:
        counts.setdefault(action.removeprefix(STATUS_LINE), [0] * len(starts))[index] = count
    rows = [StatusRow(s.agent_label, counts.pop(s.agent_label, [0] * len(starts)), now.get(s.code, 0))
            for s in statuses.current().submitted]
    # Labels no status of the package has any more (renamed since): kept, after the others.
    rows += [StatusRow(label, weeks, 0) for label, weeks in sorted(counts.items())]
    return [row for row in rows if row.now or any(row.weeks)]


def _step_times(where) -> list[tuple]:
    """(process, element, count, median, p90) of the finished spans ``where`` selects. PostgreSQL:
    ``percentile_disc``, fed in order by the index on (process, element, seconds…); elsewhere the
    same nearest-rank values picked by ``row_number``/``count`` windows."""
    group = (TaskSpan.process, TaskSpan.element)
    where = (TaskSpan.seconds.is_not(None), *where)
    if db.session.get_bind().dialect.name == "postgresql":
        def at(fraction: float):
            return func.percentile_disc(fraction).within_group(TaskSpan.seconds)
        return db.session.execute(db.select(*group, func.count(), at(0.5), at(0.9)).where(*where)
                                  .group_by(*group).order_by(*group)).all()
    ranked = db.select(
        *group, TaskSpan.seconds,
        func.row_number().over(partition_by=group, order_by=TaskSpan.seconds).label("rank"),
        func.count().over(partition_by=group).label("n"),
    ).where(*where).subquery()

    def at_rank(percent: int):
        return func.max(case((ranked.c.rank == (ranked.c.n * percent + 99) // 100, ranked.c.seconds)))

    columns = (ranked.c.process, ranked.c.element)
    return db.session.execute(db.select(*columns, func.max(ranked.c.n), at_rank(50), at_rank(90))
                              .group_by(*columns).order_by(*columns)).all()


def _labels(versions) -> dict[tuple[str, str], str]:
    """{(process, element): name} of the user tasks of ``versions`` (their called processes too)."""
    labels = {}
    for version in versions:
        spec = load_spec(version)
        labels.update({(process.name, task.bpmn_id): task.bpmn_name or task.bpmn_id
                       for process, task in all_task_specs(spec.spec, spec.subprocess_specs)
                       if getattr(task, "manual", False)})
    return labels


def _graded(rows: list[StepTime]) -> list[StepTime]:
    slowest = max((row.median for row in rows if row.count), default=0)
    return [replace(row, grade=min(GRADES, 1 + GRADES * row.median // slowest) if row.count and slowest else 0)
            for row in rows]


def step_times(since: datetime, process_id: str | None = None) -> list[StepTime]:
    """Time spent in each user task, by the stays that ended since ``since``."""
    where = [TaskSpan.left_at >= since]
    if process_id:
        where.append(TaskSpan.process_version_id.in_(_versions(process_id)))
    labels = _labels(processes.current_versions())
    return [StepTime(process, element, labels.get((process, element), element), count, median, p90)
            for process, element, count, median, p90 in _step_times(where)]


def heatmap(version: ProcessVersion, since: datetime) -> list[StepTime]:
    """The user tasks of ``version``'s own diagram, with their times and grades (slowest: GRADES)
    and how many of its requests wait there now; the tasks nobody went through yet included."""
    mine = [TaskSpan.process_version_id.in_(processes.running_versions(version)),
            TaskSpan.process == version.process_id]
    times = {element: (count, median, p90)
             for _, element, count, median, p90 in _step_times([*mine, TaskSpan.left_at >= since])}
    waiting = dict(db.session.execute(db.select(TaskSpan.element, func.count())
                                      .where(*mine, TaskSpan.left_at.is_(None)).group_by(TaskSpan.element)).all())
    labels = {element: label for (process, element), label in _labels([version]).items()
              if process == version.process_id}
    return _graded([StepTime(version.process_id, element, label, *times.get(element, (0, 0, 0)),
                             waiting=waiting.get(element, 0))
                    for element, label in sorted(labels.items(), key=lambda item: item[1])])


def overdue(process_id: str | None = None) -> tuple[int, list[Overdue]]:
    """(how many requests are past a deadline, the OVERDUE_SHOWN oldest ones)."""
    late = _of_process(db.select(EnrolmentRequest).where(EnrolmentRequest.overdue_since.is_not(None)), process_id)
    total = db.session.scalar(db.select(func.count()).select_from(late.subquery()))
    shown = db.session.scalars(late.order_by(EnrolmentRequest.overdue_since, EnrolmentRequest.id)
                               .limit(OVERDUE_SHOWN)).all()
    return total, [Overdue(r.public_id, r.number, r.company_name, statuses.of(r.status).agent_label,
                           r.overdue_since) for r in shown]


def versions_of(process_id: str) -> list[ProcessVersion]:
    return list(db.session.scalars(db.select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                   .order_by(ProcessVersion.version.desc())))


def diagram_xml(version: ProcessVersion) -> str:
    """The BPMN file that defines ``version``'s process, as deployed with it."""
    sources = json.loads(version.sources_json)
    return next(xml for xml in sources.values() if version.process_id in processes.process_ids(xml))


def duration_fr(seconds: int) -> str:
    """« 2 j 3 h », « 3 h 20 min », « 12 min », « 40 s »: a wait, in French."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} j {hours} h" if hours else f"{days} j"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else f"{secs} s"
