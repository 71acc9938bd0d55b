"""Running instances: start, load, save, complete a user task, go back a step, fire timers, retry
a failed task.

A ``Run`` wraps one workflow instance for the duration of one HTTP request or worker step. It never
commits: the caller owns the transaction, so that workflow state, projections, history and outbox
rows are saved together or not at all.
"""
import json
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam

from .. import clock
from . import compaction, registry as handlers
from .cache import WORKFLOWS
from ..extensions import db
from ..models import ProcessPackage, TaskSpan, WaitingLane, WorkflowInstance
from .scripting import RestrictedEnvironment
from .setup import SERIALIZER
from .specs import ProcessSpec, Step, current_version, is_async, load_spec, properties, spec_key


class EngineFailure(Exception):
    """A task of the diagram failed while the engine ran (handler error, script error...).

    The workflow keeps everything that ran before, with the failed task in error: the caller may
    save it as it is and ``Run.retry`` it once the cause is fixed. ``task_name``: the task's BPMN id
    (None when no task is to blame), ``label``: its name, ``handler``: what a service task calls.
    """

    def __init__(self, task_name: str | None, original: BaseException, label: str | None = None,
                 handler: str | None = None):
        super().__init__(f"{task_name or 'moteur'} : {original!r}")
        self.task_name = task_name
        self.label = label or task_name or "Moteur de processus"
        self.handler = handler
        self.original = original


class TaskNotReady(Exception):
    """The task named by a form is not (or no longer) the ready task of that lane."""


#: Property of a user task: the BPMN id of another user task; whoever completed that one last may
#: not complete this one (separation of duties: e.g. a second agent confirms a rejection).
NOT_SAME_ACTOR = "notSameActorAs"
#: Reserved key of the task data: {user task BPMN id: id of the account that completed it last}.
#: Scripts cannot read it (no names starting with « _ »); it follows the data through loops, going
#: back and called processes, and a task done again records its new performer.
ACTORS = "_actors"


class DutySeparated(Exception):
    """The account completed the task this one must be done by someone else than; the message is
    for them, in French."""

    @property
    def message(self) -> str:
        return self.args[0]


class _ScriptEngine(PythonScriptEngine):
    def __init__(self, run: "Run"):
        super().__init__(environment=RestrictedEnvironment())
        self._run = run

    def call_service(self, task, operation_name=None, operation_params=None):
        # SpiffWorkflow 3.2.0's own call_service loses the task and hides errors behind a NameError.
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        ctx = handlers.ServiceContext(request=self._run.request, task_name=task.task_spec.bpmn_id,
                                      now=clock.now(), data=task.data)
        # A failing handler leaves none of its own writes (and, on PostgreSQL, a usable transaction):
        # what the tasks before it did stays, to be saved with the failed task.
        with db.session.begin_nested():
            result = handlers.call(operation_name, ctx, params)
        return json.dumps(result)


@dataclass
class UserTask:
    """What a view needs to know about a ready user task (no SpiffWorkflow object leaks out)."""

    id: str
    bpmn_id: str
    label: str
    lane: str | None
    form_key: str
    properties: dict
    data: dict
    step: Step | None
    steps: tuple[Step, ...]
    can_go_back: bool


def _lanes(ready: dict) -> set[str]:
    return {task.task_spec.lane for task in ready.values() if task.task_spec.lane}


def _is_timer(event) -> bool:
    return "Timer" in event.event_type or event.event_type == "TimeDateEventDefinition"


_SPANS = TaskSpan.__table__
#: A step's task_span writes, built once (``Run._record_spans``).
_CLOSE_SPANS = _SPANS.update().where(
    _SPANS.c.instance_id == bindparam("of_instance"), _SPANS.c.task_id.in_(bindparam("gone", expanding=True)),
    _SPANS.c.left_at.is_(None)).values(left_at=bindparam("left"), seconds=bindparam("left_epoch") - _SPANS.c.entered_epoch)
