"""What a simulation (app/services/simulation.py) needs from the engine beyond what the portal
does: the elements completed so far, the next timer deadline, and a run that starts at a chosen
element."""
import ast
from copy import deepcopy
from datetime import datetime

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .runtime import Run, _is_timer
from .scripting import _BUILTINS
from .specs import _expressions, all_task_specs, load_spec, properties


def completed(run: Run) -> dict:
    """{task id: (element id, element name, when)} of every completed element of the run (called
    processes included)."""
    return {task.id: (task.task_spec.bpmn_id, task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                      task.last_state_change)
            for workflow in run.workflows
            for task in workflow.tasks.values()
            if task.state == TaskState.COMPLETED and task.task_spec.bpmn_id}


def next_deadline(run: Run) -> datetime | None:
    """The earliest deadline of the timers the run waits on (None: it waits on none)."""
    deadlines = [datetime.fromisoformat(e.value) for e in run.workflow.waiting_events()
                 if _is_timer(e) and isinstance(e.value, str)]
    return min(deadlines) if deadlines else None


class NoSuchStart(LookupError):
    """The element cannot start a run (not a step of the process's own diagram: an element of a
    called process, a start, end or boundary event)."""


def start_at(instance, request, element_id: str, data: dict) -> Run:
    """A new run of the instance's version whose first step is ``element_id`` (an element of the top
    process), with ``data`` as what the process knows there: the start event is marked done without
    running anything on the way (no service task, no mail), and the element made its next step; an
    element with boundary events starts with them (its deadlines count from now). ``proceed`` then
    runs the engine. Raises NoSuchStart."""
    spec = load_spec(instance.process_version)
    if element_id not in dict(elements(spec.spec)):
        raise NoSuchStart(element_id)
    task_spec = next(t for t in spec.spec.task_specs.values() if getattr(t, "bpmn_id", None) == element_id
                     and not isinstance(t, BoundaryEventSplit))
    split = next((t for t in task_spec.inputs if isinstance(t, BoundaryEventSplit)), None)
    run = Run(instance, BpmnWorkflow(spec.spec, spec.subprocess_specs), spec, request)
    workflow = run.workflow
    start = workflow.get_next_task(state=TaskState.READY)  # the start event
    start._drop_children(force=True)
    start._set_state(TaskState.COMPLETED)
    first = start._add_child(split or task_spec, TaskState.FUTURE)
    workflow.reset_from_task_id(first.id, data=deepcopy(data))
    return run


def elements(run_spec) -> list[tuple[str, str]]:
    """(element id, name) of the flow elements of a process's own diagram that a run may start at."""
    found = {}
    for task_spec in run_spec.task_specs.values():
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if bpmn_id and not isinstance(task_spec, (StartEvent, EndEvent, BoundaryEvent, BoundaryEventSplit)) \
                and task_spec.inputs:
            found.setdefault(bpmn_id, task_spec.bpmn_name or bpmn_id)
    return sorted(found.items(), key=lambda item: item[1].lower())


def proceed(run: Run) -> None:
    """Run the engine until the run waits (raises EngineFailure, the run kept as it is)."""
    run._engine_steps()


def data_names(spec, subprocess_specs) -> tuple[dict[str, list[str]], set[str], list[tuple[str, str]]]:
    """What a process (and the processes it calls) does with task data, from its diagrams:
    ({name read by an expression: [names of the elements reading it]}, {names its service tasks
    and scripts set}, [(form key, ``fields`` property) of its user tasks]). Builtins are left out."""
    read, produced, user_tasks = {}, set(), []
    for _, task_spec in all_task_specs(spec, subprocess_specs):
        if not getattr(task_spec, "bpmn_id", None):
            continue
        label = task_spec.bpmn_name or task_spec.bpmn_id
        for _, source, mode in _expressions(task_spec):
            try:
                tree = ast.parse(source.strip() if mode == "eval" else source, mode=mode)
            except SyntaxError:
                continue
            names = [node for node in ast.walk(tree) if isinstance(node, ast.Name)]
            bound = {node.id for node in names if not isinstance(node.ctx, ast.Load)}
            produced |= bound
            for name in sorted({node.id for node in names if isinstance(node.ctx, ast.Load)} - bound - _BUILTINS.keys()):
                if label not in read.setdefault(name, []):
                    read[name].append(label)
        if getattr(task_spec, "result_variable", None):
            produced.add(task_spec.result_variable)
        if isinstance(task_spec, UserTask):
            props = properties(task_spec)
            user_tasks.append((props.get("formKey", ""), props.get("fields", "")))
    return dict(sorted(read.items())), produced, user_tasks
