"""The one generic task view: whatever user task is ready for the current user's lane, render the
form it names, validate, complete, run the engine, commit, redirect. The step always comes from
the engine, never from the URL."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from jinja2 import TemplateNotFound
from werkzeug.datastructures import CombinedMultiDict

import forms

from .. import access, metrics
from ..engine import Run
from ..extensions import db
from ..services import incidents, steps

bp = Blueprint("tasks", __name__)


NOTHING_TO_DO = ("Aucune étape de votre demande n'attend de saisie de votre part pour le moment. "
                 "Si la situation persiste, contactez l'assistance en indiquant l'adresse de cette page.")


def _no_task(enrolment):
    """What to answer when no user task is ready for the current user's lane."""
    if enrolment.is_draft:  # a draft always waits on the supplier: a diagram problem, not a loop
        return render_template("errors/error.html", code=409, title="Demande en attente",
                               message=NOTHING_TO_DO), 409
    if request.method == "POST" and access.role() is None:  # e.g. a second « Terminer »
        return render_template("enrolment/confirmation.html", enrolment=enrolment, message=steps.STALE), 409
    if request.method == "POST":  # e.g. a decision already recorded from another tab
        return render_template("errors/error.html", code=409, title="Action déjà enregistrée", message=steps.STALE,
                               back_url=_request_page(enrolment)), 409
    return redirect(_request_page(enrolment), code=303)


@bp.errorhandler(forms.FormUnavailable)
def _form_unavailable(error):
    """A form the package and the task data cannot build (e.g. a failing ``documentTypes``)."""
    return render_template("errors/error.html", code=503, title="Étape momentanément indisponible",
                           message=str(error)), 503


def _request_page(enrolment) -> str:
    """Where the current user follows a request that waits on nobody of their lane."""
    if access.filled_in_this_browser(enrolment):  # just submitted: its confirmation
        return url_for("enrolment.after_steps", public_id=enrolment.public_id)
    if access.can("supplier_space"):
        return url_for("supplier.detail", public_id=enrolment.public_id)
    if access.can("see_requests"):
        return url_for("agent.review", public_id=enrolment.public_id)
    return url_for("enrolment.after_steps", public_id=enrolment.public_id)


def _render(enrolment, task, form, status=200, message=None, success=False):
    context = dict(enrolment=enrolment, task=task, form=form, message=message, success=success)
    try:
        return render_template(f"forms/{task.form_key}.html", **context), status
    except TemplateNotFound:
        return render_template("task.html", **context), status


@bp.route("/demandes/<public_id>/etape", methods=["GET", "POST"])
def step(public_id):
    enrolment = access.load_request(public_id)
    if incidents.is_held(enrolment):  # nothing moves until the failed task is retried
        return render_template("incidents/held.html", enrolment=enrolment), 503
    lanes = access.current_lanes()
    run = Run.load(enrolment.instance, enrolment)
    task = run.ready_task_in(lanes)
    if task is None:
        return _no_task(enrolment)
    lane = task.lane
    refusal = access.may_complete(enrolment, run, task)
    if refusal and request.method == "GET" and access.can("see_requests"):
        # Staff: the request's page says why (hold it first, or someone else must do this step) and
        # offers what they may do; e.g. right after their decision, when the next step is not theirs.
        flash(refusal, "info")
        return redirect(_request_page(enrolment), code=303)
    if refusal:
        return render_template("errors/error.html", code=403, title="Action impossible", message=refusal), 403
    if request.method == "GET":
        page = _render(enrolment, task, forms.build(task, enrolment))
        run.release()  # unchanged: the form's POST takes it back (app/engine/cache.py)
        return page

    with metrics.STEP_SECONDS.labels(task.form_key or "-").time():
        form = forms.build(task, enrolment, CombinedMultiDict((request.files, request.form)))
        outcome = steps.submit(enrolment, run, task, form, posted_task_id=request.form.get("_task", ""),
                               action=request.form.get("_action", "next"), lane=lane,
                               actor=access.current_actor(), actor_id=access.current_user_id())
        db.session.commit()  # whatever the outcome: the accepted files, the step, or nothing (stale)
    if outcome.done:
        run.release()  # as saved: the next page takes it back
        return redirect(url_for(".step", public_id=public_id), code=303)
    if outcome.success:  # the task stays open: show it again, fresh, with the success message
        return _render(enrolment, task, forms.build(task, enrolment), 200, outcome.message, success=True)
    if outcome.stale:  # show the step the request is really at
        run = Run.load(enrolment.instance, enrolment)
        task = run.ready_task(lane)
        if task is None:
            return _no_task(enrolment)
        form = forms.build(task, enrolment)
    return _render(enrolment, task, form, outcome.status, outcome.message)
