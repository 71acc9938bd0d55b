"""The supplier's space: « Accueil fournisseur », « Gérer mes demandes d'enrôlement », the detail
of a request. Only the requests of the SIRETs the account was opened for (access.visible_requests,
access.load_request)."""
import re

from flask import Blueprint, render_template, request, url_for

from .. import access
from ..models.request import TYPES, EnrolmentRequest
from ..package import statuses
from ..services import listing, timeline
from .exports import download

bp = Blueprint("supplier", __name__)

PER_PAGE = 20


@bp.get("/espace")
@access.require_capability("supplier_space")
def home():
    counts = listing.count_by(access.visible_requests(), EnrolmentRequest.status, listing.submitted_statuses())
    return render_template("supplier/home.html", counts=counts)


def _listed(criteria: listing.Criteria):
    return listing.newest_first(criteria.apply(access.visible_requests()))


@bp.get("/espace/demandes")
@access.require_capability("supplier_space")
def requests():
    criteria = listing.Criteria.from_args(request.args)
    page = listing.paginate(_listed(criteria), request.args.get("page"), PER_PAGE,
                            after=request.args.get("after"), before=request.args.get("before"))
    return render_template("supplier/requests.html", criteria=criteria, page=page,
                           statuses=statuses.current().submitted, types=TYPES, hints=listing.HINTS)


@bp.get("/espace/demandes/export.<any(csv, xlsx):extension>")
@access.require_capability("supplier_space")
def export(extension):
    """The supplier's requests that match the list's search, as a file."""
    return download(extension, _listed(listing.Criteria.from_args(request.args)), staff=False)


@bp.get("/espace/demandes/<public_id>")
@access.require_capability("supplier_space")
def detail(public_id):
    enrolment = access.load_request(public_id)
    return render_template("supplier/detail.html", enrolment=enrolment, timeline=timeline.of(enrolment))


@bp.app_template_global()
def supplier_actions(enrolment) -> list[tuple[statuses.Action, str]]:
    """What the request's status asks the supplier to do: (action, the address of its page), the
    links of their list (« Actions ») and of the detail page."""
    return [(action, url_for(action.endpoint, public_id=enrolment.public_id))
            for action in statuses.of(enrolment.status).supplier_actions]


@bp.app_template_filter("short_number")
def short_number(number: str | None) -> str:
    """The request number as the guide's lists and headings show it: ``ENR0565M0`` → ``ENR0565``."""
    return re.sub(r"M\d+$", "", number or "")
