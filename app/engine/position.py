"""Where a request stands in its diagrams: for each process it went through, the BPMN XML it was
deployed from, the elements done and the elements it stands in; and whose turn it is.

Read from the restored workflow of a ``Run`` and, for what ``engine.compaction`` dropped from it,
from the rows it wrote then (``PassedElement``, ``PastMilestone``).
"""
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

from ..extensions import db
from ..models import PassedElement, PastMilestone
from .specs import properties
from .waiting import LIVE

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"

#: Where a request stands: a task ready, waiting (timer, message), started (a call activity whose
#: process runs), or failed (an incident: the request stands there until it is retried).
CURRENT = LIVE | TaskState.ERROR


@dataclass
class ProcessPosition:
    id: str             # the process id
    name: str
    xml: str            # the BPMN file that defines it, as deployed with the request's version
    done: list[str]     # elements completed, and the sequence flows taken between them
    current: list[str]  # elements the request stands in


@dataclass
class Turn:
    """The ready user task: who is to act (its lane), on what, since when."""

    lane: str | None
    task: str
    since: datetime


@dataclass
class Position:
    processes: list[ProcessPosition]  # the top process first, then the called ones as they started
    active: str                       # the process to show first: the innermost one still running
    turn: Turn | None                 # None when no user task is ready (complete, or the system works)
    completed: bool


def _previous(task):
    """The task of the nearest diagram element that led to ``task`` in the same process (the task
    tree has internal tasks too, e.g. the split in front of a task with a boundary event)."""
    node = task.parent
    while node is not None and node.task_spec.bpmn_id is None:
        node = node.parent
    return node


def passage(task) -> tuple[str, str]:
    """(element, the completed element before it or ""): how the request came to ``task``, the flow
    between them taken."""
    previous = _previous(task)
    return task.task_spec.bpmn_id, previous.task_spec.bpmn_id if previous is not None \
        and previous.state == TaskState.COMPLETED else ""


def _flows(xml: str, process_id: str) -> dict[tuple[str, str], str]:
    """{(source, target): sequence flow id} of the process ``process_id`` in ``xml``."""
    root = etree.fromstring(xml.encode("utf-8"))
    process = next(p for p in root.iter(f"{{{BPMN}}}process") if p.get("id") == process_id)
    return {(flow.get("sourceRef"), flow.get("targetRef")): flow.get("id")
            for flow in process.iter(f"{{{BPMN}}}sequenceFlow")}


class _Marks:
    """The elements done, the elements current and the steps taken in every run of one process
    (a called process may run several times, e.g. each request for documents)."""

    def __init__(self, spec):
        self.spec = spec
        self.done, self.current, self.steps = set(), set(), set()

    def add(self, workflow) -> None:
        for task in workflow.tasks.values():
            element = task.task_spec.bpmn_id
            if element is None:
                continue
            if task.has_state(CURRENT):
                self.current.add(element)
                _, previous = passage(task)
                if previous:
                    self.steps.add((previous, element))
            elif task.state == TaskState.COMPLETED:
                self.passed(*passage(task))
            # otherwise predicted or cancelled: not on the path taken

    def passed(self, element: str, previous: str) -> None:
        self.done.add(element)
        if previous:
            self.steps.add((previous, element))

    def position(self, sources: dict[str, str]) -> ProcessPosition:
        xml = sources[self.spec.file]
        flows = _flows(xml, self.spec.name)
        taken = {flows[step] for step in self.steps if step in flows}
        return ProcessPosition(id=self.spec.name, name=self.spec.description or self.spec.name, xml=xml,
                               done=sorted((self.done - self.current) | taken), current=sorted(self.current))


def _innermost_running(workflows):
    """The innermost process still running (among equals, the last started); None when complete."""
    running = [each for each in workflows if not each.is_completed()]
    return max(reversed(running), key=lambda each: each.depth, default=None)


def moment(timestamp: float) -> datetime:
    """A task's ``last_state_change`` (a POSIX timestamp, from the engine's clock) as a moment."""
    return datetime.fromtimestamp(timestamp, timezone.utc)


def _turn(task) -> Turn:
    # last_state_change: when the task became ready (a POSIX timestamp).
    spec = task.task_spec
    return Turn(lane=spec.lane, task=spec.bpmn_name or spec.bpmn_id,
                since=moment(task.last_state_change))


def element_spec(top, called: dict, process: str, element: str):
    """The task spec of ``element`` in ``process``, the top process's spec ``top`` or one of the
    ``called`` ones (a version's); None when that version has no such element."""
    spec = top if process == top.name else called.get(process)
    if spec is None:
        return None
    return next((t for t in spec.task_specs.values() if getattr(t, "bpmn_id", None) == element), None)


def passed_elements(instance) -> list[tuple[str, str, str]]:
    """(process, element, previous element or "") of what the instance went through that
    ``engine.compaction`` dropped from its workflow."""
    if instance.id is None:
        return []
    return [tuple(row) for row in db.session.execute(
        db.select(PassedElement.process, PassedElement.element, PassedElement.previous)
        .where(PassedElement.instance_id == instance.id))]


def position(run) -> Position:
    workflow = run.workflow
    sources = json.loads(run.instance.process_version.sources_json)
    workflows = run.workflows
    marks: dict[str, _Marks] = {}
    for each in workflows:
        marks.setdefault(each.spec.name, _Marks(each.spec)).add(each)
    specs = {workflow.spec.name: workflow.spec, **workflow.subprocess_specs}
    for process, element, previous in passed_elements(run.instance):  # a process may have no live run left
        if process in specs:
            marks.setdefault(process, _Marks(specs[process])).passed(element, previous)
    active = _innermost_running(workflows) or workflow  # the top one once complete
    ready = workflow.get_next_task(state=TaskState.READY, manual=True)  # called processes included
    return Position(processes=[m.position(sources) for m in marks.values()], active=active.spec.name,
                    turn=_turn(ready) if ready is not None else None, completed=workflow.is_completed())


