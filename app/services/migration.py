"""Moving running requests to another version of their process (« Demandes en cours sur une
version antérieure »), and undoing a move.

A request runs on the version of its process that was current when it started. After a deploy,
an analyst may move the requests that wait in elements the new version keeps unchanged: the
workflow is aligned on the new specs with SpiffWorkflow's own utilities
(``SpiffWorkflow.bpmn.util.diff``: ``diff_workflow``, ``migrate_workflow``), called processes
included. A request may move when every task it waits in (ready, waiting, started: user tasks,
timers, call activities, in called processes too) is aligned with a spec the new version keeps as
it was (its flows in and out excepted: a waiting task follows the new flows once done), when no
element it already went through was removed (its history could not be read again), and when it has
no open incident. Each move is one transaction, recorded in the request's history, and keeps the
instance as it was so that « Annuler le changement de version » puts it back exactly, as long as
nothing else happened to the request since.
"""
import json
from copy import deepcopy
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from ..engine import Run
from ..engine.position import element_spec, passed_elements
from ..engine.setup import SERIALIZER
from ..engine.specs import load_spec
from ..engine.waiting import LIVE
from ..extensions import db
from ..models import (AuditEntry, EnrolmentRequest, InstanceMove, ProcessVersion, RequestEvent, WaitingLane,
                      WorkflowInstance)
from ..models.migration import request_label
from . import enrolment, incidents

#: What a spec comparison may report about a waiting task without it being a change of what the task
#: does: where its flows come from and go to (once done, it follows the new version's flows). The
#: events attached to it are a change, though (SpiffWorkflow wires them in as an input of the task).
_NOT_A_CHANGE = {"inputs", "outputs"}
_ATTACHED = ".BoundaryEventSplit"
#: Task states that say what already happened (their spec must still exist to read the history).
_DONE = TaskState.COMPLETED | TaskState.ERROR | TaskState.CANCELLED

MOVED = "Changement de version du processus"
UNDONE = "Changement de version annulé"


class MigrationError(Exception):
    """What was asked cannot be done; the message says why, in French."""


class Refused(MigrationError):
    """This request cannot move (or its move cannot be undone); the message says why, in French."""


def target_version(process_id: str, number: int | None = None) -> ProcessVersion:
    """Version ``number`` of ``process_id``, or its current version."""
    query = db.select(ProcessVersion).where(ProcessVersion.process_id == process_id)
    query = query.where(ProcessVersion.version == number) if number else query.where(ProcessVersion.is_current.is_(True))
    found = db.session.scalar(query)
    if found is None:
        raise MigrationError(f"Le processus « {process_id} » n'a pas de version {number}." if number
                             else f"Le processus « {process_id} » n'est pas déployé.")
    return found


def _label(task_spec) -> str:
    return task_spec.bpmn_name or task_spec.bpmn_id or task_spec.name


def waiting_labels(run: Run) -> list[str]:
    """Where the request waits, for a person: its ready user tasks, waiting events and started
    tasks, innermost (the call activities whose process runs are left out)."""
    labels = []
    for workflow in run.workflows:
        for task in workflow.get_tasks(state=LIVE, skip_subprocesses=True):
            if task.task_spec.bpmn_id and not isinstance(task.task_spec, SubWorkflowTask):
                labels.append(_label(task.task_spec))
    return list(dict.fromkeys(labels))


@dataclass
class Plan:
    """What moving one instance to ``target`` means: the diffs, or why it cannot move."""

    run: Run
    reasons: list[str] = field(default_factory=list)
    diffs: tuple | None = None


