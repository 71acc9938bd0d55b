"""« Processus » › « Motifs de non-conformité des pièces »: the reasons the review grid offers when an
agent finds a document non conforming. Saving keeps a section draft; « Vérifier » and « Déployer »
post to the package routes (processes.py)."""
from flask import Blueprint, flash, redirect, render_template, url_for

from forms.refusal_reasons import RefusalReasonsForm

from .. import access, package
from ..extensions import db
from ..package.refusal_reasons import OTHER_LABEL, as_text

bp = Blueprint("studio_reasons", __name__, url_prefix="/processus/motifs")

SECTION = "refusal_reasons"


@bp.route("", methods=["GET", "POST"])
@access.require_capability("studio")
def index():
    form = RefusalReasonsForm(data={"reasons": as_text(package.draft_value(SECTION))})
    if form.validate_on_submit():
        package.save_section_draft(SECTION, form.value(), access.current_actor())
        db.session.commit()
        flash("Brouillon des motifs enregistré. « Vérifier » puis « Déployer » pour qu'il s'applique.", "success")
        return redirect(url_for(".index"), code=303)
    return render_template("studio/refusal_reasons.html", form=form, other=OTHER_LABEL,
                           draft=package.section_draft(SECTION) is not None), 422 if form.errors else 200
