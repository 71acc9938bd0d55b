"""Firing the timers the diagrams wait on (reminders, deadlines), from the worker."""
from .. import clock
from ..engine import EngineFailure, Run
from ..extensions import db
from ..models import EnrolmentRequest, WorkflowInstance
from . import incidents


def fire_next() -> bool | None:
    """Advance the instance whose earliest timer is the most overdue; None when none is due.

    True when its timers fired; False when a task failed: an incident is opened and the instance
    waits for its retry (the worker goes on with the others). Flushes only: the worker commits
    each instance on its own."""
    instance = db.session.scalars(
        db.select(WorkflowInstance)
        .where(WorkflowInstance.next_timer_at <= clock.now(),
               WorkflowInstance.id.not_in(incidents.blocked_instances()))
        .order_by(WorkflowInstance.next_timer_at).limit(1)
        .with_for_update(skip_locked=True)).first()
    if instance is None:
        return None
    request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.instance_id == instance.id))
    run = Run.load(instance, request)
    fired = True
    try:
        run.fire_timers()
    except EngineFailure as failure:
        incidents.record(request, failure)
        fired = False
    run.save()
    db.session.flush()
    return fired
