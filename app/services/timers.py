"""Firing the timers the diagrams wait on (reminders, deadlines), from the worker."""
import logging

from .. import clock
from ..engine import EngineFailure, Run
from ..extensions import db
from ..models import EnrolmentRequest, WorkflowInstance

log = logging.getLogger(__name__)


def fire_due(limit: int = 100) -> int:
    """Advance every instance whose earliest timer is due; one transaction per instance."""
    fired = 0
    for _ in range(limit):
        instance = db.session.scalars(
            db.select(WorkflowInstance)
            .where(WorkflowInstance.next_timer_at <= clock.now())
            .order_by(WorkflowInstance.next_timer_at).limit(1)
            .with_for_update(skip_locked=True)).first()
        if instance is None:
            db.session.commit()
            break
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.instance_id == instance.id))
        run = Run.load(instance, request)
        try:
            run.fire_timers()
        except EngineFailure:
            log.exception("timer of instance %s failed", instance.id)
            db.session.rollback()
            break
        run.save()
        db.session.commit()
        fired += 1
    return fired
