"""Firing the timers the diagrams wait on (reminders, deadlines), from the worker."""
from .. import clock
from ..engine import EngineFailure, Run
from ..extensions import db
from ..models import EnrolmentRequest, WorkflowInstance
from . import incidents


def fire_due(limit: int = 100) -> int:
    """Advance every instance whose earliest timer is due; one transaction per instance. A task
    that fails opens an incident (the worker goes on with the others); an instance with an open
    incident waits for its retry."""
    fired = 0
    for _ in range(limit):
        instance = db.session.scalars(
            db.select(WorkflowInstance)
            .where(WorkflowInstance.next_timer_at <= clock.now(),
                   WorkflowInstance.id.not_in(incidents.blocked_instances()))
            .order_by(WorkflowInstance.next_timer_at).limit(1)
            .with_for_update(skip_locked=True)).first()
        if instance is None:
            db.session.commit()
            break
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.instance_id == instance.id))
        run = Run.load(instance, request)
        try:
            run.fire_timers()
        except EngineFailure as failure:
            incidents.record(request, failure)
        else:
            fired += 1
        run.save()
        db.session.commit()
    return fired
