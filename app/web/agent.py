"""The agents' pages: the queue of requests to instruct, a request's review page, claims."""
from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from forms.document_verdict import DocumentVerdictForm
from forms.queue import ALL, QueueFilters

from .. import access
from ..engine import Run
from ..extensions import db
from ..models import EnrolmentRequest, User, WaitingLane
from ..models.document import VERDICT_LABELS
from ..package import statuses
from ..services import audit, claims, documents, listing, verdicts
from .exports import download

bp = Blueprint("agent", __name__, url_prefix="/gestion")

PER_PAGE = 20
# The sort by status is the package's order of statuses (the order of the filter), then the date
# within each status: read status by status (_status_runs), each by its (status, date) index.
SORTS = {"date": lambda: EnrolmentRequest.submitted_at, "number": lambda: EnrolmentRequest.sequence,
         "status": lambda: EnrolmentRequest.submitted_at}


def _status_runs(order: str) -> list:
    """The statuses in the package's order, as conditions. Every stored request has one of them:
    the package refuses to drop a status that a request still has (statuses.py's check)."""
    runs = [EnrolmentRequest.status == code for code in statuses.current().codes()]
    return runs if order == "asc" else runs[::-1]


def _filtered(form: QueueFilters, criteria: listing.Criteria):
    query = criteria.apply(access.visible_requests())
    if not criteria.status and form.status.data != ALL:
        # By default, what waits on the agency, and of that what waits on the user: a ready task in
        # a lane of one of their roles (an analyst, who works in none, follows all of it).
        query = query.where(EnrolmentRequest.status.in_([status.code for status in statuses.current().to_instruct]))
        lanes = access.current_lanes()
        if lanes:
            # A correlated EXISTS, one look-up in waiting_lane's primary key per row, so that the
            # list is read in the order of the sort index and stops at the page (an IN (SELECT …)
            # reads every waiting instance first, then sorts). Its OFFSET 0 keeps PostgreSQL from
            # turning it into a join, whose row estimate (lanes and statuses taken as independent,
            # a third of the true count) makes it sort the whole queue or start parallel workers.
            waits = db.select(WaitingLane.instance_id).where(
                WaitingLane.instance_id == EnrolmentRequest.instance_id, WaitingLane.lane.in_(lanes))
            query = query.where(waits.offset(0).exists())
    query = listing.deposited_between(query, None if form.deposited_from.errors else form.deposited_from.data,
                                      None if form.deposited_to.errors else form.deposited_to.data)
    if form.siret.data:
        query = query.where(EnrolmentRequest.siret == form.siret.data)
    if form.dsr.data and form.dsr.data != ALL:
        query = query.where(EnrolmentRequest.dsr == form.dsr.data)
    return query


def _sorted(query, sort: str, order: str):
    """Sorted by ``sort`` then by id (a total order: rows never move between pages); by status,
    the statuses' order comes from _status_runs."""
    direction = "asc" if order == "asc" else "desc"
    return query.order_by(getattr(SORTS[sort](), direction)(), getattr(EnrolmentRequest.id, direction)())


@dataclass(frozen=True)
class Queue:
    """The queue as the query string asks for it: the filters' form, the filtered and sorted
    select, and the ``runs`` that give the order of a sort by status (listing.paginate)."""

    form: QueueFilters
    select: object
    sort: str
    order: str
    runs: tuple

    @classmethod
    def from_args(cls, args) -> "Queue":
        form = QueueFilters(args)
        form.validate()  # only a date can be wrong: it is shown and ignored
        sort = args.get("sort") if args.get("sort") in SORTS else "date"
        order = "asc" if args.get("order") == "asc" else "desc"
        select = _sorted(_filtered(form, listing.Criteria.from_args(args)), sort, order)
        return cls(form, select, sort, order, tuple(_status_runs(order)) if sort == "status" else ())


@bp.get("/demandes")
@access.require_capability("see_requests")  # analysts follow the requests read-only
def queue():
    shown = Queue.from_args(request.args)
    page = listing.paginate(shown.select, request.args.get("page"), PER_PAGE, after=request.args.get("after"),
                            before=request.args.get("before"),
                            options=[selectinload(EnrolmentRequest.claimed_by)], runs=shown.runs)
    query_args = {key: value for key, value in request.args.items() if key not in ("page", "after", "before") and value}
    return render_template("agent/queue.html", form=shown.form, page=page, sort=shown.sort, order=shown.order,
                           query_args=query_args)