# --- the supplier's timeline: the milestones the diagrams name -----------------------------------

#: The property that puts a diagram element on the supplier's timeline, with its plain-French label
#: (an empty value: the element's own name).
LABEL = "timelineLabel"
#: The property of a timer event that says how its deadline reads, ``{date}`` standing for it
#: (« Répondez avant le {date} », « Relance prévue le {date} »).
DEADLINE = "timelineDeadline"
DEFAULT_DEADLINE = "Répondez avant le {date}"

DONE, CURRENT_MILESTONE, NEXT = "done", "current", "next"


@dataclass
class Deadline:
    at: datetime
    wording: str  # with ``{date}`` where the date goes


@dataclass
class Milestone:
    label: str
    state: str                    # DONE, CURRENT_MILESTONE or NEXT
    at: datetime | None = None    # done: when it finished; current: since when; next: None
    deadline: Deadline | None = None


def label_of(spec) -> str | None:
    """The element's timeline label, None when it is not on the timeline."""
    props = properties(spec)
    if LABEL not in props:
        return None
    return props[LABEL].strip() or spec.bpmn_name or spec.bpmn_id


def _deadline(task) -> Deadline | None:
    """The earliest waiting timer attached to ``task`` (a boundary timer event of its element)."""
    found = []
    for sibling in task.parent.children if task.parent is not None else []:
        spec = sibling.task_spec
        definition = getattr(spec, "event_definition", None)
        if sibling is task or sibling.state != TaskState.WAITING or not isinstance(definition, TimerEventDefinition):
            continue
        value = definition.details(sibling).value
        if isinstance(value, str):
            at = datetime.fromisoformat(value)
            at = at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)
            found.append(Deadline(at, properties(spec).get(DEADLINE) or DEFAULT_DEADLINE))
    return min(found, key=lambda d: d.at, default=None)


def _past_and_present(run) -> list[Milestone]:
    """The labelled elements done or current, in the order they happened, those compacted away
    included; among equal moments, the outer process first, then the order they ran in."""
    found = []  # (milestone, depth of its process)
    if run.instance.id is not None:
        for process, element, at, depth in db.session.execute(
                db.select(PastMilestone.process, PastMilestone.element, PastMilestone.at, PastMilestone.depth)
                .where(PastMilestone.instance_id == run.instance.id).order_by(PastMilestone.id)):
            task_spec = element_spec(run.workflow.spec, run.workflow.subprocess_specs, process, element)
            label = label_of(task_spec) if task_spec is not None else None
            if label is not None:
                found.append((Milestone(label, DONE, at), depth))
    for workflow in run.workflows:
        for task in workflow.get_tasks(skip_subprocesses=True):
            label = label_of(task.task_spec)
            if label is None:
                continue
            if task.state == TaskState.COMPLETED:
                found.append((Milestone(label, DONE, moment(task.last_state_change)), workflow.depth))
            elif task.has_state(CURRENT):
                found.append((Milestone(label, CURRENT_MILESTONE, moment(task.last_state_change), _deadline(task)),
                              workflow.depth))
    return [milestone for milestone, _ in sorted(found, key=lambda pair: (pair[0].at, pair[1]))]


def _choices(spec) -> list:
    """The elements that may follow ``spec``, the usual one first: a gateway's default flow, then
    its other flows in the diagram's order; the task of a boundary event split, not its events."""
    if getattr(spec, "default_task_spec", None) is not None:
        names = [spec.default_task_spec, *(name for _, name in spec.cond_task_specs if name != spec.default_task_spec)]
        return [spec._wf_spec.task_specs[name] for name in names]
    return [out for out in spec.outputs if not isinstance(out, (BoundaryEvent, BoundaryEventJoin))]


def _usual_path(spec, visited: frozenset) -> list | None:
    """The elements after ``spec`` to the end of its process on the usual path: at each gateway its
    default flow, unless that way only loops back to where the path has been (« demander des
    pièces » back to the review), then its next flow. None when every way loops back."""
    if spec.bpmn_id is None and not spec.outputs:  # the process's end
        return []
    for following in _choices(spec):
        if following.name in visited:
            continue
        rest = _usual_path(following, visited | {following.name})
        if rest is not None:
            return [following, *rest]
    return None


def _upcoming(workflow, active) -> list[Milestone]:
    """The labelled elements ahead on the usual path, from where the innermost running process
    stands, then after each call activity out to the end of the top process."""
    found = []
    standing = [t for t in active.get_tasks(state=CURRENT, skip_subprocesses=True)
                if t.task_spec.bpmn_id is not None and not isinstance(t.task_spec, BoundaryEvent)]
    if not standing:
        return found
    process, spec = active, standing[0].task_spec
    while True:
        for element in _usual_path(spec, frozenset({spec.name})) or []:
            label = label_of(element)
            if label is not None and element.bpmn_id is not None:
                found.append(Milestone(label, NEXT))
        if getattr(process, "parent_task_id", None) is None:
            return found
        caller = workflow.get_task_from_id(process.parent_task_id)
        process, spec = caller.workflow, caller.task_spec


def milestones(run) -> list[Milestone]:
    """The request's timeline as its own diagram version names it: the elements with a
    ``timelineLabel`` done (when), current (since when, with the deadline of a timer attached to
    them), then those ahead on the usual path."""
    workflow = run.workflow
    workflows = run.workflows
    past = _past_and_present(run)
    active = _innermost_running(workflows)
    return past + _upcoming(workflow, active) if active is not None else past
