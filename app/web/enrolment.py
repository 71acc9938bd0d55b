"""Starting, quitting and concluding an initial enrolment (the steps are the generic task view)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import access
from ..extensions import db
from ..services import enrolment as enrolments

bp = Blueprint("enrolment", __name__)


@bp.post("/enrolement/nouvelle")
def start():
    enrolment = enrolments.start(actor=access.current_actor())
    db.session.commit()
    access.remember_draft(enrolment)
    return redirect(url_for("tasks.step", public_id=enrolment.public_id), code=303)


@bp.route("/demandes/<public_id>/quitter", methods=["GET", "POST"])
def quit(public_id):
    enrolment = access.load_request(public_id)
    if not enrolment.is_draft:
        return redirect(url_for(".after_steps", public_id=public_id))
    if request.method == "GET":
        return render_template("enrolment/quit.html", enrolment=enrolment)
    enrolments.discard(enrolment)
    db.session.commit()
    access.forget_draft()
    flash("Votre demande d'enrôlement a été abandonnée : aucune information ni aucun document "
          "n'a été conservé.", "info")
    return redirect(url_for("public.home"), code=303)


@bp.get("/demandes/<public_id>/confirmation")
def after_steps(public_id):
    enrolment = access.load_request(public_id)
    if enrolment.is_draft:
        return redirect(url_for("tasks.step", public_id=public_id))
    return render_template("enrolment/confirmation.html", enrolment=enrolment)
