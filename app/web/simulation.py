"""« Processus » › « Simuler »: run a process of the draft package in a sandbox (app/services/
simulation.py): start it with sample data, fill each user task's real form, « Avancer de N jours »,
and read beside the run what it did (path on the diagram, statuses, mails, task data, incidents).
Every page that shows the current form builds it inside the simulation's sandbox (rolled back)."""
import json

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import CombinedMultiDict

import forms

from .. import access
from ..extensions import db
from ..models import Simulation
from ..services import simulation

bp = Blueprint("simulation", __name__, url_prefix="/processus/simulations")


@bp.errorhandler(simulation.SimulationError)
def _refused(error):
    flash(str(error), "error")
    for problem in error.problems:
        flash(str(problem), "error")
    found = request.view_args.get("simulation_id") if request.view_args else None
    back = url_for(".show", simulation_id=found) if found and request.endpoint != "simulation.show" else None
    return redirect(back or url_for(".index"), code=303)


@bp.errorhandler(StaleDataError)
def _moved_meanwhile(error):
    db.session.rollback()
    flash("La simulation a avancé entre-temps (depuis un autre onglet, par exemple) : la page montre maintenant "
          "où elle en est.", "error")
    found = request.view_args.get("simulation_id") if request.view_args else None
    return redirect(url_for(".show", simulation_id=found) if found else url_for(".index"), code=303)


@bp.errorhandler(forms.FormUnavailable)
def _form_unavailable(error):
    return render_template("errors/error.html", code=503, title="Étape impossible à simuler",
                           message=str(error)), 503


def _load(simulation_id: int) -> Simulation:
    return db.get_or_404(Simulation, simulation_id)


@bp.get("")
@access.require_capability("studio")
def index():
    rows = db.session.scalars(db.select(Simulation).order_by(Simulation.id.desc()).limit(50)).all()
    scenarios = db.session.scalars(db.select(Simulation).where(Simulation.scenario.is_not(None))
                                   .order_by(Simulation.scenario)).all()
    return render_template("simulation/index.html", rows=rows, scenarios=scenarios,
                           processes=simulation.process_ids(simulation.draft_package()[0]))


def _new(chosen: str, sample: str, status: int = 200, element: str = ""):
    sources, data = simulation.draft_package()
    choices = simulation.process_ids(sources)
    chosen = chosen if chosen in choices else (choices[0] if choices else "")
    try:
        given = set(json.loads(sample).get("data") or {})
    except (ValueError, AttributeError):
        given = set()
    return render_template("simulation/new.html", processes=choices, chosen=chosen, sample=sample,
                           elements=simulation.start_elements(chosen, sources) if chosen else [],
                           element=element, given=given,
                           expected=simulation.expected_data(chosen, sources, data) if chosen else []), status


@bp.get("/nouvelle")
@access.require_capability("studio")
def new():
    """The start form: which process, and the sample data (JSON), pre-filled from a demo request."""
    return _new(request.args.get("process", ""), json.dumps(simulation.sample(), ensure_ascii=False, indent=2))


@bp.post("")
@access.require_capability("studio")
def start():
    """« Commencer la simulation »; refused, the form comes back as typed, with the reasons."""
    try:
        sample = simulation.parse_sample(request.form.get("sample", ""))
        found = simulation.start(request.form.get("process", ""), sample, access.current_actor(),
                                 element=request.form.get("element", "").strip() or None)
    except simulation.SimulationError as error:
        for message in (str(error), *map(str, error.problems)):
            flash(message, "error")
        return _new(request.form.get("process", ""), request.form.get("sample", ""), 422,
                    request.form.get("element", ""))
    db.session.commit()
    return redirect(url_for(".show", simulation_id=found.id), code=303)


def _page(found: Simulation, box, form, status=200, message=None):
    task = box.task()
    return render_template("simulation/show.html", simulation=found, task=task, form=form,
                           log=simulation.log(found), incident=simulation.incident(found),
                           standing=simulation.standing(found),
                           message=message), status


@bp.get("/<int:simulation_id>")
@access.require_capability("studio")
def show(simulation_id):
    found = _load(simulation_id)
    with simulation.sandbox(found) as box:
        return _page(found, box, box.form())


@bp.post("/<int:simulation_id>/etape")
@access.require_capability("studio")
def step(simulation_id):
    """Submit the current user task's form, validated as in production."""
    found = _load(simulation_id)
    with simulation.sandbox(found) as box:
        task = box.task()
        if task is None or request.form.get("_task") != task.id:
            raise simulation.SimulationError("Cette étape n'attend plus de saisie : la page montre l'étape où en "
                                             "est maintenant la simulation.")
        form = box.form(CombinedMultiDict((request.files, request.form)))
        outcome = box.submit(task, form, request.form.get("_action", "next"))
        if not outcome.done:
            return _page(found, box, form, 422, outcome.message)
    db.session.commit()
    return redirect(url_for(".show", simulation_id=found.id), code=303)


@bp.post("/<int:simulation_id>/avancer")
@access.require_capability("studio")
def advance(simulation_id):
    """« Avancer de N jours »: the virtual clock moves, the timers due meanwhile fire."""
    found = _load(simulation_id)
    try:
        days = int(request.form.get("days", ""))
    except ValueError:
        raise simulation.SimulationError("Indiquez un nombre entier de jours.") from None
    simulation.advance(found, days)
    db.session.commit()
    return redirect(url_for(".show", simulation_id=found.id), code=303)


@bp.get("/<int:simulation_id>/diagramme")
@access.require_capability("studio")
def diagram(simulation_id):
    """The path taken, in the shape js/diagram.js draws ({active, processes: [{id, xml, done, current}]})."""
    where = simulation.where(_load(simulation_id))
    return jsonify(active=where.get("active"), processes=where.get("processes", []))


@bp.post("/<int:simulation_id>/scenario")
@access.require_capability("studio")
def save_scenario(simulation_id):
    """« Enregistrer comme scénario »: « Vérifier » of the package replays it against the drafts."""
    found = _load(simulation_id)
    simulation.save_scenario(found, request.form.get("name", ""))
    db.session.commit()
    flash(f"Scénario « {found.scenario} » enregistré : « Vérifier le paquet » le rejoue avec vos brouillons et "
          "signale ce qui change (chemin, statuts, courriels).", "success")
    return redirect(url_for(".show", simulation_id=found.id), code=303)


@bp.post("/<int:simulation_id>/supprimer")
@access.require_capability("studio")
def delete(simulation_id):
    """« Supprimer la simulation » (a scenario too: « Vérifier » no longer replays it)."""
    found = _load(simulation_id)
    db.session.delete(found)
    db.session.commit()
    flash(f"Simulation {simulation_id} supprimée" + (f", avec le scénario « {found.scenario} »." if found.scenario else "."),
          "info")
    return redirect(url_for(".index"), code=303)
