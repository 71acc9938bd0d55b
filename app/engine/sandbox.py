"""What a simulation (app/services/simulation.py) reads from a run beyond what the portal needs:
the elements completed so far, in order, and the next timer deadline."""
from datetime import datetime

from SpiffWorkflow.util.task import TaskState

from .runtime import Run, _is_timer


def completed(run: Run) -> dict:
    """{task id: (element id, element name, when)} of every completed element of the run (called
    processes included)."""
    return {task.id: (task.task_spec.bpmn_id, task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                      task.last_state_change)
            for workflow in (run.workflow, *run.workflow.subprocesses.values())
            for task in workflow.tasks.values()
            if task.state == TaskState.COMPLETED and task.task_spec.bpmn_id}


def next_deadline(run: Run) -> datetime | None:
    """The earliest deadline of the timers the run waits on (None: it waits on none)."""
    deadlines = [datetime.fromisoformat(e.value) for e in run.workflow.waiting_events()
                 if _is_timer(e) and isinstance(e.value, str)]
    return min(deadlines) if deadlines else None