def plan(instance: WorkflowInstance, target: ProcessVersion, request: EnrolmentRequest | None) -> Plan:
    """Compare the instance with ``target`` (nothing is changed): the reasons it cannot move, in French."""
    run = Run.load(instance, request)
    found = Plan(run)
    number = target.version
    if instance.completed:
        found.reasons.append("la demande est terminée.")
        return found
    if instance.process_version.process_id != target.process_id:
        found.reasons.append(f"la demande suit le processus « {instance.process_version.process_id} ».")
        return found
    if instance.process_version_id == target.id:
        found.reasons.append(f"la demande suit déjà la version {number}.")
        return found
    if request is not None and incidents.open_for(request) is not None:
        found.reasons.append("un incident est ouvert sur cette demande : relancez-le ou résolvez-le d'abord.")
    new = load_spec(target)
    top, subs = diff_workflow(SERIALIZER.registry, run.workflow, new.spec, new.subprocess_specs)
    found.diffs = (new, top, subs)
    pairs = [(run.workflow, top)] + [(run.workflow.subprocesses[key], diff) for key, diff in subs.items()]
    for workflow, diff in pairs:
        if diff is None:
            found.reasons.append(f"le processus appelé « {workflow.spec.description or workflow.spec.name} » "
                                 f"où elle se trouve n'est plus appelé par la version {number}.")
            continue
        changed = {task.id for task in diff.changed if set(_spec_changes(diff, task)) - _NOT_A_CHANGE}
        removed = {task.id for task in diff.removed}
        for task in workflow.get_tasks(skip_subprocesses=True):
            spec = task.task_spec
            if task.has_state(LIVE) and spec.bpmn_id:
                if task.id in removed:
                    found.reasons.append(f"l'étape « {_label(spec)} » où elle attend n'existe plus dans la version {number}.")
                elif task.id in changed:
                    found.reasons.append(f"l'étape « {_label(spec)} » où elle attend a changé dans la version {number}.")
            elif task.has_state(_DONE) and task.id in removed and spec.bpmn_id:
                found.reasons.append(f"elle est passée par l'élément « {_label(spec)} », qui n'existe plus dans la "
                                     f"version {number} : son historique ne pourrait pas être relu.")
    for process, element, _ in passed_elements(instance):  # what compaction dropped from the workflow
        if element_spec(new.spec, new.subprocess_specs, process, element) is None:
            spec = element_spec(run.workflow.spec, run.workflow.subprocess_specs, process, element)
            found.reasons.append(f"elle est passée par l'élément « {_label(spec) if spec else element} », qui n'existe "
                                 f"plus dans la version {number} : son historique ne pourrait pas être relu.")
    found.reasons = list(dict.fromkeys(found.reasons))
    return found


def _spec_changes(diff, task) -> list[str]:
    """The attributes of ``task``'s spec that the new version changes (WorkflowDiff keeps only the
    tasks; the aligned spec's comparison is redone here, as SpecDiff does it), and « attached » when
    the events attached to it (boundary timers) are added or removed."""
    new_spec = diff.alignment.get(task)
    if new_spec is None:
        return []
    old, new = SERIALIZER.registry.convert(task.task_spec), SERIALIZER.registry.convert(new_spec)
    if old.get("typename") != new.get("typename"):
        return ["typename"]
    changes = [key for key, value in old.items() if new.get(key) != value]
    attached = [{n for n in spec.get("inputs", ()) if n.endswith(_ATTACHED)} for spec in (old, new)]
    if attached[0] != attached[1]:
        changes.append("attached")
    return changes


# --- listing ------------------------------------------------------------------------------------

@dataclass
class ProcessLine:
    current: ProcessVersion
    older: int  # running requests started on an older version
    callers: list[ProcessVersion]  # the processes that call it: its requests move with theirs


def callers(process_id: str) -> list[ProcessVersion]:
    """The current versions of the processes that call ``process_id`` (a request runs on the version
    of the process it started with, called processes included: it moves with that one)."""
    current = db.session.scalars(db.select(ProcessVersion).where(ProcessVersion.is_current.is_(True))
                                 .order_by(ProcessVersion.process_id)).all()
    return [v for v in current if v.process_id != process_id and process_id in load_spec(v).subprocess_specs]


def overview() -> list[ProcessLine]:
    """Every deployed process, how many of its running requests are on an older version, and which
    processes call it."""
    lines = []
    for current in db.session.scalars(db.select(ProcessVersion).where(ProcessVersion.is_current.is_(True))
                                      .order_by(ProcessVersion.process_id)):
        older = db.session.scalar(_older(current.process_id, current).with_only_columns(db.func.count())
                                  .order_by(None))
        lines.append(ProcessLine(current, older or 0, callers(current.process_id)))
    return lines


