"""The one choke point through which every web load of a request goes. Deny by default.

Today a request is reachable by the anonymous supplier who started it (its public id is kept in
their session); agents, analysts and logged-in suppliers come with accounts.
"""
from flask import abort, session
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import EnrolmentRequest, WorkflowInstance
from .roles import LANE_OF_ROLE, SUPPLIER

_DRAFT = "enrolment_draft"


def remember_draft(request: EnrolmentRequest) -> None:
    session[_DRAFT] = request.public_id


def forget_draft() -> None:
    session.pop(_DRAFT, None)


def current_lane() -> str:
    """The lane whose user tasks the current user completes."""
    return LANE_OF_ROLE[SUPPLIER]


def current_actor() -> str:
    """How the current user is named in a request's history."""
    return "fournisseur (demande en ligne)"


def load_request(public_id: str) -> EnrolmentRequest:
    """The request ``public_id`` if the current user may see it; 404 otherwise (no hint that it
    exists)."""
    if session.get(_DRAFT) != public_id:
        abort(404)
    request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id)
                                .options(joinedload(EnrolmentRequest.instance)
                                         .joinedload(WorkflowInstance.process_version)))
    if request is None:
        abort(404)
    return request
