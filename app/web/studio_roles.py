"""« Processus » › « Rôles et couloirs »: the studio's editor of the package's roles section: each
role, the lanes its holders work in and its capabilities (the permissions table). Saving keeps a
section draft; « Vérifier » and « Déployer » post to the package routes (processes.py)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import access, package
from ..extensions import db
from ..package.roles import CAPABILITIES, SYSTEM_LANE, from_form

bp = Blueprint("studio_roles", __name__, url_prefix="/processus/roles")

SECTION = "roles"


def _render(rows, errors=None, status=200):
    return render_template("studio/roles.html", rows=rows, errors=errors or {}, capabilities=CAPABILITIES,
                           system_lane=SYSTEM_LANE, draft=package.section_draft(SECTION) is not None), status


@bp.get("")
@access.require_capability("studio")
def index():
    return _render([{"code": code, **item} for code, item in package.draft_value(SECTION).items()])


@bp.post("")
@access.require_capability("studio")
def save():
    count = min(request.form.get("count", type=int) or 0, 200)
    value, errors = from_form(request.form, count)
    if errors:
        rows = [{"code": request.form.get(f"role-{i}-code", ""), "label": request.form.get(f"role-{i}-label", ""),
                 "lanes": [x.strip() for x in request.form.get(f"role-{i}-lanes", "").split(",") if x.strip()],
                 "staff": bool(request.form.get(f"role-{i}-staff")),
                 "capabilities": request.form.getlist(f"role-{i}-cap")} for i in range(count)]
        flash("Le brouillon n'est pas enregistré : corrigez les rôles signalés.", "error")
        return _render([r for r in rows if r["code"] or r["label"]], errors, 422)
    package.save_section_draft(SECTION, value, access.current_actor())
    db.session.commit()
    flash("Brouillon des rôles enregistré. « Vérifier » puis « Déployer » pour qu'il s'applique.", "success")
    return redirect(url_for(".index"), code=303)
