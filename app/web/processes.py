"""« Processus »: the analysts' studio. The versions page, and for each deployed BPMN file an
editor (bpmn-js) whose buttons call the JSON actions below: save a draft, « Vérifier »,
« Comparer », « Déployer »; « Revenir à la version N » from the versions page."""
import io
from dataclasses import asdict

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for

import forms
from forms.instruction import DECISIONS

from .. import access, package, roles
from ..engine import DeployError
from ..engine.registry import HANDLERS
from ..extensions import db
from ..package.roles import SYSTEM_LANE
from ..package import statuses
from ..services import package_archive, processes, simulation

bp = Blueprint("processes", __name__, url_prefix="/processus")

#: The editor's actions, answered in JSON.
ACTIONS = ("processes.save", "processes.verify", "processes.compare", "processes.deploy")


@bp.errorhandler(processes.StudioError)
def _refused(error):
    if request.endpoint in ACTIONS:
        return jsonify(error=str(error)), 422
    flash(str(error), "error")
    return redirect(url_for(".index"), code=303)


@bp.get("")
@access.require_capability("studio")
def index():
    pending = processes.pending_drafts(url_for)
    return render_template("processes/index.html", rows=processes.overview(), pending=pending,
                           drafts={d.name for d in pending if d.kind == "Diagramme"},
                           packages=processes.package_versions(),
                           sections=[s for s in package.SECTIONS.values() if s.editor])


@bp.post("/<process_id>/versions/<int:number>/retour")
@access.require_capability("studio")
def rollback(process_id, number):
    created = processes.rollback(process_id, number, access.current_actor(), request.form.get("comment", "").strip())
    db.session.commit()
    flash("Version(s) déployée(s) : " + ", ".join(f"{v.process_id} v{v.version}" for v in created)
          + ". Les nouvelles demandes suivent cette version ; les demandes en cours gardent la leur.", "success")
    return redirect(url_for(".index"), code=303)


@bp.get("/fichiers/<file_name>")
@access.require_capability("studio")
def studio(file_name):
    xml, found = processes.source(file_name)
    others = [d for d in processes.pending_drafts(url_for) if d.name != file_name]
    return render_template("processes/studio.html", file_name=file_name, draft=found,
                           process_ids=processes.process_ids(xml), others=others)


@bp.get("/fichiers/<file_name>/xml")
@access.require_capability("studio")
def source(file_name):
    xml, found = processes.source(file_name)
    return jsonify(xml=xml, draft=found is not None)


@bp.get("/catalogue")
@access.require_capability("studio")
def catalogue():
    """What the properties panel offers: forms, handlers and their parameters, lanes, statuses, the
    decisions a review task may offer."""
    return jsonify(
        forms=sorted({*forms.REGISTRY, *package.draft_value("forms")}),
        handlers=[{"name": h.name, "label": h.label,
                   "params": [{"name": p.name, "label": p.label, "required": p.required,
                               "choices": [value for value, _ in p.options()] if p.options else list(p.choices or ()),
                               "labels": dict(p.options()) if p.options else {}} for p in h.params]}
                  for h in sorted(HANDLERS.values(), key=lambda h: h.name)],
        lanes=[*roles.current().lanes, SYSTEM_LANE], statuses=list(statuses.current().codes()),
        decisions=[{"code": code, "label": label} for code, label in DECISIONS.items()])


def _xml():
    """The XML the editor posted with the action (its current state), or None."""
    return request.form.get("xml") or None


def _problems(problems):
    return [asdict(p) for p in problems]


@bp.post("/fichiers/<file_name>/brouillon")
@access.require_capability("studio")
def save(file_name):
    xml = _xml()
    if not xml:
        raise processes.StudioError("Le diagramme envoyé est vide : rien à enregistrer.")
    processes.save_draft(file_name, xml, access.current_actor())
    db.session.commit()
    return jsonify(saved=True)


@bp.post("/fichiers/<file_name>/verifier")
@access.require_capability("studio")
def verify(file_name):
    """« Vérifier » the editor's XML (in memory, not saved) with every other draft of the package,
    then replay the scenarios that go through its processes (``scenarios``: those that changed, when
    any did)."""
    problems = processes.check_package(file_name, _xml())
    changed = [] if problems else simulation.replay_file(file_name, _xml()).changed
    return jsonify(ok=not problems, problems=_problems(problems),
                   **({"scenarios": [{"name": n, "changes": c} for n, c in changed]} if changed else {}))


@bp.post("/fichiers/<file_name>/comparer")
@access.require_capability("studio")
def compare(file_name):
    """« Comparer » the editor's XML (in memory, not saved) with the deployed file."""
    changes = processes.compare_file(file_name, _xml())
    return jsonify(changes=[asdict(c) for c in changes], impact=processes.impact(changes))


