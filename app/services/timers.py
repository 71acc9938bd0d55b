"""Firing the timers the diagrams wait on (reminders, deadlines), from the worker."""
from .. import clock
from ..engine import Run
from ..models import WorkflowInstance
from .continuations import advance


def fire_next() -> bool | None:
    """Advance the instance whose earliest timer is the most overdue; None when none is due.

    True when its timers fired; False when a task failed: an incident is opened and the instance
    waits for its retry (the worker goes on with the others). Flushes only: the worker commits
    each instance on its own."""
    return advance(WorkflowInstance.next_timer_at <= clock.now(), WorkflowInstance.next_timer_at, Run.fire_timers)
