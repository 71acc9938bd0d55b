"""« Demandes en cours sur une version antérieure »: the studio's pages to move running requests to
another version of their process, and to undo a move (app/services/migration.py)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import access
from ..extensions import db
from ..models import InstanceMove
from ..services import migration

bp = Blueprint("migration", __name__, url_prefix="/processus")


@bp.errorhandler(migration.MigrationError)
def _refused(error):
    flash(str(error), "error")
    return redirect(url_for(".overview"), code=303)


def _target(process_id):
    number = request.values.get("version", type=int)
    return migration.target_version(process_id, number)


@bp.get("/demandes-en-cours")
@access.require_capability("studio")
def overview():
    """Every process and how many of its running requests are on an older version."""
    return render_template("migration/overview.html", rows=migration.overview())


@bp.get("/<process_id>/demandes-en-cours")
@access.require_capability("studio")
def index(process_id):
    target = _target(process_id)
    return render_template("migration/index.html", process_id=process_id, target=target,
                           candidates=migration.candidates(process_id, target),
                           moves=migration.recent_moves(process_id), refusal=migration.undo_refusal,
                           callers=migration.callers(process_id))


@bp.post("/<process_id>/demandes-en-cours/deplacer")
@access.require_capability("studio")
def move(process_id):
    target = _target(process_id)
    chosen = request.form.getlist("instance")
    if not chosen:
        raise migration.MigrationError("Cochez au moins une demande à déplacer.")
    outcomes = migration.move_all(migration.find_requests(process_id, target, chosen), target,
                                  access.current_actor())
    for outcome in outcomes:
        if outcome.moved is not None:
            flash(f"{outcome.candidate.label} : déplacée vers la version {target.version}.", "success")
        else:
            flash(f"{outcome.candidate.label} : refusée, {outcome.reason}", "error")
    return redirect(url_for(".index", process_id=process_id, version=target.version), code=303)


@bp.post("/changements-de-version/<int:number>/annuler")
@access.require_capability("studio")
def undo(number):
    done = db.get_or_404(InstanceMove, number)
    process_id, label = done.from_version.process_id, done.label
    try:
        migration.undo(done, access.current_actor())
    except migration.Refused as exc:
        db.session.rollback()
        flash(f"{label} : changement de version non annulé, {exc}", "error")
    else:
        db.session.commit()
        flash(f"{label} : de retour sur la version {done.from_version.version}.", "success")
    return redirect(url_for(".index", process_id=process_id), code=303)
