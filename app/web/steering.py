"""« Pilotage » (admins and analysts): how the procedure runs, measured (services.steering), and the
diagram of a process version coloured by how long requests wait at each task (js/steering.js)."""
from flask import Blueprint, abort, jsonify, render_template, request

from .. import access, clock
from ..extensions import db
from ..models import ProcessVersion
from ..services import processes, steering

bp = Blueprint("steering", __name__, url_prefix="/gestion/pilotage")


def _choice(value, allowed, default, problem: str, problems: list):
    """``value`` if it is one of ``allowed``; else ``default``, with ``problem`` said to the user."""
    if value in (None, "") or value in allowed:
        return value or default
    problems.append(problem)
    return default


@bp.get("")
@access.require_capability("steering")
def index():
    problems = []
    current = {version.process_id: version for version in processes.current_versions()}
    process_id = _choice(request.args.get("processus"), current, "",
                         "Processus inconnu : tous les processus sont affichés.", problems)
    weeks = int(_choice(request.args.get("semaines"), [str(p) for p in steering.PERIODS], str(steering.DEFAULT_WEEKS),
                        f"Période inconnue : les {steering.DEFAULT_WEEKS} dernières semaines sont affichées.",
                        problems))
    starts = steering.week_starts(weeks)
    steps = steering.step_times(starts[0], process_id)
    # Without a chosen process, the diagram where the slowest task is.
    slowest = max(steps, key=lambda step: step.median, default=None)
    shown = current.get(process_id) or (slowest and current.get(slowest.process)) or next(iter(current.values()), None)
    versions = steering.versions_of(shown.process_id) if shown else []
    version = _choice(request.args.get("version"), [str(v.id) for v in versions], None,
                      "Version inconnue : la version en service est affichée.", problems)
    version = next((v for v in versions if str(v.id) == version), shown)
    overdue_count, overdue = steering.overdue(process_id)
    return render_template(
        "steering/index.html", problems=problems, processes=list(current.values()), process_id=process_id,
        weeks=weeks, periods=steering.PERIODS, starts=starts,
        statuses=steering.status_weeks(starts, process_id), steps=steps,
        overdue_count=overdue_count, overdue=overdue, versions=versions, version=version,
        heat=steering.heatmap(version, starts[0]) if version else [], grades=steering.GRADES,
        duration=steering.duration_fr, date=clock.date_fr)


@bp.get("/versions/<int:version_id>/diagramme")
@access.require_capability("steering")
def diagram(version_id):
    """The version's BPMN file and each user task's heatmap grade, for js/steering.js."""
    version = db.session.get(ProcessVersion, version_id) or abort(404)
    weeks = request.args.get("semaines", type=int)
    since = steering.week_starts(weeks if weeks in steering.PERIODS else steering.DEFAULT_WEEKS)[0]
    response = jsonify(xml=steering.diagram_xml(version),
                       heat={row.element: row.grade for row in steering.heatmap(version, since) if row.grade})
    response.headers["Cache-Control"] = "private, no-store"
    return response