@dataclass
class Candidate:
    instance: WorkflowInstance
    request: EnrolmentRequest | None
    version: ProcessVersion
    waiting: list[str]
    reasons: list[str]

    @property
    def movable(self) -> bool:
        return not self.reasons

    @property
    def label(self) -> str:
        return request_label(self.request, self.instance.id)


def _older(process_id: str, target: ProcessVersion):
    return (db.select(WorkflowInstance, EnrolmentRequest)
            .join(ProcessVersion, WorkflowInstance.process_version_id == ProcessVersion.id)
            .outerjoin(EnrolmentRequest, EnrolmentRequest.instance_id == WorkflowInstance.id)
            .where(ProcessVersion.process_id == process_id, ProcessVersion.version < target.version,
                   WorkflowInstance.completed.is_(False))
            .order_by(WorkflowInstance.id))


def _candidate(instance: WorkflowInstance, request: EnrolmentRequest | None, target: ProcessVersion) -> Candidate:
    planned = plan(instance, target, request)
    return Candidate(instance, request, instance.process_version, waiting_labels(planned.run), planned.reasons)


def candidates(process_id: str, target: ProcessVersion) -> list[Candidate]:
    """The running requests of ``process_id`` on a version older than ``target``: where each waits,
    and why it cannot move (none: it can)."""
    return [_candidate(instance, request, target)
            for instance, request in db.session.execute(_older(process_id, target)).all()]


def find_requests(process_id: str, target: ProcessVersion, references) -> list[Candidate]:
    """The candidates named by request number, public id or instance id (the CLI's --request, the
    page's checkboxes); raises MigrationError for a reference that names no running request of
    ``process_id`` on a version older than ``target``."""
    rows = db.session.execute(_older(process_id, target)).all()
    chosen = []
    for reference in dict.fromkeys(str(r).strip() for r in references):
        match = next(((instance, request) for instance, request in rows if reference == str(instance.id) or (
            request is not None and reference in (request.number, request.public_id))), None)
        if match is None:
            raise MigrationError(f"« {reference} » n'est pas une demande en cours sur une version antérieure "
                                 f"à la version {target.version} de « {process_id} ».")
        chosen.append(_candidate(*match, target))
    return chosen


# --- moving -------------------------------------------------------------------------------------

def _migrate(planned: Plan) -> None:
    """Align the workflow on the target's specs (SpiffWorkflow's migrate_workflow), keeping what the
    waiting tasks hold: the data a ready task was given (e.g. after « Précédent ») and when a
    waiting timer falls due (migrate_workflow resets them, which would start the timer again)."""
    run, (new, top, subs) = planned.run, planned.diffs
    workflow = run.workflow
    kept = {task.id: (deepcopy(task.data), deepcopy(task.internal_data))
            for wf in run.workflows for task in wf.tasks.values() if task.has_state(TaskState.READY | TaskState.WAITING)}
    for key, diff in subs.items():
        sub = workflow.subprocesses[key]
        migrate_workflow(diff, sub, new.subprocess_specs[sub.spec.name])
    migrate_workflow(top, workflow, new.spec)
    workflow.subprocess_specs = new.subprocess_specs
    for wf in run.workflows:
        specs = set(map(id, wf.spec.task_specs.values()))
        for task in list(wf.tasks.values()):
            if task.id in kept:
                task.data, task.internal_data = kept[task.id]
            elif task.id in wf.tasks and id(task.task_spec) not in specs and not task.has_state(_DONE | LIVE):
                wf._remove_task(task.id)  # a prediction on a removed element: predicted again when reached
    run.spec = new


