"""Asynchronous continuations, run by the worker (Camunda's ``asyncBefore``).

A service or script task whose ``async`` property is ``true`` does not run inside the request that
reaches it: the engine stops in front of it, ``Run.save`` marks the instance due
(``workflow_instance.async_due_at``), and the page answers at once. The worker then takes the due
instances one at a time, each in its own transaction (``run_next``): it runs the due asynchronous
tasks and the engine until the diagram waits again. An asynchronous task reached on the way is left
due for a later unit: each asynchronous task starts a transaction of its own, as in Camunda, so that
a unit stays short (the row lock, and on SQLite the database's write lock, are held for one heavy
task at most) and what a task did is committed, and shown, as soon as it is done.

A failure opens an incident (the failed task kept in error) and clears the marker: the instance is
not taken again until an admin or an analyst retries it from the incidents page, which runs the task
at once (and the engine after it, which marks any asynchronous task it reaches due again).

``advance`` is the worker's unit for the engine, shared with the timers (``timers.fire_next``).
"""
from collections.abc import Callable

from sqlalchemy import event

from ..engine import EngineFailure, Run
from ..extensions import db
from ..models import EnrolmentRequest, WorkflowInstance
from . import incidents, outbox


def advance(due, order_by, act: Callable[[Run], object]) -> bool | None:
    """Take the instance that is ``due`` (a condition on WorkflowInstance) first in ``order_by``,
    skipping those another worker holds (``FOR UPDATE SKIP LOCKED``) and those an open incident
    blocks; ``act`` on its run, save it. None when none is due; True when it went through; False when
    a task failed: an incident is opened and the instance waits for its retry (the worker goes on
    with the others). Flushes only: the worker commits each instance on its own."""
    instance = db.session.scalars(
        db.select(WorkflowInstance)
        .where(due, WorkflowInstance.id.not_in(incidents.blocked_instances()))
        .order_by(order_by).limit(1)
        .with_for_update(skip_locked=True)).first()
    if instance is None:
        return None
    request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.instance_id == instance.id))
    run = Run.load(instance, request)
    went_through = True
    try:
        act(run)
    except EngineFailure as failure:
        incidents.record(request, failure)
        went_through = False
    run.save()
    db.session.flush()
    return went_through


def run_next() -> bool | None:
    """Run the asynchronous work of the instance that has waited longest for it (see ``advance``)."""
    return advance(WorkflowInstance.async_due_at.is_not(None), WorkflowInstance.async_due_at, Run.continue_async)


def due_count() -> int:
    """Instances whose asynchronous work waits for the worker."""
    return db.session.scalar(db.select(db.func.count()).where(WorkflowInstance.async_due_at.is_not(None)))


@event.listens_for(WorkflowInstance.async_due_at, "set")
def _wake_the_worker(target, value, oldvalue, initiator):
    """A transaction that makes asynchronous work due wakes the worker of this process when it
    commits (the ``portal`` command's embedded worker), as a queued mail does; a worker of another
    process takes it at its next pass."""
    if value is not None:
        outbox.wake_after_commit()
