"""Incidents: when a task of a request's diagram fails (a look-up service down, a handler error),
the request is not lost. Its state is saved with the failed task in error, an incident records
the error, and an admin or an analyst retries the task once the cause is fixed. Suppliers are
only told that the processing is held up (incidents/_notice.html); the error is for the technical team.

``record`` is called where the engine runs (``steps.submit``, the timer worker), which save the run
with the failed task and commit; ``retry`` saves the run, its caller commits.
"""
import logging
from dataclasses import dataclass

from sqlalchemy.orm import joinedload

from .. import clock
from ..engine import EngineFailure, Run
from ..extensions import db
from ..models import EnrolmentRequest, Incident, User
from . import audit, enrolment

log = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 2000
RESOLVED_SHOWN = 50


def record(request: EnrolmentRequest, failure: EngineFailure, actor: str = "système") -> Incident:
    """Open an incident for ``failure`` (the run, saved by the caller, keeps the failed task in
    error), with a line in the request's history; ``actor``: who was acting when it failed."""
    log.error("request %s: task %s (%s) failed", request.public_id, failure.task_name, failure.handler,
              exc_info=failure.original)
    incident = Incident(request=request, occurred_at=clock.now(), retries=0)
    _describe(incident, failure)
    db.session.add(incident)
    enrolment.record(request, actor, "Incident technique : traitement interrompu", failure.label)
    return incident


def _describe(incident: Incident, failure: EngineFailure) -> None:
    incident.task_bpmn_id, incident.task_label, incident.handler = failure.task_name, failure.label, failure.handler
    incident.error = repr(failure.original)[:ERROR_MAX_LENGTH]


def open_for(request: EnrolmentRequest) -> Incident | None:
    """The request's open incident, if any (its diagram waits for a retry)."""
    return db.session.scalar(db.select(Incident).where(Incident.request_id == request.id,
                                                       Incident.resolved_at.is_(None)))


def is_held(request: EnrolmentRequest) -> bool:
    """Whether an open incident holds the request (read with it by access.load_request)."""
    return request.held if request.held is not None else open_for(request) is not None


def blocked_instances():
    """A select of the workflow instance ids whose request has an open incident."""
    return (db.select(EnrolmentRequest.instance_id).join(Incident, Incident.request_id == EnrolmentRequest.id)
            .where(Incident.resolved_at.is_(None)))


@dataclass
class Listing:
    open: list[Incident]
    resolved: list[Incident]   # the last RESOLVED_SHOWN


def listing() -> Listing:
    query = db.select(Incident).options(joinedload(Incident.request), joinedload(Incident.resolved_by))
    return Listing(
        open=db.session.scalars(query.where(Incident.resolved_at.is_(None)).order_by(Incident.occurred_at)).all(),
        resolved=db.session.scalars(query.where(Incident.resolved_at.is_not(None))
                                    .order_by(Incident.resolved_at.desc()).limit(RESOLVED_SHOWN)).all())


def retry(incident: Incident, user: User) -> bool:
    """Run the failed task again and let the diagram go on; whether it went through. When it fails
    again the incident stays open with the new error (and whatever ran before it is kept). The
    caller commits (a concurrent step or retry of the request makes the flush raise StaleDataError)."""
    request = incident.request
    run = Run.load(request.instance, request)
    now = clock.now()
    try:
        run.retry()
    except EngineFailure as failure:
        log.error("request %s: retry of task %s failed", request.public_id, failure.task_name,
                  exc_info=failure.original)
        incident.retries += 1
        incident.last_retry_at = now
        _describe(incident, failure)
        outcome = "nouvel échec"
    else:
        incident.resolved_at, incident.resolved_by = now, user
        outcome = "traitement repris"
    run.save()
    request.updated_at = now
    audit.record(f"Relance après incident : {outcome}", request, reason=incident.task_label, actor=user)
    db.session.flush()
    return incident.resolved_at is not None
