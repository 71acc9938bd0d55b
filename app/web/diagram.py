"""Where a request stands in its diagrams, for everyone who may see the request (access.load_request):
the JSON that js/diagram.js draws, and what the request pages' section (request/_diagram.html) shows."""
from dataclasses import asdict

from flask import Blueprint, jsonify

from .. import access
from ..services import position

bp = Blueprint("diagram", __name__)


@bp.get("/demandes/<public_id>/diagramme")
def show(public_id):
    where = position.of(access.load_request(public_id))
    response = jsonify(active=where.active, processes=[asdict(p) for p in where.processes])
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.app_template_global()
def request_position(enrolment):
    """(position, whose-turn line) of ``enrolment`` for the request pages, worded for the viewer."""
    where = position.of(enrolment)
    return where, position.turn_line(enrolment, where, for_staff=access.can("see_requests"))
