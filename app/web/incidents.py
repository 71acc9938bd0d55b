"""« Incidents » (admins and analysts): the requests held up by a failed task, and « Relancer »."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from .. import access
from ..extensions import db
from ..models import Incident
from ..services import incidents

bp = Blueprint("incidents", __name__, url_prefix="/gestion/incidents")

ALREADY_HANDLED = "Cet incident a déjà été traité : la liste est à jour."


@bp.app_template_global()
def open_incident(enrolment) -> Incident | None:
    """For the request pages' notice (incidents/_notice.html)."""
    return incidents.open_for(enrolment)


@bp.get("")
@access.require_capability("incidents")
def index():
    return render_template("incidents/index.html", listing=incidents.listing())


@bp.post("/relance")
@access.require_capability("incidents")
def retry():
    incident_id = request.form.get("incident", type=int)
    incident = db.session.get(Incident, incident_id) if incident_id else None
    if incident is None:
        abort(404)
    if not incident.is_open:
        flash(ALREADY_HANDLED, "info")
        return redirect(url_for(".index"), code=303)
    try:
        resolved = incidents.retry(incident, current_user._get_current_object())
        db.session.commit()
    except StaleDataError:  # retried, or the request moved, at the same moment
        db.session.rollback()
        flash(ALREADY_HANDLED, "info")
        return redirect(url_for(".index"), code=303)
    name = incident.request.number or "brouillon"
    if resolved:
        flash(f"Le traitement de la demande ({name}) a repris après « {incident.task_label} ».", "success")
    else:
        flash(f"La relance a de nouveau échoué (« {incident.task_label} », demande {name}) : "
              "l'incident reste ouvert avec la nouvelle erreur.", "error")
    return redirect(url_for(".index"), code=303)
