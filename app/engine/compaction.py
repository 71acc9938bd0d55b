"""Keep a request's workflow state bounded whatever its history (issue 14, P2).

SpiffWorkflow 3.2 keeps every finished task: each round of a loop adds its tasks to the tree, and
every finished called process stays in ``workflow.subprocesses`` (each of its tasks holding a copy
of the data). At each save (``Run.save``), ``compact`` drops what no next step needs:

- the finished called processes (completed or cancelled, their call activity finished);
- in each remaining workflow, the finished tasks above the oldest task that must be kept: the tree
  is re-rooted there (the new root keeps its whole data, as the serializer stores a root's).

What must be kept, with its parent (a reset copies the data of a task's parent): every unfinished
or failed task (ready, waiting, started, predicted, error: timers, boundary events, event-based
gateways, incidents and their retry), ``last_task`` (``Run.data``), the call activities of the
called processes still there, the tasks « Revenir à l'étape précédente » goes back to from each
ready user task, step after step (``Run._previous_user_task``), down to the first step or to a
form already met (a loop's: going back then stops one round back), and every instance of a
parallel or inclusive join that still has an unfinished one (its threshold reads the finished
branches, so nothing is pruned across a split whose join has not fired). Everything kept is a descendant of the new root,
so the engine, « Précédent », the migration of running requests (which resets ready and waiting
tasks) and the retry of an incident work on the compacted tree as on the whole one.

What the dropped tasks showed is written first to the database (``PassedElement``: the diagram's
marks; ``PastMilestone``: the timeline's labelled steps), and ``engine.position`` reads it with
the live tree: no page loses anything. A simulation (``suspended``) keeps the whole tree: its
sandbox rolls back every row, so its history can only live in its snapshot.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import PassedElement, PastMilestone
from .position import label_of, moment, passage

#: Finished, but still the engine's business: a failed task waits for its retry.
_KEPT_STATES = TaskState.NOT_FINISHED_MASK | TaskState.ERROR
_FINISHED_CALL = TaskState.COMPLETED | TaskState.CANCELLED

_suspended: ContextVar[bool] = ContextVar("compaction_suspended", default=False)


@contextmanager
def suspended():
    """Save without compacting (the simulation's sandbox, whose database rows are rolled back)."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


@dataclass
class _Archive:
    passed: set = field(default_factory=set)        # (process, element, previous element or "")
    milestones: list = field(default_factory=list)  # (process, element, finished at, depth)
    seen: set = field(default_factory=set)

    def add(self, task, kept: bool = False) -> None:
        """What ``task`` showed, if it completed (its tree still whole: the path is read upwards);
        ``kept``: only how it was entered (it stays in the tree, which shows the rest)."""
        if task.state != TaskState.COMPLETED or task.task_spec.bpmn_id is None or task.id in self.seen:
            return
        self.seen.add(task.id)
        process = task.workflow.spec.name
        self.passed.add((process, *passage(task)))
        if not kept and label_of(task.task_spec) is not None:
            self.milestones.append((process, task.task_spec.bpmn_id, moment(task.last_state_change),
                                    task.workflow.depth))


def compact(run) -> None:
    """Drop the finished history of ``run``'s workflows, recording what it showed."""
    if _suspended.get():
        return
    archive = _Archive()
    _drop_finished_calls(run.workflow, archive)
    needed = _needed(run)
    for workflow in run.workflows:
        _reroot(workflow, needed, archive)
    _record(run.instance, archive)


def _drop_finished_calls(top, archive: _Archive) -> None:
    for task_id in list(top.subprocesses):
        if task_id not in top.subprocesses:  # went with the process that called it
            continue
        caller = top.get_task_from_id(task_id)
        if top.subprocesses[task_id].completed and caller.has_state(_FINISHED_CALL):
            for task in top.delete_subprocess(caller):  # with the processes it called
                archive.add(task)


def _needed(run) -> set:
    """Ids of the tasks (of every workflow) that the next steps may read, and of their parents."""
    top = run.workflow
    needed = [top.get_task_from_id(task_id) for task_id in top.subprocesses]  # their call activities
    ready = []
    for workflow in run.workflows:
        joins = set()
        for task in workflow.tasks.values():
            if task.state & _KEPT_STATES:
                needed.append(task)
                if task.state == TaskState.READY and task.task_spec.manual:
                    ready.append(task)
                if isinstance(task.task_spec, UnstructuredJoin):
                    joins.add(task.task_spec)
        if joins:  # their thresholds read the branches already joined
            needed.extend(task for task in workflow.tasks.values() if task.task_spec in joins)
        if workflow.last_task is not None:
            needed.append(workflow.last_task)
    for task in ready:  # « Précédent », again and again, down to the first step or one loop round back
        seen, previous = {task.task_spec}, run._previous_user_task(task)
        while previous is not None and previous.task_spec not in seen:
            needed.append(previous)
            seen.add(previous.task_spec)
            previous = run._previous_user_task(previous)
    parents = (task.parent for task in needed)
    return {task.id for task in needed} | {parent.id for parent in parents if parent is not None}


def _reroot(workflow, needed: set, archive: _Archive) -> None:
    """Re-root ``workflow``'s tree at the nearest completed element above every needed task of it;
    archive what the tasks dropped showed, and how the new root was entered."""
    kept = [task for task_id, task in workflow.tasks.items() if task_id in needed]
    if not kept:
        return
    root = _common_ancestor(kept)
    while root.parent is not None and (root.task_spec.bpmn_id is None or root.state != TaskState.COMPLETED):
        root = root.parent
    if root.parent is None:
        return
    below = set()
    stack = [root]
    while stack:
        task = stack.pop()
        below.add(task.id)
        stack.extend(task.children)
    dropped = [task for task_id, task in workflow.tasks.items() if task_id not in below]
    for task in dropped:
        archive.add(task)
    archive.add(root, kept=True)  # the flow into it: its parent goes
    for task in dropped:
        del workflow.tasks[task.id]
    root.parent = None
    workflow.task_tree = root


def _common_ancestor(tasks):
    """The deepest task of which every one of ``tasks`` is a descendant (or itself). Each task of
    the tree is climbed through once: ``joins`` says where a task met the first one's path."""
    path = []
    node = tasks[0]
    while node is not None:
        path.append(node)
        node = node.parent
    path.reverse()  # root … tasks[0]
    joins = {task.id: index for index, task in enumerate(path)}
    deepest = len(path) - 1
    for task in tasks[1:]:
        climbed, node = [], task
        while node.id not in joins:
            climbed.append(node.id)
            node = node.parent
        joins.update(dict.fromkeys(climbed, joins[node.id]))
        deepest = min(deepest, joins[node.id])
    return path[deepest]


def _record(instance, archive: _Archive) -> None:
    """Add the archive's rows: one statement each, the passed elements already known left as they are."""
    if not archive.passed and not archive.milestones:
        return
    if instance.id is None:  # a new instance, saved for the first time
        db.session.add(instance)
        db.session.flush()
    if archive.passed:
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        db.session.execute(dialect.insert(PassedElement).on_conflict_do_nothing(), [
            dict(instance_id=instance.id, process=process, element=element, previous=previous)
            for process, element, previous in sorted(archive.passed)])
    if archive.milestones:
        db.session.execute(db.insert(PastMilestone), [
            dict(instance_id=instance.id, process=process, element=element, at=at, depth=depth)
            for process, element, at, depth in archive.milestones])
