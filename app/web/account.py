"""« Mon compte »: the account holder's identity, the SIRETs they act for and, for each, what the
enrolment rules allow (a later funding module reads the same verdicts)."""
from flask import Blueprint, render_template
from flask_login import current_user

from .. import access
from ..services import eligibility

bp = Blueprint("account", __name__)


@bp.get("/espace/compte")
@access.require_capability("supplier_space")
def home():
    sirets = [(a, eligibility.funding_advances_allowed(a.siret), eligibility.may_file_complementary(a.siret))
              for a in current_user.sirets]
    return render_template("supplier/account.html", sirets=sirets)
