"""Where a request stands in its diagrams: for each process it went through, the BPMN XML it was
deployed from, the elements done and the elements it stands in; and whose turn it is.

Read from the restored workflow of a ``Run``: nothing is stored for it.
"""
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree
from SpiffWorkflow.util.task import TaskState

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
            elif task.state == TaskState.COMPLETED:
                self.done.add(element)
            else:
                continue  # predicted or cancelled: not on the path taken
            previous = _previous(task)
            if previous is not None and previous.state == TaskState.COMPLETED:
                self.steps.add((previous.task_spec.bpmn_id, element))

    def position(self, sources: dict[str, str]) -> ProcessPosition:
        xml = sources[self.spec.file]
        flows = _flows(xml, self.spec.name)
        taken = {flows[step] for step in self.steps if step in flows}
        return ProcessPosition(id=self.spec.name, name=self.spec.description or self.spec.name, xml=xml,
                               done=sorted((self.done - self.current) | taken), current=sorted(self.current))


def _turn(task) -> Turn:
    # last_state_change: when the task became ready (a POSIX timestamp).
    spec = task.task_spec
    return Turn(lane=spec.lane, task=spec.bpmn_name or spec.bpmn_id,
                since=datetime.fromtimestamp(task.last_state_change, timezone.utc))


def position(run) -> Position:
    workflow = run.workflow
    sources = json.loads(run.instance.process_version.sources_json)
    workflows = [workflow, *workflow.subprocesses.values()]  # in the order they started
    marks: dict[str, _Marks] = {}
    for each in workflows:
        marks.setdefault(each.spec.name, _Marks(each.spec)).add(each)
    running = [each for each in workflows if not each.is_completed()]
    # The innermost running process (among equals, the last started); the top one once complete.
    active = max(reversed(running), key=lambda each: each.depth, default=workflow)
    ready = workflow.get_next_task(state=TaskState.READY, manual=True)  # called processes included
    return Position(processes=[m.position(sources) for m in marks.values()], active=active.spec.name,
                    turn=_turn(ready) if ready is not None else None, completed=workflow.is_completed())