def move(candidate: Candidate, target: ProcessVersion, actor: str) -> InstanceMove:
    """Move one request to ``target`` in the caller's transaction; raises Refused with the reasons."""
    instance, request = candidate.instance, candidate.request
    planned = plan(instance, target, request)
    if planned.reasons:
        raise Refused(" ".join(planned.reasons))
    before = dict(state=instance.state_json, version=instance.process_version, package=instance.package_id,
                  timer=instance.next_timer_at)
    _migrate(planned)
    instance.process_version = target
    if target.package_id is not None:
        instance.package_id = target.package_id
    planned.run.save()
    try:  # the engine must read the moved state back with the new version's specs
        SERIALIZER.registry.restore(json.loads(instance.state_json), process_spec=load_spec(target))
    except Exception as exc:
        raise Refused(f"le moteur ne peut pas relire la demande dans la version {target.version} ({exc}).") from exc
    event_id = None
    if request is not None:
        enrolment.record(request, actor, MOVED,
                         f"{target.name} : version {before['version'].version} → version {target.version}")
    db.session.flush()
    if request is not None:
        event_id = request.events[-1].id
    done = InstanceMove(instance=instance, request=request, from_version=before["version"], to_version=target,
                        from_package_id=before["package"], to_package_id=instance.package_id,
                        state_before=before["state"], next_timer_before=before["timer"],
                        lock_version_after=instance.lock_version, event_id=event_id, at=clock.now(), actor=actor)
    db.session.add(done)
    db.session.flush()
    return done


@dataclass
class Outcome:
    candidate: Candidate
    moved: InstanceMove | None = None
    reason: str = ""


def move_all(chosen: list[Candidate], target: ProcessVersion, actor: str, dry_run: bool = False) -> list[Outcome]:
    """Move each chosen request in a transaction of its own (a refusal leaves the others moved);
    ``dry_run``: each move is tried, then rolled back (nothing changes)."""
    outcomes = []
    for candidate in chosen:
        try:
            done = move(candidate, target, actor)
        except (Refused, StaleDataError) as exc:
            db.session.rollback()
            reason = str(exc) if isinstance(exc, Refused) else \
                "la demande a avancé pendant son déplacement : rien n'a changé, réessayez."
            outcomes.append(Outcome(candidate, reason=reason))
            continue
        if dry_run:
            db.session.rollback()
            done = None
        else:
            db.session.commit()
        outcomes.append(Outcome(candidate, moved=done))
    return outcomes


# --- undoing ------------------------------------------------------------------------------------

def recent_moves(process_id: str, limit: int = 50) -> list[InstanceMove]:
    """The latest moves of requests of ``process_id``, newest first (the page offers to undo them)."""
    return list(db.session.scalars(
        db.select(InstanceMove).join(ProcessVersion, InstanceMove.to_version_id == ProcessVersion.id)
        .where(ProcessVersion.process_id == process_id).order_by(InstanceMove.id.desc()).limit(limit)))


def undo_refusal(done: InstanceMove) -> str | None:
    """Why the move cannot be undone (in French), None when it can: only while nothing else
    happened to the request since (its workflow, its history)."""
    if done.undone_at is not None:
        return "ce changement de version a déjà été annulé."
    if done.instance.lock_version != done.lock_version_after:
        return "la demande a avancé depuis ce changement de version : il ne peut plus être annulé."
    if done.request_id is not None:
        later_event = db.session.scalar(db.select(RequestEvent.id).where(
            RequestEvent.request_id == done.request_id, RequestEvent.id > (done.event_id or 0)).limit(1))
        later_audit = db.session.scalar(db.select(AuditEntry.id).where(
            AuditEntry.request_id == done.request_id, AuditEntry.at > done.at).limit(1))
        if later_event is not None or later_audit is not None:
            return "il s'est passé autre chose sur la demande depuis ce changement de version : il ne peut plus être annulé."
    return None


def undo(done: InstanceMove, actor: str) -> None:
    """« Annuler le changement de version »: the instance exactly as it was before the move, in the
    caller's transaction; raises Refused when something else happened since."""
    refusal = undo_refusal(done)
    if refusal:
        raise Refused(refusal)
    instance = done.instance
    instance.state_json = done.state_before
    instance.process_version = done.from_version
    instance.package_id = done.from_package_id
    instance.next_timer_at = done.next_timer_before
    instance.updated_at = clock.now()
    lanes = Run.load(instance).waiting_lanes()
    db.session.execute(db.delete(WaitingLane).where(WaitingLane.instance_id == instance.id))
    db.session.add_all(WaitingLane(instance_id=instance.id, lane=lane) for lane in sorted(lanes))
    done.undone_at, done.undone_by = clock.now(), actor
    if done.request is not None:
        enrolment.record(done.request, actor, UNDONE,
                         f"{done.to_version.name} : retour de la version {done.to_version.version} "
                         f"à la version {done.from_version.version}")
