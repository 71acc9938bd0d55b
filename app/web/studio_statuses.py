"""« Processus » › « Statuts »: analysts and admins list, add, change and delete the statuses of the
process package. Every change goes to the section's draft; « Vérifier » and « Déployer » post to
the package routes (app/web/processes.py), which check and deploy every draft together."""
from flask import Blueprint, flash, redirect, render_template, url_for

from forms.statuses import StatusForm

from .. import access
from ..extensions import db
from ..package import section_draft, statuses

bp = Blueprint("studio_statuses", __name__, url_prefix="/processus/statuts")



@bp.get("")
@access.require_capability("studio")
def index():
    changed, removed = statuses.changes()
    rows = [statuses.Status.from_item(code, item) for code, item in statuses.edited().items()]
    return render_template("studio/statuses.html", rows=rows, changed=changed, removed=removed,
                           draft=section_draft("statuses"), catalogue=statuses)


@bp.route("/nouveau", methods=["GET", "POST"])
@access.require_capability("studio")
def add():
    form = StatusForm(taken=tuple(statuses.edited()), data={"badge": "info", "acts": "agency", "outcome": "none"})
    if form.validate_on_submit():
        statuses.put(form.code.data, form.item(), access.current_actor())
        db.session.commit()
        flash(f"Statut « {form.supplier_label.data.strip()} » ajouté au brouillon : vérifiez puis déployez le "
              "paquet pour qu'il s'applique.", "success")
        return redirect(url_for(".index"), code=303)
    return render_template("studio/statuses_form.html", form=form, editing=None, catalogue=statuses)


@bp.route("/<code>", methods=["GET", "POST"])
@access.require_capability("studio")
def edit(code):
    item = statuses.edited().get(code)
    if item is None:
        flash(f"Aucun statut n'a le code « {code} ».", "error")
        return redirect(url_for(".index"), code=303)
    form = StatusForm.of(code, item)
    if form.validate_on_submit():
        statuses.put(code, form.item(), access.current_actor())
        db.session.commit()
        flash(f"Statut « {form.supplier_label.data.strip()} » modifié dans le brouillon : vérifiez puis déployez le "
              "paquet pour qu'il s'applique.", "success")
        return redirect(url_for(".index"), code=303)
    return render_template("studio/statuses_form.html", form=form, editing=code, catalogue=statuses)


@bp.post("/<code>/supprimer")
@access.require_capability("studio")
def delete(code):
    try:
        statuses.remove(code, access.current_actor())
    except statuses.Refused as refused:
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(f"Statut « {code} » supprimé du brouillon : vérifiez puis déployez le paquet.", "success")
    return redirect(url_for(".index"), code=303)
