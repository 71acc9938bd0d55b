"""Starting, quitting and concluding an enrolment (the steps are the generic task view): the
initial one, anonymous, and the complementary one, from the supplier's space."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import access
from ..extensions import db
from ..package import statuses
from ..services import accounts, eligibility
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
    access.forget_draft(enrolment)
    flash("Votre demande d'enrôlement a été abandonnée : aucune information ni aucun document "
          "n'a été conservé.", "info")
    return redirect(url_for("supplier.home" if access.can("supplier_space") else "public.home"), code=303)


@bp.get("/demandes/<public_id>/confirmation")
def after_steps(public_id):
    enrolment = access.load_request(public_id)
    if enrolment.is_draft:
        return redirect(url_for("tasks.step", public_id=public_id))
    if access.opened_by_deposit_link(enrolment):  # reached with the mail's deposit link
        if statuses.of(enrolment.status).offers(statuses.DEPOSIT):
            return redirect(url_for("tasks.step", public_id=public_id))
        accounts.finish_deposit(enrolment)  # « Terminer mon dépôt » went through: the link is spent
        db.session.commit()
        access.forget_deposit()
        return render_template("enrolment/deposit_done.html", enrolment=enrolment)
    if current_user.is_authenticated:  # shown once: the request is in their space from now on
        access.forget_draft(enrolment)
    return render_template("enrolment/confirmation.html", enrolment=enrolment)


@bp.get("/enrolement/complementaire")
@access.require_capability("supplier_space")
def complementary():
    """« Faire une demande complémentaire »: for each SIRET of the account, whether the rules allow
    it now, and why not."""
    suppliers = [(a.siret, enrolments.company_name(a.siret), eligibility.may_file_complementary(a.siret))
                 for a in current_user.sirets]
    return render_template("enrolment/complementary.html", suppliers=suppliers)


@bp.post("/enrolement/complementaire")
@access.require_capability("supplier_space")
def start_complementary():
    siret = request.form.get("siret", "")
    if siret not in current_user.siret_list:
        abort(404)
    verdict = eligibility.may_file_complementary(siret)
    if not verdict.allowed:
        flash(verdict.reason, "error")
        return redirect(url_for(".complementary"), code=303)
    enrolment = enrolments.start_complementary(current_user, siret, access.current_actor())
    db.session.commit()
    access.remember_draft(enrolment)
    return redirect(url_for("tasks.step", public_id=enrolment.public_id), code=303)