@bp.post("/fichiers/<file_name>/deployer")
@access.require_capability("studio")
def deploy(file_name):
    """« Déployer »: the editor's XML is saved as the draft, then every draft of the package (the
    package is one version) is deployed; refused, the draft stays."""
    xml = _xml()
    if xml:
        processes.save_draft(file_name, xml, access.current_actor())
        db.session.commit()
    try:
        row, created = processes.deploy_all(access.current_actor(), request.form.get("comment", "").strip())
    except DeployError as exc:
        return jsonify(ok=False, problems=_problems(exc.problems)), 422
    db.session.commit()
    return jsonify(ok=True, package=row.version if row else None,
                   versions=[{"process_id": v.process_id, "version": v.version} for v in created],
                   moving_url=url_for("migration.overview"))


def _back() -> str:
    """The studio page the action was posted from (a local path only), else the versions page."""
    back = request.form.get("next", "")
    return back if back.startswith("/processus") and "//" not in back else url_for(".index")


@bp.post("/paquet/verifier")
@access.require_capability("studio")
def package_check():
    """« Vérifier » every draft (diagrams and data) together, saving nothing."""
    problems = processes.check_package()
    for problem in problems:
        flash(str(problem), "error")
    if not problems:
        flash("Le paquet de processus, avec vos brouillons, peut être déployé.", "success")
        replays = simulation.replay_scenarios()  # the analysts' scenarios, replayed with the drafts
        for name, changes in replays.changed:
            flash(f"Scénario « {name} » changé : " + " ".join(changes), "warning")
        if replays.passed:
            flash("Scénarios inchangés : " + ", ".join(f"« {name} »" for name in replays.passed) + ".", "info")
    return redirect(_back(), code=303)


@bp.get("/paquet/comparer")
@access.require_capability("studio")
def package_compare():
    """« Comparer » every draft (diagrams and data) with the deployed package."""
    return render_template("processes/compare.html", comparison=processes.compare_package())


@bp.post("/paquet/deployer")
@access.require_capability("studio")
def package_deploy():
    """« Déployer » every draft (diagrams and data) as one new package version."""
    try:
        row, _ = processes.deploy_all(access.current_actor(), request.form.get("comment", "").strip())
    except DeployError as exc:
        for problem in exc.problems:
            flash(str(problem), "error")
        return redirect(_back(), code=303)
    db.session.commit()
    flash(f"Paquet de processus version {row.version} déployé. Les nouvelles demandes le suivent ; "
          "les demandes en cours gardent le leur." if row else "Aucun changement à déployer.", "success")
    return redirect(_back(), code=303)


@bp.post("/paquet/brouillons/<section>/abandonner")
@access.require_capability("studio")
def package_discard(section):
    """« Abandonner le brouillon » of a section editor: its draft is dropped, back to the editor."""
    found = package.SECTIONS.get(section)
    if found is None or found.editor is None:
        abort(404)
    package.discard_section_draft(section)
    db.session.commit()
    flash(f"Le brouillon « {found.label} » a été abandonné : ce qui est déployé reste en service.", "info")
    return redirect(url_for(found.editor), code=303)


@bp.post("/paquet/versions/<int:number>/retour")
@access.require_capability("studio")
def package_rollback(number):
    row = processes.rollback_package(number, access.current_actor(), request.form.get("comment", "").strip())
    db.session.commit()
    flash(f"Paquet de processus version {row.version} déployé : les diagrammes et les données de la version "
          f"{number}. Les nouvelles demandes le suivent ; les demandes en cours gardent le leur.", "success")
    return redirect(url_for(".index"), code=303)


@bp.get("/paquet/export")
@access.require_capability("studio")
def package_export():
    number, archive = package_archive.export_current()
    return send_file(io.BytesIO(archive), mimetype="application/zip", as_attachment=True,
                     download_name=f"paquet-processus-v{number}.zip")


@bp.post("/paquet/import")
@access.require_capability("studio")
def package_import():
    """« Importer » an archive: its diagrams and data become drafts, checked, nothing deployed."""
    upload = request.files.get("archive")
    if upload is None or not upload.filename:
        raise processes.StudioError("Choisissez l'archive zip du paquet de processus à importer.")
    done = package_archive.import_archive(upload.read(), access.current_actor())
    db.session.commit()
    drafted = [f"« {name} »" for name in (*done.files, *done.sections)]
    flash("Archive importée, rien n'est déployé. " + (f"Brouillons : {', '.join(drafted)}." if drafted else
          "Elle est identique au paquet déployé : aucun brouillon."), "success")
    for problem in done.problems:
        flash(str(problem), "error")
    return redirect(url_for(".index"), code=303)


@bp.post("/fichiers/<file_name>/abandonner")
@access.require_capability("studio")
def discard(file_name):
    processes.discard_draft(file_name)
    db.session.commit()
    flash(f"Le brouillon de « {file_name} » a été abandonné.", "info")
    return redirect(url_for(".index"), code=303)