_OPEN_SPAN = _SPANS.insert()


class Run:
    def __init__(self, instance: WorkflowInstance, workflow: BpmnWorkflow, spec: ProcessSpec, request=None):
        self.instance = instance
        self.workflow = workflow
        self.spec = spec
        self.request = request
        #: The lanes the instance's stored waiting_lane rows name (none for a new instance).
        self._saved_lanes: set[str] = set()
        #: {id: ready user task} as stored (the open task_span rows): what save compares to.
        self._saved_ready: dict = {}
        #: The stored JSON the workflow is exactly, while it is (loaded or saved, not changed since):
        #: what ``release`` keeps it under.
        self._state_json: str | None = None
        self._spec_key = spec_key(instance.process_version)
        #: Whether an asynchronous task waits for the worker, as the last engine run left it; False
        #: after a failure too (the incident's retry runs the engine again and says what is due);
        #: None when the engine did not run: the stored marker stays as it is.
        self._async_due: bool | None = None
        workflow.script_engine = _ScriptEngine(self)

    # --- life cycle ---

    @classmethod
    def start(cls, process_id: str, request=None, data: dict | None = None) -> "Run":
        """A new instance of the current version of ``process_id``, run until it waits; ``data``:
        what the process knows from the start (e.g. the SIRET a logged-in supplier files for)."""
        version = current_version(process_id)
        if version is None:  # deploying is the operator's act: `flask bpmn deploy`, the portal command
            raise LookupError(f"process {process_id} is not deployed (flask bpmn deploy)")
        spec = load_spec(version)
        now = clock.now()
        package_id = db.session.scalar(db.select(ProcessPackage.id).where(ProcessPackage.is_current.is_(True)))
        instance = WorkflowInstance(process_version=version, package_id=package_id, state_json="{}",
                                    created_at=now, updated_at=now)
        run = cls(instance, BpmnWorkflow(spec.spec, spec.subprocess_specs), spec, request)
        for task in run.workflow.get_tasks(state=TaskState.READY):  # the start event
            task.set_data(**deepcopy(data or {}))
        run._engine_steps()
        return run

    @classmethod
    def load(cls, instance: WorkflowInstance, request=None, reuse: bool = True) -> "Run":
        """The instance's workflow: the one a previous request of this process released on this very
        state (``reuse``, app/engine/cache.py), or restored from the stored JSON."""
        spec = load_spec(instance.process_version)
        state = instance.state_json
        workflow = WORKFLOWS.take(spec_key(instance.process_version), state) if reuse else None
        if workflow is None:
            workflow = SERIALIZER.registry.restore(json.loads(state), process_spec=spec)
        run = cls(instance, workflow, spec, request)
        run._state_json = state
        run._saved_ready = run._ready_user_tasks()  # what the stored projections say (written by save)
        run._saved_lanes = _lanes(run._saved_ready)
        return run

    def release(self) -> None:
        """The caller is done with this run and did not change its workflow since it was loaded or
        saved: keep the workflow for the next request on that state. The run is not to be used
        after this (another request may take the workflow)."""
        if self._state_json is not None:
            self.workflow.script_engine = None  # nothing of this request stays referenced
            WORKFLOWS.keep(self._spec_key, self._state_json, self.workflow)
            self._state_json = None

    def save(self) -> WorkflowInstance:
        """Write the state into the instance row (flushed with the caller's transaction), its
        finished history compacted (``engine.compaction``)."""
        instance = self.instance
        compaction.compact(self)
        instance.state_json = self._state_json = json.dumps(SERIALIZER.to_dict(self.workflow),
                                                            cls=SERIALIZER._encoder_cls)
        instance.completed = self.workflow.is_completed()
        deadlines = [datetime.fromisoformat(e.value) for e in self.workflow.waiting_events()
                     if _is_timer(e) and isinstance(e.value, str)]
        instance.next_timer_at = min(deadlines) if deadlines else None
        instance.updated_at = clock.now()
        if self._async_due is not None:  # the oldest due work first: a marker already set keeps its time
            instance.async_due_at = (instance.async_due_at or instance.updated_at) if self._async_due else None
        ready = {} if instance.completed else self._ready_user_tasks()
        self._record_spans(ready, instance.updated_at)
        lanes = _lanes(ready)
        if lanes != self._saved_lanes:  # most steps stay in the same lane: no query, no write
            gone = self._saved_lanes - lanes
            if gone:
                if instance.id is None:  # saved earlier in this transaction, not flushed yet
                    db.session.flush()
                db.session.execute(db.delete(WaitingLane).where(
                    WaitingLane.instance_id == instance.id, WaitingLane.lane.in_(sorted(gone))))
            db.session.add_all(WaitingLane(instance=instance, lane=lane) for lane in sorted(lanes - self._saved_lanes))
            self._saved_lanes = lanes
        return instance

    # --- user tasks ---

    def _ready_spiff_tasks(self, lane: str | None):
        return self.workflow.get_tasks(state=TaskState.READY, manual=True, lane=lane)

    def ready_task(self, lane: str | None) -> UserTask | None:
        tasks = self._ready_spiff_tasks(lane)
        return self._describe(tasks[0]) if tasks else None

    def ready_task_in(self, lanes) -> UserTask | None:
        """The first ready user task of the first of ``lanes`` that has one (a person's roles)."""
        return next((task for lane in lanes if (task := self.ready_task(lane)) is not None), None)

    @property
    def workflows(self) -> list:
        """The instance's workflows: the top one, then each called process, in the order they started."""
        return [self.workflow, *self.workflow.subprocesses.values()]

    def waiting_lanes(self) -> set[str]:
        """The lanes in which a user task is ready (saved as the queues' projection)."""
        return _lanes(self._ready_user_tasks())

    def _ready_user_tasks(self) -> dict:
        """{id: task} of the ready user tasks: a scan of the task tables (called processes
        included), cheaper than the ordered walk of the tree that ``get_tasks`` does; it runs at
        every load and save."""
        return {task.id: task for workflow in self.workflows for task in workflow.tasks.values()
                if task.state == TaskState.READY and task.task_spec.manual}

    def _record_spans(self, ready: dict, now: datetime) -> None:
        """Open a task_span for each user task that became ready, close those of the tasks that
        are no longer: nothing to write when the step stays on the same task (a draft saved).
        Prepared Core statements on the transaction's connection: no unit of work, no autoflush
        and no statement built on the step path (the instance row is flushed at commit)."""
        gone = [str(task_id) for task_id in self._saved_ready.keys() - ready.keys()]
        epoch = int(now.timestamp())
        rows = [dict(task_id=str(task_id), process_version_id=self.instance.process_version.id,
                     process=task.workflow.spec.name, element=task.task_spec.bpmn_id, entered_at=now,
                     entered_epoch=epoch)
                for task_id, task in ready.items() if task_id not in self._saved_ready]
        self._saved_ready = ready
        instance = self.instance
        if not gone and not rows:
            return
        if instance.id is None:
            if not gone:  # a new instance (Run.start): the rows follow it into the session
                db.session.add_all(TaskSpan(instance=instance, **row) for row in rows)
                return
            db.session.flush()  # saved earlier in this transaction, not flushed yet
        connection = db.session.connection()
        if gone:
            connection.execute(_CLOSE_SPANS, dict(of_instance=instance.id, gone=gone, left=now, left_epoch=epoch))
        if rows:
            connection.execute(_OPEN_SPAN, [dict(instance_id=instance.id, **row) for row in rows])

    def separation_refusal(self, task: UserTask, actor_id: int | None, name: str | None = None) -> str | None:
        """Why ``actor_id`` may not complete ``task`` (they did the task it must be separated
        from), in French, addressed to them (or naming them: ``name``); None when they may."""
        other = (task.properties.get(NOT_SAME_ACTOR) or "").strip()
        if not other or actor_id is None or (task.data.get(ACTORS) or {}).get(other) != actor_id:
            return None
        spiff = self.workflow.get_task_from_id(UUID(task.id))
        done = next((s for s in spiff.workflow.spec.task_specs.values() if getattr(s, "bpmn_id", None) == other), None)
        label = (done.bpmn_name or other) if done is not None else other
        who = f"{name} a" if name else "Vous avez"
        return (f"{who} effectué l'étape « {label} » de cette demande : l'étape « {task.label} » "
                "doit être faite par une autre personne.")

    def _describe(self, task) -> UserTask:
        props = properties(task.task_spec)
        number = props.get("stepNumber", "")
        step = next((s for s in self.spec.steps if str(s.number) == number), None)
        return UserTask(
            id=str(task.id), bpmn_id=task.task_spec.bpmn_id,
            label=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
            lane=task.task_spec.lane, form_key=props.get("formKey", ""), properties=props,
            data=task.data, step=step, steps=self.spec.steps,
            can_go_back=self._previous_user_task(task) is not None)

    def _ready(self, task_id: str, lane: str | None):
        try:
            task = self.workflow.get_task_from_id(UUID(task_id))
        except Exception:
            task = None
        # task.run() does not check any of this: it would complete a task that is not ready.
        if task is None or task.state != TaskState.READY or not task.task_spec.manual \
                or task.task_spec.lane != lane:
            raise TaskNotReady(task_id)
        return task

    def complete(self, task_id: str, lane: str | None, data: dict, actor_id: int | None = None) -> None:
        """Complete the ready user task ``task_id`` of ``lane`` with form data, then run the engine.
        ``actor_id``: the account completing it (None for an anonymous supplier), recorded for the
        separation of duties; raises DutySeparated when that account may not do this task."""
        task = self._ready(task_id, lane)
        refusal = self.separation_refusal(self._describe(task), actor_id)
        if refusal:
            raise DutySeparated(refusal)
        self._state_json = None  # the workflow changes
        task.set_data(**data)
        if actor_id is not None:
            task.set_data(**{ACTORS: {**(task.data.get(ACTORS) or {}), task.task_spec.bpmn_id: actor_id}})
        task.run()
        self._engine_steps()

    def _previous_user_task(self, task):
        """The last completed user task of the same lane, on the path that led to ``task``, that is
        not ``task`` itself run again (a loop back to the same form is not a step back)."""
        node = task.parent
        while node is not None:
            if isinstance(node.task_spec, UserTaskSpec) and node.state == TaskState.COMPLETED \
                    and node.task_spec.lane == task.task_spec.lane and node.task_spec != task.task_spec:
                return node
            if node.parent is None and node.workflow.parent_task_id is not None:
                node = self.workflow.get_task_from_id(node.workflow.parent_task_id)
            else:
                node = node.parent
        return None

    def go_back(self, task_id: str, lane: str | None, draft: dict | None = None) -> bool:
        """Return to the previous user task of the lane, keeping everything entered so far.

        The previous task is made ready again with the current data (plus ``draft``, what the
        user typed on the page they leave), so both pages show what was entered.
        """
        task = self._ready(task_id, lane)
        previous = self._previous_user_task(task)
        if previous is None:
            return False
        data = deepcopy(task.data)
        data.update(draft or {})
        self._state_json = None  # the workflow changes
        self.workflow.reset_from_task_id(previous.id)
        # Resetting makes the task inherit its parent's data again: put back what was entered since.
        self.workflow.get_task_from_id(previous.id).data = data
        return True

    # --- engine ---

    def _failed_task(self):
        return next(iter(self.workflow.get_tasks(state=TaskState.ERROR)), None)

    def _engine_steps(self, continuations=()) -> None:
        """Run ``continuations`` (ready asynchronous tasks the worker takes up), then the engine until
        it waits: on a user task, a timer, a message or an asynchronous task left for the worker."""
        self._state_json = None  # the workflow changes
        try:
            for task in continuations:
                if task.state == TaskState.READY:  # task.run() does not check: one may have cancelled another
                    task.run()
            self._async_due = self._run_engine()
        except Exception as exc:
            self._async_due = False
            original = exc
            # SpiffWorkflow wraps the real exception (as the context of its own): keep the real one.
            while isinstance(original, SpiffWorkflowException) and (original.__cause__ or original.__context__):
                original = original.__cause__ or original.__context__
            failed = self._failed_task()
            if failed is None:
                raise EngineFailure(None, original) from exc
            spec = failed.task_spec
            raise EngineFailure(spec.bpmn_id, original, label=spec.bpmn_name,
                                handler=getattr(spec, "operation_name", None)) from exc

    def _run_engine(self) -> bool:
        """SpiffWorkflow 3.2's ``BpmnWorkflow.do_engine_steps``, except that an asynchronous task
        (``async`` property) is left ready, for the worker. As there: the called processes first, the
        innermost first, each until nothing more runs, then the whole tree (which reaches the ready
        tasks of called processes too), again while anything ran or a called process started; then
        the timers. Returns whether an asynchronous task is left ready."""
        workflow = self.workflow
        while True:
            active = workflow.get_active_subprocesses()
            for subprocess in sorted(active, key=lambda each: each.depth, reverse=True):
                while self._run_ready(subprocess)[0]:
                    pass
                if subprocess.parent_task_id is not None:
                    task = workflow.get_task_from_id(subprocess.parent_task_id)
                    task.task_spec._update(task)
            ran, async_left = self._run_ready(workflow)
            if not ran and len(workflow.get_active_subprocesses()) <= len(active):
                break
        workflow.refresh_timers()
        return async_left

    @staticmethod
    def _run_ready(workflow) -> tuple[int, bool]:
        """Run the ready engine tasks of ``workflow`` but the asynchronous ones: (how many ran,
        whether an asynchronous one is ready)."""
        ran, async_left = 0, False
        for task in workflow.get_tasks(state=TaskState.READY):
            if task.task_spec.manual:
                continue
            if is_async(task.task_spec):
                async_left = True
                continue
            task.run()
            ran += 1
        return ran, async_left

    def due_async_tasks(self) -> list:
        """The asynchronous tasks ready to run (called processes included)."""
        return [task for task in self.workflow.get_tasks(state=TaskState.READY, manual=False)
                if is_async(task.task_spec)]

    def continue_async(self) -> bool:
        """Run the asynchronous tasks that are due, then the engine until it waits again (an
        asynchronous task reached meanwhile is left due: the next unit of the worker takes it).
        False when none was due; raises EngineFailure like any engine run."""
        due = self.due_async_tasks()
        self._engine_steps(due)
        return bool(due)

    def continue_all_async(self) -> None:
        """Run every due asynchronous task at once, and the engine after each, until none is due:
        where no worker comes between the steps (a simulation, the demo data). Raises EngineFailure."""
        for _ in range(1000):  # an asynchronous task in a loop without a user task stops here
            if not self.continue_async():
                return

    def retry(self) -> None:
        """Run the failed task again (its cause fixed), then the engine until it waits; raises
        EngineFailure when it fails again. Resetting the task gives it its parent's data again,
        i.e. what it had when it first ran. A failed asynchronous task runs here too, at once."""
        self._state_json = None  # the workflow changes
        retried = []
        while (failed := self._failed_task()) is not None:
            self.workflow.reset_from_task_id(failed.id)
            retried.append(failed.id)
        self._engine_steps([task for task in self.due_async_tasks() if task.id in retried])

    def fire_timers(self) -> None:
        self._state_json = None  # the workflow changes
        self.workflow.refresh_timers()
        self._engine_steps()

    @property
    def data(self) -> dict:
        """Data of the most recently completed task (what the process knows so far)."""
        last = self.workflow.last_task
        return last.data if last is not None else self.workflow.data
