"""« Processus »: the analysts' studio. The versions page, and for each deployed BPMN file an
editor (bpmn-js) whose buttons call the JSON actions below: save a draft, « Vérifier »,
« Comparer », « Déployer »; « Revenir à la version N » from the versions page."""
from dataclasses import asdict

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

import forms

from .. import access, package
from ..engine import DeployError
from ..engine.registry import HANDLERS
from ..extensions import db
from ..package import statuses
from ..roles import ADMIN, ANALYST, LANES
from ..services import processes

bp = Blueprint("processes", __name__, url_prefix="/processus")

STUDIO = (ANALYST, ADMIN)


#: The editor's actions, answered in JSON.
ACTIONS = ("processes.save", "processes.verify", "processes.compare", "processes.deploy")


@bp.errorhandler(processes.StudioError)
def _refused(error):
    if request.endpoint in ACTIONS:
        return jsonify(error=str(error)), 422
    flash(str(error), "error")
    return redirect(url_for(".index"), code=303)


@bp.get("")
@access.require(*STUDIO)
def index():
    drafts = {name for name in processes.deployed_sources() if processes.draft(name)}
    editors = [section for section in package.SECTIONS.values() if section.editor]
    return render_template("processes/index.html", rows=processes.overview(), drafts=drafts, editors=editors)


@bp.post("/<process_id>/versions/<int:number>/retour")
@access.require(*STUDIO)
def rollback(process_id, number):
    created = processes.rollback(process_id, number, access.current_actor(), request.form.get("comment", "").strip())
    db.session.commit()
    flash("Version(s) déployée(s) : " + ", ".join(f"{v.process_id} v{v.version}" for v in created)
          + ". Les nouvelles demandes suivent cette version ; les demandes en cours gardent la leur.", "success")
    return redirect(url_for(".index"), code=303)


@bp.get("/fichiers/<file_name>")
@access.require(*STUDIO)
def studio(file_name):
    xml, found = processes.source(file_name)
    return render_template("processes/studio.html", file_name=file_name, draft=found,
                           process_ids=processes.process_ids(xml))


@bp.get("/fichiers/<file_name>/xml")
@access.require(*STUDIO)
def source(file_name):
    xml, found = processes.source(file_name)
    return jsonify(xml=xml, draft=found is not None)


@bp.get("/catalogue")
@access.require(*STUDIO)
def catalogue():
    """What the properties panel offers: forms, handlers and their parameters, lanes, statuses."""
    return jsonify(
        forms=sorted(forms.REGISTRY),
        handlers=[{"name": h.name, "label": h.label,
                   "params": [{"name": p.name, "label": p.label, "required": p.required,
                               "choices": [value for value, _ in p.options()] if p.options else list(p.choices or ()),
                               "labels": dict(p.options()) if p.options else {}} for p in h.params]}
                  for h in sorted(HANDLERS.values(), key=lambda h: h.name)],
        lanes=list(LANES), statuses=list(statuses.current().codes()))


def _posted_draft(file_name):
    """Save (and commit) the XML posted with the action (the editor's current state), if any."""
    xml = request.form.get("xml")
    if xml:
        processes.save_draft(file_name, xml, access.current_actor())
        db.session.commit()


@bp.post("/fichiers/<file_name>/brouillon")
@access.require(*STUDIO)
def save(file_name):
    _posted_draft(file_name)
    return jsonify(saved=True)


@bp.post("/fichiers/<file_name>/verifier")
@access.require(*STUDIO)
def verify(file_name):
    _posted_draft(file_name)
    problems = processes.check_draft(file_name)
    return jsonify(ok=not problems, problems=[asdict(p) for p in problems])


@bp.post("/fichiers/<file_name>/comparer")
@access.require(*STUDIO)
def compare(file_name):
    _posted_draft(file_name)
    changes = processes.compare_draft(file_name)
    return jsonify(changes=[asdict(c) for c in changes], impact=processes.impact(file_name, changes))


@bp.post("/fichiers/<file_name>/deployer")
@access.require(*STUDIO)
def deploy(file_name):
    _posted_draft(file_name)
    problems = processes.check_draft(file_name)
    if problems:
        return jsonify(ok=False, problems=[asdict(p) for p in problems]), 422
    comment = request.form.get("comment", "").strip()
    if not comment:
        raise processes.StudioError("Indiquez un commentaire de version : ce qui change et pourquoi.")
    created = processes.deploy_draft(file_name, access.current_actor(), comment)
    db.session.commit()
    return jsonify(ok=True, versions=[{"process_id": v.process_id, "version": v.version} for v in created])


def _back() -> str:
    """The studio page the action was posted from (a local path only), else the versions page."""
    back = request.form.get("next", "")
    return back if back.startswith("/processus") and "//" not in back else url_for(".index")


@bp.post("/paquet/verifier")
@access.require(*STUDIO)
def package_check():
    """« Vérifier » every draft (diagrams and data) together, saving nothing."""
    problems = package.check_drafts()
    for problem in problems:
        flash(str(problem), "error")
    if not problems:
        flash("Le paquet de processus, avec vos brouillons, peut être déployé.", "success")
    return redirect(_back(), code=303)


@bp.post("/paquet/deployer")
@access.require(*STUDIO)
def package_deploy():
    """« Déployer » every draft (diagrams and data) as one new package version."""
    comment = request.form.get("comment", "").strip()
    if not comment:
        raise processes.StudioError("Indiquez un commentaire de version : ce qui change et pourquoi.")
    try:
        row, _ = package.deploy_drafts(access.current_actor(), comment)
    except DeployError as exc:
        for problem in exc.problems:
            flash(str(problem), "error")
        return redirect(_back(), code=303)
    db.session.commit()
    flash(f"Paquet de processus version {row.version} déployé. Les nouvelles demandes le suivent ; "
          "les demandes en cours gardent le leur." if row else "Aucun changement à déployer.", "success")
    return redirect(_back(), code=303)


@bp.post("/fichiers/<file_name>/abandonner")
@access.require(*STUDIO)
def discard(file_name):
    processes.discard_draft(file_name)
    db.session.commit()
    flash(f"Le brouillon de « {file_name} » a été abandonné.", "info")
    return redirect(url_for(".index"), code=303)
