"""Where a running instance waits: the elements of its diagrams that hold a live task."""
from SpiffWorkflow.util.task import TaskState

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def waiting_elements(run) -> set[tuple[str, str]]:
    """(process id, element id) of every task ready, waiting or started, called processes included."""
    return {(task.workflow.spec.name, task.task_spec.bpmn_id)
            for task in run.workflow.get_tasks(state=LIVE) if task.task_spec.bpmn_id}