@bp.get("/demandes/export.<any(csv, xlsx):extension>")
@access.require_capability("see_requests")
def export(extension):
    """The queue with its filters and its order, as a file (« Exporter (CSV) », « (Excel) »)."""
    shown = Queue.from_args(request.args)
    return download(extension, shown.select, staff=True, runs=shown.runs)


@bp.get("/demandes/<public_id>")
@access.require_capability("see_requests")
def review(public_id):
    return _review_page(access.load_request(public_id))


def _review_page(enrolment, posted: DocumentVerdictForm | None = None):
    """The review page; ``posted``: a verdict form sent with errors, shown as sent."""
    run = Run.load(enrolment.instance, enrolment)
    task = run.ready_task_in(access.current_lanes())
    chains = verdicts.chains(enrolment)
    # Only the agent who holds the request judges its documents (as only they decide it).
    verdict_forms = {version.document.id: DocumentVerdictForm(version.document.id)
                     for chain in chains for version in chain.versions} if access.holds(enrolment) else {}
    if posted is not None:
        verdict_forms[posted.document_id] = posted
    page = render_template("agent/review.html", enrolment=enrolment, history=audit.for_request(enrolment),
                           agents=claims.assignable_agents() if access.can("reassign") else [],
                           awaiting_decision=task is not None,
                           may_decide=task is not None and not access.may_complete(enrolment, run, task),
                           may_take_over=claims.may_take_over(run, enrolment.claimed_by, current_user),
                           chains=chains, verdict_forms=verdict_forms)
    run.release()  # unchanged: the decision's step page takes it back (app/engine/cache.py)
    return page


@bp.post("/demandes/<public_id>/pieces/<int:document_id>/avis")
@access.require_capability("instruct")
def judge(public_id, document_id):
    """The review grid: « Conforme » / « Non conforme » and its reason, for one document."""
    enrolment = access.load_request(public_id)
    if not access.holds(enrolment):
        return render_template("errors/error.html", code=403, title="Action impossible",
                               message="Prenez d'abord la demande en charge : seul l'agent qui la détient "
                                       "peut juger ses pièces."), 403
    document = documents.filed_one(enrolment, document_id)
    if document is None:
        flash("Cette pièce ne fait pas partie de la demande : aucun avis n'a été enregistré.", "error")
        return redirect(url_for(".review", public_id=public_id, _anchor="grille-pieces"), code=303)
    form = DocumentVerdictForm(document.id, request.form)
    if not form.validate():
        flash("L'avis n'a pas été enregistré : corrigez les erreurs signalées dans la grille des pièces.", "error")
        return _review_page(enrolment, form), 422
    verdicts.judge(document, form.verdict.data, form.reason_code.data, form.reason.data or "",
                   current_user._get_current_object())
    db.session.commit()
    flash(f"Avis enregistré : « {document.original_name} » ({document.label}) est "
          f"{VERDICT_LABELS[form.verdict.data]}.", "success")
    return redirect(url_for(".review", public_id=public_id, _anchor="grille-pieces"), code=303)


@bp.app_template_global()
def request_history(enrolment) -> list:
    """For templates that include agent/_review.html without passing ``history``."""
    return audit.for_request(enrolment)


@bp.app_template_global()
def document_chains(enrolment) -> list:
    """For templates that include agent/_document_grid.html without passing ``chains``."""
    return verdicts.chains(enrolment)


def _claim_action(public_id, change, success: str):
    """Apply ``change(request, me)``, commit, tell the user (``success`` may name {number}, {holder})."""
    enrolment = access.load_request(public_id)
    try:
        change(enrolment, current_user._get_current_object())
    except claims.ClaimError as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        db.session.commit()
        holder = enrolment.claimed_by.display_name if enrolment.claimed_by else ""
        flash(success.format(number=enrolment.number, holder=holder), "success")
    return redirect(url_for(".review", public_id=public_id), code=303)


@bp.post("/demandes/<public_id>/prise-en-charge")
@access.require_capability("instruct")
def claim(public_id):
    return _claim_action(public_id, claims.claim,
                         "Vous avez pris en charge la demande {number}.")


@bp.post("/demandes/<public_id>/liberation")
@access.require_capability("instruct")
def release(public_id):
    return _claim_action(public_id, claims.release,
                         "La demande {number} est libérée : un autre gestionnaire peut la prendre en charge.")


@bp.post("/demandes/<public_id>/reattribution")
@access.require_capability("reassign")
def reassign(public_id):
    agent_id = request.form.get("agent", type=int)
    agent = db.session.get(User, agent_id) if agent_id else None
    return _claim_action(public_id, lambda enrolment, me: claims.reassign(enrolment, agent, me),
                         "La demande {number} est réattribuée à {holder}.")
