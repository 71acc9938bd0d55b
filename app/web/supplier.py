"""The supplier's space: « Accueil fournisseur », « Gérer mes demandes d'enrôlement », the detail
of a request. Only the requests of the SIRETs the account was opened for (access.visible_requests,
access.load_request)."""
import re

from flask import Blueprint, render_template, request

from .. import access
from ..models.request import AWAITING_DOCUMENTS, PARTIALLY_VALIDATED, TYPES, EnrolmentRequest
from ..services import listing, timeline

bp = Blueprint("supplier", __name__)

PER_PAGE = 20

#: What the supplier is asked to do, by status: the label of the link (list « Actions », detail
#: page button) to the generic task page, where the diagram's ready task is shown.
ACTIONS = {
    AWAITING_DOCUMENTS: "Déposer des pièces jointes",
    PARTIALLY_VALIDATED: "Ajouter le certificat de référencement",
}


@bp.get("/espace")
@access.require_capability("supplier_space")
def home():
    counts = listing.count_by(access.visible_requests(), EnrolmentRequest.status,
                              listing.SUBMITTED_STATUSES)
    return render_template("supplier/home.html", counts=counts)


@bp.get("/espace/demandes")
@access.require_capability("supplier_space")
def requests():
    criteria = listing.Criteria.from_args(request.args)
    page = listing.paginate(listing.newest_first(criteria.apply(access.visible_requests())),
                            request.args.get("page"), PER_PAGE)
    return render_template("supplier/requests.html", criteria=criteria, page=page,
                           statuses=listing.SUBMITTED_STATUSES, types=TYPES)


@bp.get("/espace/demandes/<public_id>")
@access.require_capability("supplier_space")
def detail(public_id):
    enrolment = access.load_request(public_id)
    return render_template("supplier/detail.html", enrolment=enrolment, timeline=timeline.of(enrolment))


@bp.app_template_global()
def supplier_action(enrolment) -> str | None:
    """The label of what the supplier is asked to do on ``enrolment``, None when nothing."""
    return ACTIONS.get(enrolment.status)


@bp.app_template_filter("short_number")
def short_number(number: str | None) -> str:
    """The request number as the guide's lists and headings show it: ``ENR0565M0`` → ``ENR0565``."""
    return re.sub(r"M\d+$", "", number or "")
